/**
 * Microsoft.OperationalInsights workspaces (GET one, list by resource group / subscription, as
 * `@azure/arm-operationalinsights` 11 reads them at api-version 2025-07-01) and Microsoft.Insights diagnostic
 * settings as an extension resource of Cognitive Services accounts (`@azure/arm-monitor` 8, 2021-05-01-preview):
 * PUT, GET, LIST, DELETE, validated like Azure Monitor (a destination is required, `workspaceId` must name an
 * existing workspace, categories must be the account's).
 */
import { SimError, type SimResponse, isRecord, jsonBody } from '../http';
import {
  type DiagnosticCategorySetting,
  type DiagnosticSetting,
  type Workspace,
  accountId,
  diagnosticSettingKey,
  key,
  workspaceId,
} from '../model';
import { CATEGORY_GROUPS, LOG_CATEGORIES, METRIC_CATEGORIES } from '../monitor';
import { pageOf } from './paging';
import { type ArmContext, type ArmRoute, RG, SUB, badRequest, resourceGroupOf, resourceNotFound } from './router';
import { declareApiVersions } from './versions';

/** Workspace api-versions of the OperationalInsights resource-manager spec (readme tags, stable/preview folders). */
export const WORKSPACE_API_VERSIONS = [
  '2015-11-01-preview',
  '2020-03-01-preview',
  '2020-08-01',
  '2020-10-01',
  '2021-06-01',
  '2021-12-01-preview',
  '2022-10-01',
  '2023-09-01',
  '2025-02-01',
  '2025-07-01',
] as const;
/** The diagnostic-settings api-versions (preview only: there is no stable one; see shared/azure-examples README). */
export const DIAGNOSTIC_SETTINGS_API_VERSIONS = ['2017-05-01-preview', '2021-05-01-preview'] as const;

declareApiVersions('Microsoft.OperationalInsights/workspaces', WORKSPACE_API_VERSIONS);
declareApiVersions('Microsoft.Insights/diagnosticSettings', DIAGNOSTIC_SETTINGS_API_VERSIONS);

const WS_TYPE = 'Microsoft.OperationalInsights/workspaces';
const WORKSPACE = `${RG}/providers/Microsoft.OperationalInsights/workspaces/{workspace}`;
const ACCOUNT = `${RG}/providers/Microsoft.CognitiveServices/accounts/{account}`;
const SETTINGS = `${ACCOUNT}/providers/Microsoft.Insights/diagnosticSettings`;

function workspaceView(ws: Workspace) {
  const created = new Date(ws.createdAt).toISOString();
  return {
    properties: {
      customerId: ws.customerId,
      provisioningState: 'Succeeded',
      sku: { name: 'PerGB2018', lastSkuUpdate: created },
      retentionInDays: 30,
      features: { legacy: 0, searchVersion: 1, enableLogAccessUsingOnlyResourcePermissions: true },
      workspaceCapping: { dailyQuotaGb: -1, quotaNextResetTime: created, dataIngestionStatus: 'RespectQuota' },
      publicNetworkAccessForIngestion: 'Enabled',
      publicNetworkAccessForQuery: 'Enabled',
      createdDate: created,
      modifiedDate: created,
    },
    id: ws.id,
    name: ws.name,
    type: WS_TYPE,
    location: ws.location,
    tags: { ...ws.tags },
  };
}

function getWorkspace(ctx: ArmContext): SimResponse {
  const rg = resourceGroupOf(ctx);
  const ws = ctx.core.state.workspaces[key(workspaceId(ctx.subscription!.id, rg.name, ctx.params.workspace))];
  if (!ws) throw resourceNotFound(WS_TYPE, ctx.params.workspace, ctx.params.rg);
  return { status: 200, body: workspaceView(ws) };
}

function listWorkspaces(ctx: ArmContext): SimResponse {
  if (ctx.params.rg) resourceGroupOf(ctx);
  const sub = key(ctx.params.sub);
  const rg = ctx.params.rg ? key(ctx.params.rg) : undefined;
  const value = Object.values(ctx.core.state.workspaces)
    .filter((w) => key(w.subscriptionId) === sub && (!rg || key(w.resourceGroup) === rg))
    .map(workspaceView);
  return { status: 200, body: pageOf(ctx, value) };
}

// ---------------------------------------------------------------------------------------------------------------
// Diagnostic settings

function accountOf(ctx: ArmContext) {
  const rg = resourceGroupOf(ctx);
  const account = ctx.core.state.accounts[key(accountId(ctx.subscription!.id, rg.name, ctx.params.account))];
  if (!account) throw resourceNotFound('Microsoft.CognitiveServices/accounts', ctx.params.account, ctx.params.rg);
  return account;
}

function settingView(s: DiagnosticSetting) {
  const p = s.properties;
  const opt = (k: keyof DiagnosticSetting['properties']) => (p[k] !== undefined ? { [k]: p[k] } : {});
  return {
    // Azure Monitor answers the extension's id with its own casing of the provider segment.
    id: `${s.resourceId}/providers/microsoft.insights/diagnosticSettings/${s.name}`,
    type: 'Microsoft.Insights/diagnosticSettings',
    name: s.name,
    properties: {
      ...opt('storageAccountId'),
      ...opt('serviceBusRuleId'),
      ...opt('eventHubAuthorizationRuleId'),
      ...opt('eventHubName'),
      ...opt('workspaceId'),
      ...opt('marketplacePartnerId'),
      metrics: p.metrics.map((m) => ({ ...m })),
      logs: p.logs.map((l) => ({ ...l })),
      ...opt('logAnalyticsDestinationType'),
    },
  };
}

const DESTINATIONS = [
  'storageAccountId',
  'serviceBusRuleId',
  'eventHubAuthorizationRuleId',
  'eventHubName',
  'workspaceId',
  'marketplacePartnerId',
  'logAnalyticsDestinationType',
] as const;

function categories(raw: unknown, field: 'logs' | 'metrics'): DiagnosticCategorySetting[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest(`'properties.${field}' must be an array.`);
  return raw.map((e, i) => {
    if (!isRecord(e) || typeof e.enabled !== 'boolean')
      throw badRequest(`'properties.${field}[${i}].enabled' is required and must be a boolean.`);
    const category = typeof e.category === 'string' ? e.category : undefined;
    const group = typeof e.categoryGroup === 'string' ? e.categoryGroup : undefined;
    if (field === 'logs') {
      if ((category === undefined) === (group === undefined))
        throw badRequest(`'properties.logs[${i}]' must have exactly one of 'category' and 'categoryGroup'.`);
      if (category !== undefined && !LOG_CATEGORIES.includes(category))
        throw badRequest(`Category '${category}' is not supported.`);
      if (group !== undefined && !(group in CATEGORY_GROUPS))
        throw badRequest(`Category group '${group}' is not supported.`);
    } else if (category !== undefined && !METRIC_CATEGORIES.includes(category)) {
      throw badRequest(`Category '${category}' is not supported.`);
    }
    const rp = isRecord(e.retentionPolicy) ? e.retentionPolicy : undefined;
    return {
      ...(category !== undefined ? { category } : {}),
      ...(group !== undefined ? { categoryGroup: group } : {}),
      ...(typeof e.timeGrain === 'string' ? { timeGrain: e.timeGrain } : {}),
      enabled: e.enabled,
      ...(rp ? { retentionPolicy: { enabled: rp.enabled === true, days: Number(rp.days ?? 0) } } : {}),
    };
  });
}

function putSetting(ctx: ArmContext): SimResponse {
  const account = accountOf(ctx);
  const body = jsonBody(ctx.req);
  if (!isRecord(body) || !isRecord(body.properties))
    throw badRequest("The request body must contain 'properties'.", 'InvalidRequestContent');
  const p = body.properties;
  const props: DiagnosticSetting['properties'] = {
    logs: categories(p.logs, 'logs'),
    metrics: categories(p.metrics, 'metrics'),
  };
  for (const k of DESTINATIONS) {
    if (p[k] === undefined || p[k] === null) continue;
    if (typeof p[k] !== 'string') throw badRequest(`'properties.${k}' must be a string.`);
    props[k] = p[k];
  }
  if (props.logs.length === 0 && props.metrics.length === 0)
    throw badRequest('At least one log or metric category must be set.');
  const destinations = [
    'storageAccountId',
    'serviceBusRuleId',
    'eventHubAuthorizationRuleId',
    'workspaceId',
    'marketplacePartnerId',
  ];
  if (!destinations.some((k) => (props as Record<string, unknown>)[k]))
    throw badRequest(
      'Diagnostic settings does not have a valid destination. Specify at least one of storage account, event hub, Log Analytics workspace or partner solution.',
    );
  if (props.workspaceId && !ctx.core.state.workspaces[key(props.workspaceId)])
    throw badRequest(
      `Resource '${props.workspaceId}' at path 'properties.workspaceId' does not exist or is not a Log Analytics workspace.`,
    );
  const k = diagnosticSettingKey(account.id, ctx.params.name);
  const existing = ctx.core.state.diagnosticSettings[k];
  const setting: DiagnosticSetting = {
    resourceId: account.id,
    name: existing?.name ?? ctx.params.name,
    properties: props,
  };
  ctx.core.state.diagnosticSettings[k] = setting;
  ctx.core.persist();
  return { status: 200, body: settingView(setting) };
}

function getSetting(ctx: ArmContext): SimResponse {
  const account = accountOf(ctx);
  const s = ctx.core.state.diagnosticSettings[diagnosticSettingKey(account.id, ctx.params.name)];
  if (!s) throw new SimError(404, 'ResourceNotFound', `The diagnostic setting '${ctx.params.name}' doesn't exist.`);
  return { status: 200, body: settingView(s) };
}

function listSettings(ctx: ArmContext): SimResponse {
  const account = accountOf(ctx);
  const value = Object.values(ctx.core.state.diagnosticSettings)
    .filter((s) => key(s.resourceId) === key(account.id))
    .map(settingView);
  // Azure Monitor answers every setting of a resource (at most five) in one page, without nextLink.
  return { status: 200, body: { value } };
}

function deleteSetting(ctx: ArmContext): SimResponse {
  const account = accountOf(ctx);
  const k = diagnosticSettingKey(account.id, ctx.params.name);
  if (!ctx.core.state.diagnosticSettings[k]) return { status: 204 };
  delete ctx.core.state.diagnosticSettings[k];
  ctx.core.persist();
  return { status: 200 };
}

const DS = 'Microsoft.Insights/diagnosticSettings';
const settingScope = (p: Record<string, string>) =>
  `${accountId(p.sub, p.rg, p.account)}/providers/Microsoft.Insights/diagnosticSettings/${p.name}`;
const wsOps = { operation: `${WS_TYPE}/read`, action: `${WS_TYPE}/read` };

export const monitorRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: WORKSPACE,
    ...wsOps,
    scope: (p) => workspaceId(p.sub, p.rg, p.workspace),
    handler: getWorkspace,
  },
  {
    method: 'GET',
    template: `${RG}/providers/Microsoft.OperationalInsights/workspaces`,
    ...wsOps,
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listWorkspaces,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.OperationalInsights/workspaces`,
    ...wsOps,
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listWorkspaces,
  },
  {
    method: 'PUT',
    template: `${SETTINGS}/{name}`,
    operation: `${DS}/write`,
    action: `${DS}/write`,
    scope: settingScope,
    handler: putSetting,
  },
  {
    method: 'GET',
    template: `${SETTINGS}/{name}`,
    operation: `${DS}/read`,
    action: `${DS}/read`,
    scope: settingScope,
    handler: getSetting,
  },
  {
    method: 'DELETE',
    template: `${SETTINGS}/{name}`,
    operation: `${DS}/delete`,
    action: `${DS}/delete`,
    scope: settingScope,
    handler: deleteSetting,
  },
  {
    method: 'GET',
    template: SETTINGS,
    operation: `${DS}/read`,
    action: `${DS}/read`,
    scope: (p) => `${accountId(p.sub, p.rg, p.account)}/providers/Microsoft.Insights/diagnosticSettings`,
    handler: listSettings,
  },
];
