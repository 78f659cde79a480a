/**
 * Azure Resource Manager's front end, as the simulator plays it: api-version, authentication (Azure's 401 codes
 * and WWW-Authenticate header), subscription and tenant checks, per-principal throttling, resource type and
 * api-version per type, injected faults, RBAC on every call (unmodelled methods too, before their 405), then the
 * resource provider's handler. One generic pipeline; providers only declare routes. Gateway checks: gateway.ts.
 */
import { randomUUID } from 'node:crypto';
import { type SimCore } from '../core';
import { type SimRequest, type SimResponse, SimError, errorResponse, sleep } from '../http';
import { type Fault, defaultError, kindOf } from '../knobs';
import { type Subscription, PRODUCTION } from '../model';
import { roleGrants, findRole, scopeCovers } from '../rbac';
import { effectivePrincipalIds } from '../groups';
import {
  authenticate,
  gatewayError,
  invalidApiVersion,
  invalidResourceType,
  unsupportedApiVersion,
  wrongTenant,
} from './gateway';
import { type PathType, apiVersionsOf, derivedAction, pathType, topLevelType } from './versions';

export { ARM_AUDIENCES } from './gateway';

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
  /** Api-versions this route accepts; default: its resource type's (versions.ts), or any when undeclared. */
  apiVersions?: readonly string[];
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
  /** Top-level types (`Namespace/type`) some route serves: other methods and sub-paths of them are unmodelled. */
  private readonly knownTypes = new Set<string>();

  constructor(private readonly core: SimCore) {}

  add(routes: ArmRoute[]): void {
    for (const route of routes) {
      const segments = split(route.template);
      this.routes.push({ route, segments });
      const t = pathType(segments);
      if (t) this.knownTypes.add(topLevelType(t).toLowerCase());
    }
  }

  private find(
    method: string,
    segments: string[],
  ): { route: ArmRoute; params: Record<string, string> } | 'method' | undefined {
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
      // ARM's own id unless the caller sets the correlation header itself (the SDKs send only a client request id).
      'x-ms-correlation-request-id': String(req.headers['x-ms-correlation-request-id'] ?? randomUUID()),
      'x-ms-routing-request-id': `WESTEUROPE:${new Date().toISOString().replace(/[-:.]/g, '')}:${requestId}`,
    };
    const kind = kindOf(req.method);
    let operation: string | undefined;
    let caller: Caller | undefined;
    let subscription: Subscription | undefined;
    let rateLimit: Record<string, string> = {};
    /** Until the provider's handler runs, an error is the gateway's. */
    let atGateway = true;
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
      const segments = split(req.path).map((s) => decodeURIComponent(s));
      const type = pathType(segments);
      // Matched first so that every log line (a throttled one too) names its operation.
      const found = req.path.includes('//') ? undefined : this.find(req.method, segments);
      if (found && found !== 'method') operation = found.route.operation;
      const subId = /^\/subscriptions\/([^/]+)/i.exec(req.path)?.[1];
      subscription = subId ? this.core.state.subscriptions[subId.toLowerCase()] : undefined;
      caller = authenticate(this.core, req, subscription);
      if (subId && !subscription) {
        throw new SimError(404, 'SubscriptionNotFound', `The subscription '${subId}' could not be found.`);
      }
      if (subscription && subscription.tenantId !== caller.tenantId) {
        throw wrongTenant(this.core, caller.tenantId, subscription.tenantId);
      }

      const budget = this.core.throttler.take(subscription?.id ?? caller.tenantId, caller.objectId, kind);
      rateLimit = {
        [`x-ms-ratelimit-remaining-${subscription ? 'subscription' : 'tenant'}-${kind}`]: String(budget.remaining),
      };
      if (budget.throttled) {
        throw new SimError(
          429,
          'TooManyRequests',
          `Number of '${kind === 'reads' ? 'read' : kind === 'writes' ? 'write' : 'delete'}' requests for subscription '${subscription?.id ?? ''}' actor '${caller.objectId}' exceeded. Please try again after '${budget.retryAfterSec}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
          { 'retry-after': String(budget.retryAfterSec) },
        );
      }

      if (req.path.includes('//')) throw invalidApiVersion(apiVersion);
      const known = type !== undefined && this.knownTypes.has(topLevelType(type).toLowerCase());
      if (!type || (!found && !known)) throw invalidResourceType(type, apiVersion);
      this.checkApiVersion(found && found !== 'method' ? found.route : undefined, type, apiVersion, segments);
      if (!found || found === 'method') {
        // An operation the simulator does not model, on a type it knows: RBAC first, as ARM, then 405.
        const action = derivedAction(req.method, type);
        if (!callerCan(this.core, caller.objectId, action, req.path))
          throw authorizationFailed(caller, action, req.path);
        atGateway = false;
        throw new SimError(405, 'MethodNotAllowed', `The requested method '${req.method}' is not allowed.`);
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
      atGateway = false;
      if (injected.fault && !injected.fault.lroFail) throw faultError(injected.fault);
      out = await route.handler(ctx);
    } catch (err) {
      if (!(err instanceof SimError)) {
        this.core.log(`ARM ${req.method} ${req.path}: ${(err as Error).stack ?? String(err)}`);
        out = errorResponse(new SimError(500, 'InternalServerError', 'An internal server error occurred.'));
      } else {
        out = errorResponse(atGateway ? gatewayError(err) : patchNotFound(req.method, err));
      }
    }
    // Gateway refusals carry no rate-limit budget; everything the provider answers does.
    out.headers = { ...headers, ...(atGateway ? {} : rateLimit), ...(out.headers ?? {}) };
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

  /** 400 `NoRegisteredProviderFound` for an api-version the type (or the route) does not declare. */
  private checkApiVersion(route: ArmRoute | undefined, type: PathType, apiVersion: string, segments: string[]): void {
    const top = topLevelType(type);
    const versions = route?.apiVersions ?? apiVersionsOf(top);
    if (!versions || versions.includes(apiVersion)) return;
    throw unsupportedApiVersion(top, apiVersion, versions, this.locationOf(segments));
  }

  /** The location ARM routes by: the resource group's, or a `locations/{x}` segment; none at subscription level. */
  private locationOf(segments: string[]): string {
    const lower = segments.map((s) => s.toLowerCase());
    const rgAt = lower.indexOf('resourcegroups');
    const sub = this.core.state.subscriptions[lower[1] ?? ''];
    if (rgAt >= 0 && sub) return sub.resourceGroups[lower[rgAt + 1] ?? '']?.location ?? '';
    const locAt = lower.indexOf('locations');
    return locAt >= 0 ? (segments[locAt + 1] ?? '') : '';
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

/** ARM answers a PATCH of a resource that does not exist with `PatchResourceNotFound` (404). */
function patchNotFound(method: string, err: SimError): SimError {
  if (method !== 'PATCH' || err.status !== 404 || err.code !== 'ResourceNotFound') return err;
  return new SimError(404, 'PatchResourceNotFound', err.message, err.headers);
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

export function authorizationFailed(caller: Caller, action: string, scope: string): SimError {
  return new SimError(
    403,
    'AuthorizationFailed',
    `The client '${caller.appId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

/**
 * Control-plane RBAC: active (not deleted) assignments at the scope or above, to the principal or to one of its
 * groups (transitively), with a role granting the action.
 */
export function callerCan(core: SimCore, principalId: string, action: string, scope: string): boolean {
  for (const id of effectivePrincipalIds(core.state, principalId))
    for (const ra of core.assignmentsOf(id)) {
      if (!scopeCovers(ra.scope, scope)) continue;
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
