/**
 * Microsoft.MachineLearningServices as a cutover touches it: workspaces (GET, list, PATCH of identity, primary
 * user-assigned identity and tags), their computes (GET, with identities of their own) and their connections —
 * create (PUT, 200), get, list (`target` and `category` filters, paged), `listsecrets` and delete.
 *
 * Validation, as Azure answers it: a connection names a `category`, a `target` and an `authType` Azure knows; the
 * credentials are the auth type's own (`ApiKey` a `key`, `AccessKey` an `accessKeyId` and `secretAccessKey`, `PAT` a
 * `pat`), and `AAD` or `None` take none (Entra ID: the caller's identity, the workspace's or the compute's); `ApiKey`
 * and `AAD` exist from api-version 2023-08-01-preview on. GET and list never answer credentials: only `listsecrets`.
 * A PATCH's user-assigned identities must be attached with `assign/action` (managed-identity.ts); the primary one must
 * be among them.
 */
import { type SimResponse, SimError, isRecord, jsonBody } from '../http';
import { clone, key } from '../model';
import { type MlConnection, type MlWorkspace, mlWorkspaceId } from '../ml-model';
import { applyIdentity, identityView } from './managed-identity';
import { type ArmContext, type ArmRoute, RG, SUB, badRequest, resourceGroupOf, resourceNotFound } from './router';
import { pageOf } from './paging';
import { isoSeconds } from './account-updates';
import { declareApiVersions } from './versions';

const TYPE = 'Microsoft.MachineLearningServices/workspaces';
const WS = `${RG}/providers/${TYPE}/{ws}`;
const CONNECTION = `${WS}/connections/{connection}`;
const wsScope = (p: Record<string, string>) => mlWorkspaceId(p.sub, p.rg, p.ws);

/** Stable and preview versions of the provider's workspace specs, ascending. */
export const ML_API_VERSIONS = [
  '2022-10-01',
  '2023-04-01',
  '2023-08-01-preview',
  '2023-10-01',
  '2024-01-01-preview',
  '2024-04-01',
  '2024-07-01-preview',
  '2024-10-01',
  '2025-01-01-preview',
  '2025-06-01',
  '2025-09-01',
  '2026-07-01',
] as const;
declareApiVersions(TYPE, ML_API_VERSIONS);

/** Auth types and the credential fields each requires (none: it takes no credentials). */
const AUTH_TYPES: Record<string, readonly string[] | 'optional'> = {
  None: [],
  AAD: [],
  ManagedIdentity: 'optional',
  ApiKey: ['key'],
  AccessKey: ['accessKeyId', 'secretAccessKey'],
  PAT: ['pat'],
  SAS: ['sas'],
  UsernamePassword: ['username', 'password'],
  AccountKey: ['key'],
  ServicePrincipal: 'optional',
  CustomKeys: 'optional',
  OAuth2: 'optional',
};
/** Auth types the provider learnt in 2023-08-01-preview. */
const NEWER_AUTH_TYPES = new Set([
  'AAD',
  'ApiKey',
  'AccessKey',
  'AccountKey',
  'ServicePrincipal',
  'CustomKeys',
  'OAuth2',
]);

function findWorkspace(ctx: ArmContext): MlWorkspace {
  const rg = resourceGroupOf(ctx);
  const ws = ctx.core.state.mlWorkspaces?.[key(mlWorkspaceId(ctx.subscription!.id, rg.name, ctx.params.ws))];
  if (!ws) throw resourceNotFound(TYPE, ctx.params.ws, ctx.params.rg);
  return ws;
}

function findConnection(ctx: ArmContext, ws: MlWorkspace): MlConnection {
  const c = ws.connections[key(ctx.params.connection)];
  if (!c) throw new SimError(404, 'UserError', `Connection ${ctx.params.connection} can't be found in this workspace`);
  return c;
}

export function workspaceView(ctx: ArmContext, ws: MlWorkspace) {
  const identity = identityView(ctx, ws, ',');
  return {
    id: ws.id,
    name: ws.name,
    type: TYPE,
    location: ws.location,
    ...(Object.keys(ws.tags).length ? { tags: ws.tags } : {}),
    identity: identity ?? { type: 'None' },
    sku: { name: 'Basic', tier: 'Basic' },
    properties: {
      provisioningState: 'Succeeded',
      friendlyName: ws.name,
      ...(ws.primaryUserAssignedIdentity ? { primaryUserAssignedIdentity: ws.primaryUserAssignedIdentity } : {}),
      publicNetworkAccess: 'Enabled',
    },
  };
}

const connectionId = (ws: MlWorkspace, c: MlConnection) => `${ws.id}/connections/${c.name}`;

/** A connection as GET and list answer it (no credentials); `listsecrets` adds them. */
export function connectionView(ws: MlWorkspace, c: MlConnection, withSecrets = false) {
  return {
    id: connectionId(ws, c),
    name: c.name,
    type: `${TYPE}/connections`,
    properties: {
      authType: c.authType,
      category: c.category,
      target: c.target,
      ...(Object.keys(c.metadata).length || withSecrets ? { metadata: c.metadata } : {}),
      ...c.extra,
      ...(withSecrets && c.credentials ? { credentials: c.credentials } : {}),
    },
    systemData: {
      createdAt: isoSeconds(c.createdAt),
      createdBy: 'cutover-simulator',
      createdByType: 'Application',
      lastModifiedAt: isoSeconds(c.modifiedAt),
      lastModifiedBy: 'cutover-simulator',
      lastModifiedByType: 'Application',
    },
  };
}

const invalid = (message: string) => badRequest(message, 'UserError');

/** Parses a connection's `properties` as Azure validates them. */
function parseConnection(ctx: ArmContext, name: string, raw: unknown, existing?: MlConnection): MlConnection {
  if (!isRecord(raw) || !isRecord(raw.properties)) throw invalid("The request body must have 'properties'.");
  const { authType, category, target, credentials, metadata, ...extra } = raw.properties;
  const known =
    typeof authType === 'string' ? Object.keys(AUTH_TYPES).find((a) => key(a) === key(authType)) : undefined;
  if (!known || (NEWER_AUTH_TYPES.has(known) && ctx.apiVersion < '2023-08-01-preview'))
    throw invalid(
      `The authType '${String(authType)}' is not supported in api-version ${ctx.apiVersion}. Supported: ${Object.keys(
        AUTH_TYPES,
      )
        .filter((a) => !NEWER_AUTH_TYPES.has(a) || ctx.apiVersion >= '2023-08-01-preview')
        .join(', ')}.`,
    );
  if (typeof category !== 'string' || !category) throw invalid("A connection needs a 'category'.");
  if (typeof target !== 'string' || !target) throw invalid("A connection needs a 'target'.");
  if (metadata !== undefined && (!isRecord(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')))
    throw invalid("'metadata' must map names to strings.");
  const required = AUTH_TYPES[known];
  let creds: Record<string, string> | undefined;
  if (credentials !== undefined && credentials !== null) {
    if (!isRecord(credentials) || Object.values(credentials).some((v) => typeof v !== 'string'))
      throw invalid("'credentials' must map names to strings.");
    if (Array.isArray(required) && required.length === 0)
      throw invalid(`A connection of authType ${known} takes no credentials.`);
    creds = credentials as Record<string, string>;
  }
  const fields: readonly string[] = Array.isArray(required) ? required : [];
  for (const field of fields)
    if (!creds?.[field]) throw invalid(`A connection of authType ${known} needs credentials.${field}.`);
  const now = ctx.core.now();
  return {
    name: existing?.name ?? name,
    authType: known,
    category,
    target,
    ...(creds ? { credentials: clone(creds) } : {}),
    metadata: clone((metadata ?? {}) as Record<string, string>),
    extra: clone(extra),
    createdAt: existing?.createdAt ?? now,
    modifiedAt: now,
  };
}

function putConnection(ctx: ArmContext): SimResponse {
  const ws = findWorkspace(ctx);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/.test(ctx.params.connection))
    throw invalid(
      `Connection name '${ctx.params.connection}' is invalid: 3 to 33 letters, digits, '-' or '_', starting with a letter or digit.`,
    );
  const existing = ws.connections[key(ctx.params.connection)];
  const c = parseConnection(ctx, ctx.params.connection, jsonBody(ctx.req), existing);
  ws.connections[key(c.name)] = c;
  ctx.core.persist();
  return { status: 200, body: connectionView(ws, c) };
}

function listConnections(ctx: ArmContext): SimResponse {
  const ws = findWorkspace(ctx);
  const q = ctx.req.url.searchParams;
  const target = q.get('target');
  const category = q.get('category');
  const items = Object.values(ws.connections)
    .filter((c) => (target === null || c.target === target) && (category === null || key(c.category) === key(category)))
    .map((c) => connectionView(ws, c));
  return { status: 200, body: pageOf(ctx, items) };
}

function patchWorkspace(ctx: ArmContext): SimResponse {
  const ws = findWorkspace(ctx);
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request content was invalid and could not be deserialized.');
  const next = clone(ws);
  if (body.identity !== undefined)
    applyIdentity(
      ctx,
      next,
      { resourceId: ws.id, principalName: ws.name, writeAction: `${TYPE}/write` },
      body.identity,
    );
  const props = isRecord(body.properties) ? body.properties : body;
  if (typeof props.primaryUserAssignedIdentity === 'string')
    next.primaryUserAssignedIdentity = props.primaryUserAssignedIdentity;
  if (
    next.primaryUserAssignedIdentity &&
    !next.userAssigned.some((u) => key(u) === key(next.primaryUserAssignedIdentity!))
  ) {
    if (props.primaryUserAssignedIdentity !== undefined) {
      // Nothing of the refused PATCH stays: a system principal it made goes again.
      if (next.systemPrincipalId && next.systemPrincipalId !== ws.systemPrincipalId)
        delete ctx.core.state.principals[next.systemPrincipalId];
      throw invalid(
        `The primary user assigned identity '${next.primaryUserAssignedIdentity}' is not among the workspace's user assigned identities.`,
      );
    }
    // Detaching the primary identity leaves the workspace without one.
    delete next.primaryUserAssignedIdentity;
  }
  if (isRecord(body.tags)) next.tags = body.tags as Record<string, string>;
  for (const k of Object.keys(ws) as (keyof MlWorkspace)[]) if (!(k in next)) delete ws[k];
  Object.assign(ws, next);
  ctx.core.persist();
  return { status: 200, body: workspaceView(ctx, ws) };
}

function listWorkspaces(ctx: ArmContext): SimResponse {
  const rg = ctx.params.rg?.toLowerCase();
  const items = Object.values(ctx.core.state.mlWorkspaces ?? {})
    .filter((w) => key(w.subscriptionId) === key(ctx.params.sub) && (!rg || key(w.resourceGroup) === rg))
    .map((w) => workspaceView(ctx, w));
  return { status: 200, body: pageOf(ctx, items) };
}

const READ = `${TYPE}/read`;
const WRITE = `${TYPE}/write`;
const CONN_READ = `${TYPE}/connections/read`;

export const mlWorkspaceRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: WS,
    operation: READ,
    action: READ,
    scope: wsScope,
    handler: (ctx) => ({ status: 200, body: workspaceView(ctx, findWorkspace(ctx)) }),
  },
  { method: 'PATCH', template: WS, operation: WRITE, action: WRITE, scope: wsScope, handler: patchWorkspace },
  {
    method: 'GET',
    template: `${RG}/providers/${TYPE}`,
    operation: READ,
    action: READ,
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listWorkspaces,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/${TYPE}`,
    operation: READ,
    action: READ,
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listWorkspaces,
  },
  {
    method: 'GET',
    template: `${WS}/computes/{compute}`,
    operation: `${TYPE}/computes/read`,
    action: `${TYPE}/computes/read`,
    scope: wsScope,
    handler: (ctx) => {
      const ws = findWorkspace(ctx);
      const c = ws.computes[key(ctx.params.compute)];
      if (!c) throw resourceNotFound(`${TYPE}/computes`, `${ws.name}/${ctx.params.compute}`, ctx.params.rg);
      const identity = identityView(ctx, c, ',');
      return {
        status: 200,
        body: {
          id: `${ws.id}/computes/${c.name}`,
          name: c.name,
          type: `${TYPE}/computes`,
          location: ws.location,
          identity: identity ?? { type: 'None' },
          properties: { computeType: c.computeType, provisioningState: 'Succeeded' },
        },
      };
    },
  },
  {
    method: 'GET',
    template: `${WS}/connections`,
    operation: CONN_READ,
    action: CONN_READ,
    scope: wsScope,
    handler: listConnections,
  },
  {
    method: 'GET',
    template: CONNECTION,
    operation: CONN_READ,
    action: CONN_READ,
    scope: wsScope,
    handler: (ctx) => {
      const ws = findWorkspace(ctx);
      return { status: 200, body: connectionView(ws, findConnection(ctx, ws)) };
    },
  },
  {
    method: 'PUT',
    template: CONNECTION,
    operation: `${TYPE}/connections/write`,
    action: `${TYPE}/connections/write`,
    scope: wsScope,
    handler: putConnection,
  },
  {
    method: 'DELETE',
    template: CONNECTION,
    operation: `${TYPE}/connections/delete`,
    action: `${TYPE}/connections/delete`,
    scope: wsScope,
    handler: (ctx) => {
      const ws = findWorkspace(ctx);
      const k = key(ctx.params.connection);
      const existed = k in ws.connections;
      delete ws.connections[k];
      ctx.core.persist();
      return { status: existed ? 200 : 204 };
    },
  },
  {
    method: 'POST',
    template: `${CONNECTION}/listsecrets`,
    operation: `${TYPE}/connections/listsecrets/action`,
    action: `${TYPE}/connections/listsecrets/action`,
    scope: wsScope,
    handler: (ctx) => {
      const ws = findWorkspace(ctx);
      return { status: 200, body: connectionView(ws, findConnection(ctx, ws), true) };
    },
  },
];
