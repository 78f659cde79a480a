/**
 * The Key Vault secrets data plane, as `@azure/keyvault-secrets` calls it, on each vault's own port:
 * `GET /secrets`, `GET /secrets/{name}/versions`, `GET /secrets/{name}[/{version}]`, `PUT /secrets/{name}`.
 * Challenge-based authentication as Key Vault does it (401 + `WWW-Authenticate: Bearer authorization=…, resource=…`),
 * tokens for `https://vault.azure.net` of the vault's tenant, then Azure RBAC data actions (honouring
 * `propagationMs` like the OpenAI data plane) with Key Vault's 403 `ForbiddenByRbac`, then the secret itself.
 */
import { randomUUID } from 'node:crypto';
import { type SimCore } from './core';
import { principalHasDataAction } from './dataplane';
import { type SimRequest, type SimResponse, isRecord, sleep } from './http';
import { type KeyVault, type SecretVersion, type VaultSecret, key } from './model';
import { newSecretVersion } from './scenario-keyvault';
import { type AccessTokenClaims } from './tokens';

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';
/** Key Vault's first-party application id: tokens may carry it as their audience instead of the URI. */
const KEY_VAULT_APP_ID = 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093';

export const SECRET_ACTIONS = {
  get: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  meta: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  set: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
} as const;

const MAX_PAGE = 25;

class KvFailure extends Error {
  constructor(readonly response: SimResponse) {
    super(`Key Vault answered ${response.status}`);
  }
}

function fail(status: number, code: string, message: string, inner?: string, headers: Record<string, string> = {}) {
  return new KvFailure({
    status,
    headers,
    body: { error: { code, message, ...(inner ? { innerError: { code: inner } } : {}) } },
  });
}

export function findVault(core: SimCore, name: string): KeyVault | undefined {
  return Object.values(core.state.vaults ?? {}).find((v) => key(v.name) === key(name));
}

export type SecretRead =
  | { ok: true; secret: VaultSecret; version: SecretVersion }
  | { ok: false; reason: 'denied' | 'secretNotFound' | 'versionNotFound' | 'disabled' };

/** Reads a secret as `principalId` would: RBAC first (Key Vault authorizes before it looks), then existence. */
export function readSecret(
  core: SimCore,
  vault: KeyVault,
  principalId: string,
  name: string,
  version?: string,
): SecretRead {
  const secret = vault.secrets[key(name)];
  if (!principalHasDataAction(core, principalId, SECRET_ACTIONS.get, `${vault.id}/secrets/${secret?.name ?? name}`))
    return { ok: false, reason: 'denied' };
  if (!secret) return { ok: false, reason: 'secretNotFound' };
  const v = version ? secret.versions.find((x) => x.version === version.toLowerCase()) : secret.versions.at(-1);
  if (!v) return { ok: false, reason: 'versionNotFound' };
  if (!v.enabled) return { ok: false, reason: 'disabled' };
  return { ok: true, secret, version: v };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

function attributes(v: SecretVersion) {
  return {
    enabled: v.enabled,
    created: seconds(v.createdAt),
    updated: seconds(v.updatedAt),
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 90,
  };
}

function secretBundle(vaultUri: string, s: VaultSecret, v: SecretVersion) {
  return {
    value: v.value,
    ...(v.contentType ? { contentType: v.contentType } : {}),
    id: `${vaultUri}secrets/${s.name}/${v.version}`,
    attributes: attributes(v),
    ...tagsOf(v),
  };
}

/** Key Vault leaves `tags` out when a version has none. */
function tagsOf(v: SecretVersion) {
  return Object.keys(v.tags).length ? { tags: { ...v.tags } } : {};
}

function secretItem(id: string, v: SecretVersion) {
  return {
    id,
    ...(v.contentType ? { contentType: v.contentType } : {}),
    attributes: attributes(v),
    ...tagsOf(v),
  };
}

/** One page of `items` with Key Vault's `nextLink` (`$skiptoken`, keeping the api-version and `maxresults`). */
function page(req: SimRequest, vaultUri: string, listPath: string, items: unknown[]) {
  const q = req.url.searchParams;
  const max = q.get('maxresults') === null ? MAX_PAGE : Number(q.get('maxresults'));
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE)
    throw fail(400, 'BadParameter', `maxresults must be an integer between 1 and ${MAX_PAGE}.`);
  let offset = 0;
  const token = q.get('$skiptoken');
  if (token) {
    let parsed: { offset?: unknown } = {};
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    } catch {
      throw fail(400, 'BadParameter', 'The $skiptoken is invalid.');
    }
    offset = typeof parsed.offset === 'number' ? parsed.offset : 0;
  }
  const value = items.slice(offset, offset + max);
  const next = offset + max < items.length;
  const skip = Buffer.from(JSON.stringify({ offset: offset + max })).toString('base64url');
  const apiVersion = encodeURIComponent(q.get('api-version') ?? '');
  return {
    value,
    nextLink: next ? `${vaultUri}${listPath}?api-version=${apiVersion}&$skiptoken=${skip}&maxresults=${max}` : null,
  };
}

interface Route {
  op: keyof typeof SECRET_ACTIONS;
  kind: 'list' | 'versions' | 'get' | 'set';
  name?: string;
  version?: string;
}

function route(method: string, path: string): Route | undefined {
  const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (segs[0]?.toLowerCase() !== 'secrets') return undefined;
  if (method === 'GET' && segs.length === 1) return { op: 'meta', kind: 'list' };
  if (method === 'GET' && segs.length === 3 && segs[2].toLowerCase() === 'versions')
    return { op: 'meta', kind: 'versions', name: segs[1] };
  if (method === 'GET' && (segs.length === 2 || segs.length === 3))
    return { op: 'get', kind: 'get', name: segs[1], ...(segs[2] ? { version: segs[2] } : {}) };
  if (method === 'PUT' && segs.length === 2) return { op: 'set', kind: 'set', name: segs[1] };
  return undefined;
}

function authenticate(core: SimCore, req: SimRequest, vault: KeyVault): AccessTokenClaims {
  const challenge = {
    'www-authenticate': `Bearer authorization="${core.baseUrl}/${vault.tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
  };
  const unauthorized = (message: string) => fail(401, 'Unauthorized', message, undefined, challenge);
  const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  if (!bearer) throw unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
  const check = core.tokens.verify(bearer);
  if (!check.ok) {
    if (check.reason === 'expired') throw unauthorized("[TokenExpired] Error validating token: 'S2S12086'.");
    const header = bearer.split('.')[0];
    throw unauthorized(
      `AKV10046: Unable to resolve the key used for signature validation. EncodedJwtHeader: '${header}'.`,
    );
  }
  const aud = check.claims.aud.replace(/\/+$/, '');
  if (aud.toLowerCase() !== KEY_VAULT_RESOURCE && aud.toLowerCase() !== KEY_VAULT_APP_ID)
    throw unauthorized(`AKV10022: Invalid audience. Expected ${KEY_VAULT_RESOURCE}, found: ${check.claims.aud}.`);
  if (check.claims.tid !== vault.tenantId)
    throw unauthorized(
      `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${vault.tenantId}/, found https://sts.windows.net/${check.claims.tid}/.`,
    );
  return check.claims;
}

function forbidden(vault: KeyVault, claims: AccessTokenClaims, action: string, resource: string): KvFailure {
  const message = [
    'Caller is not authorized to perform action on resource.',
    'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
    `Caller: appid=${claims.appid};oid=${claims.oid};iss=https://sts.windows.net/${claims.tid}/`,
    `Action: '${action}'`,
    `Resource: '${resource.toLowerCase()}'`,
    'Assignment: (not found)',
    'DenyAssignmentId: null',
    'DecisionReason: null ',
    `Vault: ${vault.name};location=${vault.location}`,
    '',
  ].join('\r\n');
  return fail(403, 'Forbidden', message, 'ForbiddenByRbac');
}

function secretNotFound(name: string, version?: string): KvFailure {
  return fail(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}

function handle(
  core: SimCore,
  vault: KeyVault,
  vaultUri: string,
  req: SimRequest,
  r: Route,
  claims: AccessTokenClaims,
) {
  const action = SECRET_ACTIONS[r.op];
  const secret = r.name ? vault.secrets[key(r.name)] : undefined;
  const resource = r.name ? `${vault.id}/secrets/${secret?.name ?? r.name}` : vault.id;
  if (!principalHasDataAction(core, claims.oid, action, resource)) throw forbidden(vault, claims, action, resource);
  if (r.kind === 'list') {
    const items = Object.values(vault.secrets).map((s) =>
      secretItem(`${vaultUri}secrets/${s.name}`, s.versions.at(-1)!),
    );
    return page(req, vaultUri, 'secrets', items);
  }
  if (r.kind === 'versions') {
    if (!secret) throw secretNotFound(r.name!);
    const items = secret.versions.map((v) => secretItem(`${vaultUri}secrets/${secret.name}/${v.version}`, v));
    return page(req, vaultUri, `secrets/${secret.name}/versions`, items);
  }
  if (r.kind === 'get') {
    const read = readSecret(core, vault, claims.oid, r.name!, r.version);
    if (read.ok) return secretBundle(vaultUri, read.secret, read.version);
    if (read.reason === 'disabled')
      throw fail(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    throw secretNotFound(r.name!, r.version);
  }
  return setSecret(core, vault, vaultUri, req, r.name!);
}

function setSecret(core: SimCore, vault: KeyVault, vaultUri: string, req: SimRequest, name: string) {
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(name))
    throw fail(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8') || 'null') as unknown;
  } catch {
    throw fail(400, 'BadParameter', 'The request body is not valid JSON.');
  }
  if (!isRecord(body) || typeof body.value !== 'string')
    throw fail(400, 'BadParameter', "Property 'value' is required and must be a string.");
  const attrs = isRecord(body.attributes) ? body.attributes : {};
  const now = core.now();
  const version: SecretVersion = {
    version: newSecretVersion(),
    value: body.value,
    enabled: typeof attrs.enabled === 'boolean' ? attrs.enabled : true,
    ...(typeof body.contentType === 'string' ? { contentType: body.contentType } : {}),
    tags: isRecord(body.tags) ? Object.fromEntries(Object.entries(body.tags).map(([k, v]) => [k, String(v)])) : {},
    createdAt: now,
    updatedAt: now,
  };
  const secret = (vault.secrets[key(name)] ??= { name, versions: [] });
  secret.versions.push(version);
  core.persist();
  return secretBundle(vaultUri, secret, version);
}

/** Handles one request on a vault's port: faults and latency, the request, then the request log. */
export async function handleVaultRequest(
  core: SimCore,
  vaultName: string,
  vaultUri: string,
  req: SimRequest,
): Promise<SimResponse> {
  const requestId = randomUUID();
  const vault = findVault(core, vaultName);
  const r = route(req.method, req.path);
  const operation = r ? SECRET_ACTIONS[r.op] : undefined;
  const injected = core.faults.take({
    method: req.method,
    path: req.path + req.url.search,
    ...(operation ? { operation } : {}),
  });
  const latency = core.delays.keyVaultLatencyMs + injected.latencyMs;
  if (latency > 0) await sleep(latency);
  let out: SimResponse;
  let principal: string | undefined;
  try {
    if (!vault) throw fail(404, 'VaultNotFound', `The vault '${vaultName}' does not exist.`);
    if (injected.fault?.status !== undefined) {
      const f = injected.fault;
      throw fail(f.status!, f.code ?? 'InjectedFault', f.message ?? `Injected fault (HTTP ${f.status}).`);
    }
    const claims = authenticate(core, req, vault);
    principal = claims.oid;
    if (!req.url.searchParams.get('api-version'))
      throw fail(400, 'BadParameter', 'The request URI contains an invalid or missing api-version query parameter.');
    if (!r) throw fail(404, 'NotFound', `The requested operation ${req.method} ${req.path} was not found.`);
    out = { status: 200, body: handle(core, vault, vaultUri, req, r, claims) };
  } catch (err) {
    if (!(err instanceof KvFailure)) throw err;
    out = err.response;
  }
  out.headers = {
    'x-ms-request-id': requestId,
    'x-ms-keyvault-region': vault?.location ?? 'westeurope',
    'x-ms-keyvault-service-version': '1.9.2425.1',
    'x-ms-keyvault-network-info': 'conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;',
    ...(out.headers ?? {}),
  };
  const code = (out.body as { error?: { code?: string } } | undefined)?.error?.code;
  core.record({
    surface: 'keyvault',
    method: req.method,
    path: `/${vaultName}${req.path}`,
    ...(operation ? { operation } : {}),
    status: out.status,
    ...(principal ? { principal } : {}),
    ...(vault ? { subscription: vault.subscriptionId } : {}),
    ...(out.status >= 400 && code ? { code } : {}),
  });
  core.log(`keyvault ${vaultName} ${req.method} ${req.path} -> ${out.status}${code ? ` ${code}` : ''}`);
  return out;
}
