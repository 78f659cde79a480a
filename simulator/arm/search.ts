/**
 * Microsoft.Search search services as a cutover touches them (api-version 2025-05-01 and earlier stable ones):
 * GET, list by resource group and by subscription (paged), createOrUpdate (PUT; 201 created, 200 updated) and
 * update (PATCH; 200): tags, replica and partition counts, and the managed identity — system-assigned,
 * user-assigned (with the linked `assign/action` check ARM makes) or both, `"SystemAssigned, UserAssigned"`. The
 * service answers provisioned at once (`succeeded`, `running`); its `endpoint` is its data plane on the simulator
 * (search.ts). A PUT needs `location` and `sku.name`; replica counts are 1–12, partition counts 1, 2, 3, 4, 6 or 12.
 */
import { isRecord, jsonBody, type SimResponse } from '../http';
import { key } from '../model';
import { type SearchService, searchEndpoint, searchServiceId } from '../search-model';
import { applyIdentity, identityView } from './managed-identity';
import { type ArmContext, type ArmRoute, RG, SUB, badRequest, resourceGroupOf, resourceNotFound } from './router';
import { pageOf } from './paging';
import { declareApiVersions } from './versions';

const TYPE = 'Microsoft.Search/searchServices';
const SERVICE = `${RG}/providers/${TYPE}/{name}`;
const scope = (p: Record<string, string>) => searchServiceId(p.sub, p.rg, p.name);
const WRITE = `${TYPE}/write`;
const SKUS = ['free', 'basic', 'standard', 'standard2', 'standard3', 'storage_optimized_l1', 'storage_optimized_l2'];

declareApiVersions(TYPE, [
  '2015-08-19',
  '2019-10-01-preview',
  '2020-03-13',
  '2020-08-01',
  '2021-04-01-preview',
  '2022-09-01',
  '2023-11-01',
  '2024-03-01-preview',
  '2024-06-01-preview',
  '2025-02-01-preview',
  '2025-05-01',
]);

function find(ctx: ArmContext): SearchService | undefined {
  resourceGroupOf(ctx);
  return ctx.core.state.searchServices?.[key(searchServiceId(ctx.subscription!.id, ctx.params.rg, ctx.params.name))];
}

function mustFind(ctx: ArmContext): SearchService {
  const s = find(ctx);
  if (!s) throw resourceNotFound(TYPE, ctx.params.name, ctx.params.rg);
  return s;
}

export function serviceView(ctx: Pick<ArmContext, 'core'>, s: SearchService) {
  const identity = identityView(ctx as ArmContext, s);
  return {
    id: s.id,
    name: s.name,
    location: s.location,
    type: TYPE,
    tags: { ...s.tags },
    sku: { name: s.sku },
    properties: {
      replicaCount: s.replicaCount,
      partitionCount: s.partitionCount,
      endpoint: searchEndpoint(ctx.core.baseUrl, s.name),
      status: 'running',
      statusDetails: '',
      hostingMode: s.hostingMode,
      computeType: 'Default',
      provisioningState: 'succeeded',
      publicNetworkAccess: 'Enabled',
      networkRuleSet: { ipRules: [], bypass: 'None' },
      privateEndpointConnections: [],
      sharedPrivateLinkResources: [],
      encryptionWithCmk: { enforcement: 'Unspecified', encryptionComplianceStatus: 'Compliant' },
      // Entra or key (keys are not modelled: the simulated data plane refuses an api-key header).
      disableLocalAuth: false,
      authOptions: { aadOrApiKey: { aadAuthFailureMode: 'http401WithBearerChallenge' } },
      dataExfiltrationProtections: [],
      upgradeAvailable: 'notAvailable',
      serviceUpgradedAt: new Date(s.createdAt).toISOString(),
    },
    ...(identity ? { identity } : {}),
    systemData: {
      createdBy: 'simulator',
      createdByType: 'Application',
      createdAt: new Date(s.createdAt).toISOString(),
      lastModifiedBy: 'simulator',
      lastModifiedByType: 'Application',
      lastModifiedAt: new Date(s.createdAt).toISOString(),
    },
  };
}

/** Tags, counts and identity of a PUT or PATCH body, applied to `s`. */
function applyBody(ctx: ArmContext, s: SearchService, body: Record<string, unknown>): void {
  if (body.tags !== undefined) {
    if (!isRecord(body.tags)) throw badRequest("'tags' must be an object of strings.", 'InvalidRequestContent');
    s.tags = Object.fromEntries(Object.entries(body.tags).map(([k, v]) => [k, String(v)]));
  }
  if (body.sku !== undefined) {
    const sku = isRecord(body.sku) ? body.sku.name : undefined;
    if (typeof sku !== 'string' || !SKUS.includes(sku))
      throw badRequest(`The SKU '${String(sku)}' is invalid. Allowed values are ${SKUS.join(', ')}.`, 'InvalidSku');
    if (key(sku) !== key(s.sku) && ctx.req.method === 'PATCH')
      throw badRequest('The SKU of an existing search service cannot be changed.', 'SkuNotChangeable');
    s.sku = sku;
  }
  const props = isRecord(body.properties) ? body.properties : {};
  if (props.replicaCount !== undefined) {
    const n = props.replicaCount;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 12)
      throw badRequest('replicaCount must be an integer between 1 and 12.', 'InvalidReplicaCount');
    s.replicaCount = n;
  }
  if (props.partitionCount !== undefined) {
    const n = props.partitionCount;
    if (typeof n !== 'number' || ![1, 2, 3, 4, 6, 12].includes(n))
      throw badRequest('partitionCount must be 1, 2, 3, 4, 6 or 12.', 'InvalidPartitionCount');
    s.partitionCount = n;
  }
  if (typeof props.hostingMode === 'string') s.hostingMode = props.hostingMode;
  if (body.identity !== undefined && body.identity !== null)
    applyIdentity(ctx, s, { resourceId: s.id, principalName: s.name, writeAction: WRITE }, body.identity);
}

/** `s` becomes `draft` (a property the draft dropped, such as a removed system identity, goes too). */
function commit(s: SearchService, draft: SearchService): void {
  for (const k of Object.keys(s)) if (!(k in draft)) delete (s as unknown as Record<string, unknown>)[k];
  Object.assign(s, draft);
}

function put(ctx: ArmContext): SimResponse {
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request body must be a JSON object.', 'InvalidRequestContent');
  const existing = find(ctx);
  const rg = resourceGroupOf(ctx);
  if (!existing && (typeof body.location !== 'string' || !body.location))
    throw badRequest("The 'location' property is required.", 'LocationRequired');
  if (!existing && !isRecord(body.sku)) throw badRequest("The 'sku' property is required.", 'InvalidSku');
  if (!existing && !/^[a-z0-9](?!.*--)[a-z0-9-]{0,58}[a-z0-9]$/.test(ctx.params.name))
    throw badRequest(`The search service name '${ctx.params.name}' is invalid.`, 'InvalidName');
  const s: SearchService = existing ?? {
    id: searchServiceId(ctx.subscription!.id, rg.name, ctx.params.name),
    subscriptionId: ctx.subscription!.id,
    resourceGroup: rg.name,
    name: ctx.params.name,
    location: String(body.location),
    sku: 'standard',
    replicaCount: 1,
    partitionCount: 1,
    hostingMode: 'Default',
    tags: {},
    userAssigned: [],
    createdAt: ctx.core.now(),
    skillsets: {},
    indexes: {},
    indexers: {},
    dataSources: {},
    etag: 1,
  };
  const draft = structuredClone(s);
  applyBody(ctx, draft, { ...body, identity: body.identity ?? { type: 'None' } });
  commit(s, draft);
  (ctx.core.state.searchServices ??= {})[key(s.id)] = s;
  ctx.core.persist();
  return { status: existing ? 200 : 201, body: serviceView(ctx, s) };
}

function patch(ctx: ArmContext): SimResponse {
  const s = mustFind(ctx);
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request body must be a JSON object.', 'InvalidRequestContent');
  const draft = structuredClone(s);
  applyBody(ctx, draft, body);
  commit(s, draft);
  ctx.core.persist();
  return { status: 200, body: serviceView(ctx, s) };
}

const all = (ctx: ArmContext, rg?: string) =>
  Object.values(ctx.core.state.searchServices ?? {}).filter(
    (s) =>
      key(s.subscriptionId) === key(ctx.subscription!.id) && (rg === undefined || key(s.resourceGroup) === key(rg)),
  );

export const searchRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: SERVICE,
    operation: `${TYPE}/read`,
    action: `${TYPE}/read`,
    scope,
    handler: (ctx) => ({ status: 200, body: serviceView(ctx, mustFind(ctx)) }),
  },
  { method: 'PUT', template: SERVICE, operation: WRITE, action: WRITE, scope, handler: put },
  { method: 'PATCH', template: SERVICE, operation: WRITE, action: WRITE, scope, handler: patch },
  {
    method: 'GET',
    template: `${RG}/providers/${TYPE}`,
    operation: `${TYPE}/read`,
    action: `${TYPE}/read`,
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: (ctx) => {
      resourceGroupOf(ctx);
      return {
        status: 200,
        body: pageOf(
          ctx,
          all(ctx, ctx.params.rg).map((s) => serviceView(ctx, s)),
        ),
      };
    },
  },
  {
    method: 'GET',
    template: `${SUB}/providers/${TYPE}`,
    operation: `${TYPE}/read`,
    action: `${TYPE}/read`,
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: (ctx) => ({
      status: 200,
      body: pageOf(
        ctx,
        all(ctx).map((s) => serviceView(ctx, s)),
      ),
    }),
  },
];
