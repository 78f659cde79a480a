/**
 * Microsoft Entra ID, as far as MSAL's client-credentials flow needs it: the OIDC discovery document, the JWKS,
 * instance discovery (for clients that do not disable it) and the v2.0 token endpoint issuing RS256 access tokens
 * to service principals with client secrets. Errors use Entra's `{ error, error_description, error_codes }` shape.
 */
import { randomUUID } from 'node:crypto';
import { type SimCore } from './core';
import { type SimRequest, type SimResponse } from './http';
import { type Principal, type Tenant } from './model';
import { resourceFromScope } from './tokens';

/** Resources a token can be issued for (the simulator's "resource principals"). */
export const KNOWN_RESOURCES = [
  'https://management.azure.com',
  'https://management.core.windows.net',
  'https://cognitiveservices.azure.com',
  'https://search.azure.com',
  'https://ai.azure.com',
  'https://vault.azure.net',
  'https://graph.microsoft.com',
  'https://api.loganalytics.io',
  'https://metrics.monitor.azure.com',
];

export function isKnownResource(resource: string): boolean {
  const r = resource.replace(/\/+$/, '').toLowerCase();
  return KNOWN_RESOURCES.includes(r);
}

/** Issues an access token for a principal and remembers it as a secret. */
export function issueAccessToken(core: SimCore, principal: Principal, audience: string, lifetimeSec: number) {
  const issued = core.tokens.issue({
    audience: audience.replace(/\/+$/, ''),
    tenantId: principal.tenantId,
    objectId: principal.objectId,
    appId: principal.clientId,
    lifetimeSec,
    ...(principal.kind === 'ManagedIdentity' && principal.resourceId ? { miResourceId: principal.resourceId } : {}),
  });
  core.issuedTokens.add(issued.token);
  return issued;
}

function aadError(status: number, error: string, code: number, description: string): SimResponse {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ');
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

function findTenant(core: SimCore, idOrName: string): Tenant | undefined {
  const k = idOrName.toLowerCase();
  return Object.values(core.state.tenants).find(
    (t) => t.id.toLowerCase() === k || t.name.toLowerCase() === k || `${t.name.toLowerCase()}.onmicrosoft.com` === k,
  );
}

function openIdConfiguration(core: SimCore, tenant: Tenant) {
  const base = `${core.baseUrl}/${tenant.id}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${core.baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function token(core: SimCore, tenant: Tenant, req: SimRequest, scopeOrResource: 'scope' | 'resource'): SimResponse {
  const form = new URLSearchParams(req.body.toString('utf8'));
  let clientId = form.get('client_id') ?? '';
  let secret = form.get('client_secret') ?? '';
  const basic = /^Basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (basic) {
    const [id, s] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    clientId ||= decodeURIComponent(id ?? '');
    secret ||= decodeURIComponent(s ?? '');
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return aadError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`,
    );
  }
  let resource: string;
  if (scopeOrResource === 'scope') {
    const scope = (form.get('scope') ?? '').split(/\s+/).find((s) => /\/\.default$/i.test(s));
    if (!scope) {
      return aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    resource = resourceFromScope(scope);
  } else {
    resource = (form.get('resource') ?? '').replace(/\/+$/, '');
  }
  const principal = Object.values(core.state.principals).find(
    (p) => p.kind === 'Application' && p.clientId.toLowerCase() === clientId.toLowerCase() && p.tenantId === tenant.id,
  );
  if (!principal) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant.name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  if (!secret) {
    return aadError(
      401,
      'invalid_client',
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    );
  }
  if (secret !== principal.secret) {
    return aadError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${principal.clientId}'.`,
    );
  }
  if (!isKnownResource(resource)) {
    return aadError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant.name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }
  const lifetimeSec = Math.max(1, Math.round(core.delays.tokenLifetimeMs / 1000));
  const issued = issueAccessToken(core, principal, resource, lifetimeSec);
  return {
    status: 200,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    body: {
      token_type: 'Bearer',
      expires_in: lifetimeSec,
      ext_expires_in: lifetimeSec,
      ...(scopeOrResource === 'resource' ? { expires_on: String(issued.claims.exp), resource } : {}),
      access_token: issued.token,
    },
  };
}

/** Routes `/{tenant}/…` and `/common/discovery/instance`; undefined when the path is not Entra's. */
export function handleEntra(core: SimCore, req: SimRequest): { response: SimResponse; principal?: string } | undefined {
  const path = req.path.replace(/\/+$/, '');
  if (req.method === 'GET' && /^\/(common|organizations)\/discovery\/instance$/i.test(path)) {
    const host = core.baseUrl.replace(/^https:\/\//, '');
    return {
      response: {
        status: 200,
        body: {
          tenant_discovery_endpoint: `${core.baseUrl}/common/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        },
      },
    };
  }
  const m =
    /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|oauth2\/v2\.0\/token|oauth2\/token|discovery\/v2\.0\/keys|discovery\/keys)$/i.exec(
      path,
    );
  if (!m) return undefined;
  const tenant = findTenant(core, decodeURIComponent(m[1]));
  if (!tenant) {
    return {
      response: aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${m[1]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      ),
    };
  }
  const what = m[2].toLowerCase();
  if (what.includes('openid-configuration') && req.method === 'GET')
    return { response: { status: 200, body: openIdConfiguration(core, tenant) } };
  if (what.includes('keys') && req.method === 'GET') return { response: { status: 200, body: core.tokens.jwks() } };
  if (what.startsWith('oauth2') && req.method === 'POST') {
    const response = token(core, tenant, req, what === 'oauth2/token' ? 'resource' : 'scope');
    return { response };
  }
  return { response: aadError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.') };
}
