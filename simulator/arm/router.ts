/**
 * Azure Resource Manager's front end, as the simulator plays it: api-version, authentication (Azure's 401 codes
 * and WWW-Authenticate header), subscription and tenant checks, per-principal throttling, injected faults, RBAC on
 * every call, then the resource provider's handler. One generic pipeline; providers only declare routes.
 */
import { randomUUID } from 'node:crypto';
import { type SimCore } from '../core';
import { type SimRequest, type SimResponse, SimError, errorResponse, sleep } from '../http';
import { type Fault, defaultError, kindOf } from '../knobs';
import { type Subscription, PRODUCTION } from '../model';
import { roleGrants, findRole, scopeCovers } from '../rbac';
import { type AccessTokenClaims, sameAudience } from '../tokens';

export const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.core.windows.net'];

export interface Caller {
  objectId: string;
  appId: string;
  tenantId: string;
}

export interface ArmContext {
  readonly core: SimCore;
  readonly req: SimRequest;
  readonly params: Record<string, string>;
  readonly caller: Caller;
  readonly subscription?: Subscription;
  readonly apiVersion: string;
  /** An injected fault asking this request's LRO to end Failed. */
  readonly lroFail?: { code: string; message: string; status?: number };
  /** Throws Azure's 403 `AuthorizationFailed` unless the caller holds `action` at `scope`. */
  authorize(action: string, scope: string): void;
  /** Whether the caller holds `action` at `scope`. */
  can(action: string, scope: string): boolean;
}

export interface ArmRoute {
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  /** Path template: `{name}` captures a segment, `{*name}` any number of segments (possibly none). */
  template: string;
  /** Operation name for the request log and fault matching (`Microsoft.Web/sites/config/appsettings/write`). */
  operation: string;
  /** RBAC action checked before the handler at `scope(params)`; `null` when the handler authorizes itself. */
  action: string | null;
  scope?: (p: Record<string, string>) => string;
  handler: (ctx: ArmContext) => SimResponse | Promise<SimResponse>;
}

function match(template: string[], path: string[], params: Record<string, string>): boolean {
  if (template.length === 0) return path.length === 0;
  const [head, ...rest] = template;
  if (head.startsWith('{*')) {
    const name = head.slice(2, -1);
    for (let i = 0; i <= path.length; i++) {
      if (match(rest, path.slice(i), params)) {
        params[name] = path.slice(0, i).length ? `/${path.slice(0, i).join('/')}` : '';
        return true;
      }
    }
    return false;
  }
  if (path.length === 0) return false;
  if (head.startsWith('{')) {
    params[head.slice(1, -1)] = path[0];
  } else if (head.toLowerCase() !== path[0].toLowerCase()) {
    return false;
  }
  return match(rest, path.slice(1), params);
}

const split = (p: string) => p.split('/').filter((s, i) => i > 0 || s !== '');

export class ArmRouter {
  private readonly routes: { route: ArmRoute; segments: string[] }[] = [];

  constructor(private readonly core: SimCore) {}

  add(routes: ArmRoute[]): void {
    for (const route of routes) this.routes.push({ route, segments: split(route.template) });
  }

  private find(
    method: string,
    path: string,
  ): { route: ArmRoute; params: Record<string, string> } | 'method' | undefined {
    const segments = split(path).map((s) => decodeURIComponent(s));
    let methodMismatch = false;
    for (const { route, segments: t } of this.routes) {
      const params: Record<string, string> = {};
      if (!match(t, segments, params)) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { route, params };
    }
    return methodMismatch ? 'method' : undefined;
  }

  async handle(req: SimRequest): Promise<SimResponse> {
    const requestId = randomUUID();
    const headers: Record<string, string> = {
      'x-ms-request-id': requestId,
      'x-ms-correlation-request-id': String(req.headers['x-ms-client-request-id'] ?? requestId),
      'x-ms-routing-request-id': `WESTEUROPE:${new Date().toISOString().replace(/[-:.]/g, '')}:${requestId}`,
    };
    const kind = kindOf(req.method);
    let operation: string | undefined;
    let caller: Caller | undefined;
    let subscription: Subscription | undefined;
    let out: SimResponse;
    try {
      const apiVersion = req.url.searchParams.get('api-version');
      if (!apiVersion) {
        throw new SimError(
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        );
      }
      // Matched first so that every log line (a throttled one too) names its operation.
      const found = req.path.includes('//') ? undefined : this.find(req.method, req.path);
      if (found && found !== 'method') operation = found.route.operation;
      const subId = /^\/subscriptions\/([^/]+)/i.exec(req.path)?.[1];
      subscription = subId ? this.core.state.subscriptions[subId.toLowerCase()] : undefined;
      caller = this.authenticate(req, subscription);
      if (subId && !subscription) {
        throw new SimError(404, 'SubscriptionNotFound', `The subscription '${subId}' could not be found.`);
      }
      if (subscription && subscription.tenantId !== caller.tenantId) {
        throw wrongTenant(this.core, caller.tenantId, subscription.tenantId);
      }

      const budget = this.core.throttler.take(subscription?.id ?? caller.tenantId, caller.objectId, kind);
      headers[`x-ms-ratelimit-remaining-${subscription ? 'subscription' : 'tenant'}-${kind}`] = String(
        budget.remaining,
      );
      if (budget.throttled) {
        throw new SimError(
          429,
          'TooManyRequests',
          `Number of '${kind === 'reads' ? 'read' : kind === 'writes' ? 'write' : 'delete'}' requests for subscription '${subscription?.id ?? ''}' actor '${caller.objectId}' exceeded. Please try again after '${budget.retryAfterSec}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
          { 'retry-after': String(budget.retryAfterSec) },
        );
      }

      if (req.path.includes('//')) {
        throw new SimError(
          400,
          'InvalidApiVersionParameter',
          `The api-version '${apiVersion}' is invalid. The supported versions are '2022-04-01,2025-05-01,2025-09-01,2024-11-30'.`,
        );
      }
      if (found === 'method')
        throw new SimError(405, 'MethodNotAllowed', `The requested method '${req.method}' is not allowed.`);
      if (!found) {
        throw new SimError(
          404,
          'InvalidResourceType',
          `The resource type could not be found in the namespace for api version '${apiVersion}'.`,
        );
      }
      const { route, params } = found;

      const injected = this.core.faults.take({
        method: req.method,
        path: req.path + req.url.search,
        operation,
        action: route.action ?? undefined,
      });
      const latency =
        (kind === 'reads' ? this.core.delays.armReadLatencyMs : this.core.delays.armWriteLatencyMs) +
        injected.latencyMs;
      if (latency > 0) await sleep(latency);

      const ctx = this.context(req, params, caller, subscription, apiVersion, injected.fault);
      if (route.action !== null) ctx.authorize(route.action, route.scope ? route.scope(params) : '/');
      if (injected.fault && !injected.fault.lroFail) throw faultError(injected.fault);
      out = await route.handler(ctx);
    } catch (err) {
      if (!(err instanceof SimError)) {
        this.core.log(`ARM ${req.method} ${req.path}: ${(err as Error).stack ?? String(err)}`);
        out = errorResponse(new SimError(500, 'InternalServerError', 'An internal server error occurred.'));
      } else {
        out = errorResponse(err);
      }
    }
    out.headers = { ...headers, ...(out.headers ?? {}) };
    const code = (out.body as { error?: { code?: string } } | undefined)?.error?.code;
    this.core.record({
      surface: 'arm',
      method: req.method,
      path: req.path,
      ...(operation ? { operation } : {}),
      status: out.status,
      ...(caller ? { principal: caller.objectId } : {}),
      ...(subscription ? { subscription: subscription.id } : {}),
      ...(out.status >= 400 && code ? { code } : {}),
    });
    this.core.log(
      `ARM ${req.method} ${req.path} -> ${out.status}${operation ? ` (${operation})` : ''}${code ? ` ${code}` : ''}`,
    );
    return out;
  }

  private authenticate(req: SimRequest, subscription: Subscription | undefined): Caller {
    const challenge = (description: string) => {
      const authority = `${this.core.baseUrl}/${subscription?.tenantId ?? 'common'}`;
      return {
        'www-authenticate': `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${description}"`,
      };
    };
    const header = req.headers.authorization;
    if (!header) {
      throw new SimError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        challenge("The authentication failed because of missing 'Authorization' header."),
      );
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      throw new SimError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        challenge("The authentication failed because of invalid 'Authorization' header format."),
      );
    }
    const check = this.core.tokens.verify(m[1]);
    if (!check.ok) {
      if (check.reason === 'expired' && check.claims) {
        const fmt = (s: number) => new Date(s * 1000).toISOString();
        throw new SimError(
          401,
          'ExpiredAuthenticationToken',
          `The access token expiry UTC time '${fmt(check.claims.exp)}' is earlier than current UTC time '${new Date().toISOString()}'.`,
          challenge('The access token has expired.'),
        );
      }
      throw new SimError(
        401,
        'InvalidAuthenticationToken',
        'The access token is invalid.',
        challenge('The access token is invalid.'),
      );
    }
    const claims: AccessTokenClaims = check.claims;
    if (!ARM_AUDIENCES.some((a) => sameAudience(a, claims.aud))) {
      throw new SimError(
        401,
        'InvalidAuthenticationToken',
        `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.`,
        challenge('The access token is invalid.'),
      );
    }
    return { objectId: claims.oid, appId: claims.appid, tenantId: claims.tid };
  }

  private context(
    req: SimRequest,
    params: Record<string, string>,
    caller: Caller,
    subscription: Subscription | undefined,
    apiVersion: string,
    fault: Fault | undefined,
  ): ArmContext {
    const core = this.core;
    const can = (action: string, scope: string) => callerCan(core, caller.objectId, action, scope);
    return {
      core,
      req,
      params,
      caller,
      ...(subscription ? { subscription } : {}),
      apiVersion,
      ...(fault?.lroFail
        ? {
            lroFail: {
              ...defaultError(fault.status ?? 500),
              ...pick(fault),
              ...(fault.status ? { status: fault.status } : {}),
            },
          }
        : {}),
      can,
      authorize(action, scope) {
        if (!can(action, scope)) throw authorizationFailed(caller, action, scope);
      },
    };
  }
}

function pick(f: Fault): { code?: string; message?: string } {
  return { ...(f.code ? { code: f.code } : {}), ...(f.message ? { message: f.message } : {}) };
}

function faultError(f: Fault): SimError {
  const d = defaultError(f.status ?? 500);
  return new SimError(
    f.status ?? 500,
    f.code ?? d.code,
    f.message ?? d.message,
    f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec) } : {},
  );
}

function wrongTenant(core: SimCore, tokenTenant: string, subTenant: string): SimError {
  return new SimError(
    401,
    'InvalidAuthenticationTokenTenant',
    `The access token is from the wrong issuer 'https://sts.windows.net/${tokenTenant}/'. It must match the tenant 'https://sts.windows.net/${subTenant}/' associated with this subscription. Please use the authority (URL) '${core.baseUrl}/${subTenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
    {
      'www-authenticate': `Bearer authorization_uri="${core.baseUrl}/${subTenant}", error="invalid_token", error_description="The access token is from the wrong issuer."`,
    },
  );
}

export function authorizationFailed(caller: Caller, action: string, scope: string): SimError {
  return new SimError(
    403,
    'AuthorizationFailed',
    `The client '${caller.appId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

/** Control-plane RBAC: active (not deleted) assignments at the scope or above, with a role granting the action. */
export function callerCan(core: SimCore, principalId: string, action: string, scope: string): boolean {
  for (const ra of Object.values(core.state.roleAssignments)) {
    if (ra.principalId !== principalId || !scopeCovers(ra.scope, scope)) continue;
    const def = findRole(ra.roleDefinitionId);
    if (def && roleGrants(def, action, false)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared by the providers

export const SUB = '/subscriptions/{sub}';
export const RG = `${SUB}/resourceGroups/{rg}`;

export function resourceGroupOf(ctx: ArmContext): { name: string; location: string } {
  const rg = ctx.subscription?.resourceGroups[ctx.params.rg.toLowerCase()];
  if (!rg) throw new SimError(404, 'ResourceGroupNotFound', `Resource group '${ctx.params.rg}' could not be found.`);
  return rg;
}

export function resourceNotFound(type: string, name: string, rg: string): SimError {
  return new SimError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function badRequest(message: string, code = 'BadRequest'): SimError {
  return new SimError(400, code, message);
}

/** `Retry-After` for an LRO still running: the time left, at least a second (0 would mean the SDK's 2 s default). */
export function retryAfter(remainingMs: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(remainingMs / 1000))) };
}

export { PRODUCTION };
