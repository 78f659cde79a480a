/**
 * Microsoft.Web (App Service) as the cutover uses it, for sites and their slots alike: GET (and list, paged),
 * PATCH identity, the web configuration, app settings (list / replace), slot-sticky setting names, slot swap (an
 * LRO polled at `Location`), restart. Settings changes, restarts and swaps recycle the simulated workers (apps.ts).
 * The resource shapes are in web-views.ts.
 */
import { type SimResponse, SimError, isRecord, jsonBody } from '../http';
import { type Site, type SlotState, PRODUCTION, key, siteId, slotResourceId } from '../model';
import { applyIdentity as applyManagedIdentity } from './managed-identity';
import {
  type ArmContext,
  type ArmRoute,
  RG,
  SUB,
  authorizationFailed,
  badRequest,
  resourceGroupOf,
  resourceNotFound,
  retryAfter,
} from './router';
import { pageOf } from './paging';
import { checkSlotLimit } from './server-farms';
import { isFunctionApp, newHostKeys } from '../functions';
import { configView, siteKind, siteView } from './web-views';

const SITE = `${RG}/providers/Microsoft.Web/sites/{name}`;
const SLOT = `${SITE}/slots/{slot}`;

const siteScope = (p: Record<string, string>) => siteId(p.sub, p.rg, p.name);
const slotScope = (p: Record<string, string>) => (p.slot ? `${siteScope(p)}/slots/${p.slot}` : siteScope(p));

function findSite(ctx: ArmContext): Site {
  const rg = resourceGroupOf(ctx);
  const site = ctx.core.state.sites[key(siteId(ctx.subscription!.id, rg.name, ctx.params.name))];
  if (!site) throw resourceNotFound('Microsoft.Web/sites', ctx.params.name, ctx.params.rg);
  return site;
}

/** The site and the slot the route addresses (`production` for the site itself). */
export function findSlot(ctx: ArmContext): { site: Site; slotName: string; slot: SlotState } {
  const site = findSite(ctx);
  const slotName = ctx.params.slot ? ctx.params.slot.toLowerCase() : PRODUCTION;
  const slot = site.slots[slotName];
  if (!slot || (ctx.params.slot && slotName === PRODUCTION)) {
    throw resourceNotFound('Microsoft.Web/sites/slots', `${ctx.params.name}/${ctx.params.slot}`, ctx.params.rg);
  }
  return { site, slotName, slot };
}

// --- identity ------------------------------------------------------------------------------------------------

function applyIdentity(ctx: ArmContext, site: Site, slotName: string, slot: SlotState, identity: unknown): void {
  applyManagedIdentity(
    ctx,
    slot,
    {
      resourceId: slotResourceId(site, slotName),
      principalName: slotName === PRODUCTION ? site.name : `${site.name}/${slot.name}`,
      writeAction: slotName === PRODUCTION ? 'Microsoft.Web/sites/write' : 'Microsoft.Web/sites/slots/write',
    },
    identity,
  );
}

// --- handlers ----------------------------------------------------------------------------------------------------

function getSite(ctx: ArmContext): SimResponse {
  const { site, slotName } = findSlot(ctx);
  return { status: 200, body: siteView(ctx, site, slotName) };
}

function patchSite(ctx: ArmContext): SimResponse {
  const { site, slotName, slot } = findSlot(ctx);
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request body must be a site envelope object.', 'InvalidRequestContent');
  if (body.identity !== undefined) applyIdentity(ctx, site, slotName, slot, body.identity);
  slot.lastModified = ctx.core.now();
  ctx.core.persist();
  return { status: 200, body: siteView(ctx, site, slotName) };
}

function listSlots(ctx: ArmContext): SimResponse {
  const site = findSite(ctx);
  const value = Object.keys(site.slots)
    .filter((s) => s !== PRODUCTION)
    .map((s) => siteView(ctx, site, s));
  return { status: 200, body: pageOf(ctx, value) };
}

/** `GET …/providers/Microsoft.Web/sites` at a subscription or resource group: ARM authorizes the list at that scope. */
function listSites(ctx: ArmContext): SimResponse {
  const sub = ctx.params.sub.toLowerCase();
  const rg = ctx.params.rg?.toLowerCase();
  const value = Object.values(ctx.core.state.sites)
    .filter((site) => site.subscriptionId.toLowerCase() === sub && (!rg || site.resourceGroup.toLowerCase() === rg))
    .map((site) => siteView(ctx, site, PRODUCTION));
  return { status: 200, body: pageOf(ctx, value) };
}

function settingsView(site: Site, slotName: string) {
  const isSlot = slotName !== PRODUCTION;
  return {
    id: `${slotResourceId(site, slotName)}/config/appsettings`,
    name: 'appsettings',
    type: isSlot ? 'Microsoft.Web/sites/slots/config' : 'Microsoft.Web/sites/config',
    kind: siteKind(site),
    properties: { ...site.slots[slotName].settings },
  };
}

function listSettings(ctx: ArmContext): SimResponse {
  const { site, slotName } = findSlot(ctx);
  return { status: 200, body: settingsView(site, slotName) };
}

function putSettings(ctx: ArmContext): SimResponse {
  const { site, slotName, slot } = findSlot(ctx);
  const body = jsonBody(ctx.req);
  const props = isRecord(body) ? body.properties : undefined;
  if (!isRecord(props))
    throw badRequest('The request body must be {"properties": {"NAME": "value"}}.', 'InvalidRequestContent');
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) {
    if (typeof v !== 'string')
      throw badRequest(`The value of app setting '${k}' must be a string.`, 'InvalidRequestContent');
    settings[k] = v;
  }
  slot.settings = settings;
  slot.lastModified = ctx.core.now();
  ctx.core.persist();
  // Changing app settings recycles the app.
  ctx.core.apps.recycle(site, slotName);
  return { status: 200, body: settingsView(site, slotName) };
}

function slotConfigView(site: Site) {
  return {
    id: `${site.id}/config/slotConfigNames`,
    name: 'slotConfigNames',
    type: 'Microsoft.Web/sites/config',
    properties: {
      appSettingNames: [...site.stickySettingNames],
      connectionStringNames: [...site.connectionStringNames],
      azureStorageConfigNames: [],
    },
  };
}

function putSlotConfig(ctx: ArmContext): SimResponse {
  const site = findSite(ctx);
  const body = jsonBody(ctx.req);
  const props = isRecord(body) ? body.properties : undefined;
  if (!isRecord(props)) throw badRequest('The request body must carry properties.', 'InvalidRequestContent');
  const names = (v: unknown, field: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
      throw badRequest(`'${field}' must be an array of strings.`, 'InvalidRequestContent');
    return v as string[];
  };
  site.stickySettingNames = names(props.appSettingNames, 'appSettingNames');
  site.connectionStringNames = names(props.connectionStringNames, 'connectionStringNames');
  ctx.core.persist();
  return { status: 200, body: slotConfigView(site) };
}

/** Settings after a swap: each slot keeps its sticky settings and receives the other's non-sticky ones. */
function swappedSettings(site: Site, into: string, from: string): Record<string, string> {
  const sticky = new Set(site.stickySettingNames.map((n) => n.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(site.slots[from].settings)) if (!sticky.has(k.toLowerCase())) out[k] = v;
  for (const [k, v] of Object.entries(site.slots[into].settings)) if (sticky.has(k.toLowerCase())) out[k] = v;
  return out;
}

function swap(ctx: ArmContext): SimResponse {
  const { site, slotName: source } = findSlot(ctx);
  const body = jsonBody(ctx.req);
  const targetRaw = isRecord(body) ? body.targetSlot : undefined;
  if (typeof targetRaw !== 'string' || !targetRaw)
    throw badRequest("The 'targetSlot' property is required.", 'InvalidRequestContent');
  const target = targetRaw.toLowerCase();
  if (!site.slots[target])
    throw resourceNotFound('Microsoft.Web/sites/slots', `${site.name}/${targetRaw}`, site.resourceGroup);
  if (target === source) throw badRequest('The source and target slots of a swap must differ.');
  const core = ctx.core;
  const busy = Object.values(core.state.operations).some(
    (op) => op.kind === 'slotSwap' && op.status === 'InProgress' && key(op.resourceId).startsWith(key(site.id)),
  );
  if (busy)
    throw new SimError(
      409,
      'Conflict',
      `There is a swap operation in progress for site '${site.name}'. Please retry after the operation completes.`,
    );

  const started = core.now();
  const minMs = core.delays.swapMs;
  const targetSettings = swappedSettings(site, target, source);
  const sourceSettings = swappedSettings(site, source, target);
  const apply = () => {
    site.slots[target].settings = targetSettings;
    site.slots[source].settings = sourceSettings;
    // The content (and with it whether the code supports identities) moves; identities stay with their slot.
    const s = site.slots[source].supportsIdentity;
    site.slots[source].supportsIdentity = site.slots[target].supportsIdentity;
    site.slots[target].supportsIdentity = s;
    site.slots[source].lastModified = site.slots[target].lastModified = core.now();
    core.persist();
  };
  const op = core.startOperation(
    { kind: 'slotSwap', resourceId: slotResourceId(site, source), principalId: ctx.caller.objectId },
    ctx.lroFail ? () => core.wait(minMs) : () => core.apps.swap(site, source, target, { targetSettings, minMs }, apply),
    undefined,
    ctx.lroFail,
  );
  op.target = target;
  const location = `${core.baseUrl}${slotResourceId(site, source)}/operationresults/${op.id}?api-version=${ctx.apiVersion}`;
  return { status: 202, headers: { location, ...retryAfter(started + minMs - core.now()) } };
}

function swapResult(ctx: ArmContext): SimResponse {
  const { site, slotName } = findSlot(ctx);
  const op = ctx.core.state.operations[ctx.params.operationId];
  if (!op || op.kind !== 'slotSwap' || key(op.resourceId) !== key(slotResourceId(site, slotName))) {
    throw new SimError(404, 'NotFound', `Operation '${ctx.params.operationId}' was not found.`);
  }
  if (op.status === 'InProgress') {
    const location = `${ctx.core.baseUrl}${ctx.req.path}${ctx.req.url.search}`;
    return {
      status: 202,
      headers: { location, ...retryAfter(op.startedAt + ctx.core.delays.swapMs - ctx.core.now()) },
    };
  }
  if (op.status === 'Failed') {
    throw new SimError(
      op.error?.status ?? 400,
      op.error?.code ?? 'SwapFailed',
      op.error?.message ?? 'The slot swap failed.',
    );
  }
  return { status: 200 };
}

/** `POST …/host/default/listkeys`: a function app's host keys; other sites have no Functions host. */
function listHostKeys(ctx: ArmContext): SimResponse {
  const { site, slot } = findSlot(ctx);
  if (!isFunctionApp(site))
    throw new SimError(
      400,
      'BadRequest',
      `The site '${site.name}' is not a function app: host keys exist only for sites of kind functionapp.`,
    );
  slot.hostKeys ??= newHostKeys();
  ctx.core.persist();
  const { masterKey, functionKeys, systemKeys } = slot.hostKeys;
  return { status: 200, body: { masterKey, functionKeys: { ...functionKeys }, systemKeys: { ...systemKeys } } };
}

/**
 * `PUT …/slots/{slot}`: creates a deployment slot (empty settings, production's content) or answers an existing one
 * unchanged; the plan's SKU bounds how many a site may have (simulator/arm/server-farms.ts).
 */
function createSlot(ctx: ArmContext): SimResponse {
  const site = findSite(ctx);
  const slotName = ctx.params.slot.toLowerCase();
  if (slotName === PRODUCTION) throw badRequest("'production' is the site itself, not a slot name.");
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request body must be a site envelope object.', 'InvalidRequestContent');
  if (site.slots[slotName]) return { status: 200, body: siteView(ctx, site, slotName) };
  checkSlotLimit(ctx.core.state, site, Object.keys(site.slots).length);
  const slot: SlotState = {
    name: ctx.params.slot,
    settings: {},
    userAssigned: [],
    supportsIdentity: site.slots[PRODUCTION].supportsIdentity,
    lastModified: ctx.core.now(),
    ...(isFunctionApp(site) ? { hostKeys: newHostKeys() } : {}),
  };
  site.slots[slotName] = slot;
  if (body.identity !== undefined) applyIdentity(ctx, site, slotName, slot, body.identity);
  ctx.core.persist();
  ctx.core.apps.recycle(site, slotName);
  return { status: 200, body: siteView(ctx, site, slotName) };
}

function restart(ctx: ArmContext): SimResponse {
  const { site, slotName } = findSlot(ctx);
  ctx.core.apps.recycle(site, slotName);
  return { status: 200 };
}

// --- routes ------------------------------------------------------------------------------------------------------

/** The same operation on a site and on its slots: `Microsoft.Web/sites/…` and `Microsoft.Web/sites/slots/…`. */
function forSiteAndSlot(
  method: ArmRoute['method'],
  suffix: string,
  op: string,
  handler: ArmRoute['handler'],
  action?: string,
): ArmRoute[] {
  const names = (slot: boolean) => {
    const p = slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites';
    return { operation: `${p}${op}`, action: `${p}${action ?? op}` };
  };
  return [
    { method, template: `${SITE}${suffix}`, ...names(false), scope: slotScope, handler },
    { method, template: `${SLOT}${suffix}`, ...names(true), scope: slotScope, handler },
  ];
}

export const webRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.Web/sites`,
    operation: 'Microsoft.Web/sites/read',
    action: 'Microsoft.Web/sites/read',
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listSites,
  },
  {
    method: 'GET',
    template: `${RG}/providers/Microsoft.Web/sites`,
    operation: 'Microsoft.Web/sites/read',
    action: 'Microsoft.Web/sites/read',
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listSites,
  },
  ...forSiteAndSlot('GET', '', '/read', getSite),
  ...forSiteAndSlot('GET', '/config/web', '/config/read', (ctx) => {
    const { site, slotName } = findSlot(ctx);
    return { status: 200, body: configView(site, slotName) };
  }),
  ...forSiteAndSlot('PATCH', '', '/write', patchSite),
  ...forSiteAndSlot(
    'POST',
    '/config/appsettings/list',
    '/config/appsettings/list/action',
    listSettings,
    '/config/list/action',
  ),
  ...forSiteAndSlot('PUT', '/config/appsettings', '/config/appsettings/write', putSettings, '/config/write'),
  ...forSiteAndSlot('POST', '/restart', '/restart/action', restart),
  ...forSiteAndSlot(
    'POST',
    '/host/default/listkeys',
    '/host/default/listkeys/action',
    listHostKeys,
    '/host/listkeys/action',
  ),
  {
    method: 'PUT',
    template: SLOT,
    operation: 'Microsoft.Web/sites/slots/write',
    action: 'Microsoft.Web/sites/slots/write',
    scope: slotScope,
    handler: createSlot,
  },
  ...forSiteAndSlot('GET', '/operationresults/{operationId}', '/operationresults/read', swapResult),
  {
    method: 'GET',
    template: `${SITE}/slots`,
    operation: 'Microsoft.Web/sites/slots/read',
    action: 'Microsoft.Web/sites/slots/read',
    scope: siteScope,
    handler: listSlots,
  },
  {
    method: 'GET',
    template: `${SITE}/config/slotConfigNames`,
    operation: 'Microsoft.Web/sites/config/slotConfigNames/read',
    action: 'Microsoft.Web/sites/config/read',
    scope: siteScope,
    handler: (ctx) => ({ status: 200, body: slotConfigView(findSite(ctx)) }),
  },
  {
    method: 'PUT',
    template: `${SITE}/config/slotConfigNames`,
    operation: 'Microsoft.Web/sites/config/slotConfigNames/write',
    action: 'Microsoft.Web/sites/config/write',
    scope: siteScope,
    handler: putSlotConfig,
  },
  {
    method: 'POST',
    template: `${SLOT}/slotsswap`,
    operation: 'Microsoft.Web/sites/slots/slotsswap/action',
    action: 'Microsoft.Web/sites/slots/slotsswap/action',
    scope: slotScope,
    handler: swap,
  },
  {
    method: 'POST',
    template: `${SITE}/slotsswap`,
    operation: 'Microsoft.Web/sites/slotsswap/action',
    action: 'Microsoft.Web/sites/slotsswap/action',
    scope: siteScope,
    handler: swap,
  },
];

export { authorizationFailed };
