/**
 * Azure Monitor as the simulator keeps it: the `AzureDiagnostics` rows Azure OpenAI writes to the Log Analytics
 * workspaces its diagnostic settings name (RequestResponse only; Audit, Trace and AzureOpenAIRequestUsage rows are
 * not produced), and the request samples behind the platform metrics of accounts (TotalCalls, SuccessfulCalls,
 * ClientErrors, ServerErrors) and of sites and slots (Requests, Http2xx … Http5xx). In memory only: not in the
 * state file, emptied by `reset` and by a scenario load. Rows never carry a key, a token or any other secret.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type KqlTable, type KqlType } from './kql';
import { type Account, type DiagnosticSetting, type SimState, type Site, type Workspace, key } from './model';

/** Categories an Azure OpenAI account's diagnostic settings know (logs), and the category groups. */
export const LOG_CATEGORIES = ['Audit', 'RequestResponse', 'Trace', 'AzureOpenAIRequestUsage'];
export const CATEGORY_GROUPS: Record<string, string[]> = { allLogs: LOG_CATEGORIES, audit: ['Audit'] };
export const METRIC_CATEGORIES = ['AllMetrics'];

/** The AzureDiagnostics columns an Azure OpenAI RequestResponse row has, with Log Analytics' types. */
export const AZURE_DIAGNOSTICS_COLUMNS: { name: string; type: KqlType }[] = [
  { name: 'TenantId', type: 'string' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'ResourceId', type: 'string' },
  { name: 'Category', type: 'string' },
  { name: 'ResourceGroup', type: 'string' },
  { name: 'SubscriptionId', type: 'string' },
  { name: 'ResourceProvider', type: 'string' },
  { name: 'Resource', type: 'string' },
  { name: 'ResourceType', type: 'string' },
  { name: 'OperationName', type: 'string' },
  { name: 'ResultType', type: 'string' },
  { name: 'CorrelationId', type: 'string' },
  { name: 'ResultSignature', type: 'string' },
  { name: 'CallerIPAddress', type: 'string' },
  { name: 'DurationMs', type: 'long' },
  { name: 'properties_s', type: 'string' },
  { name: 'Tenant_s', type: 'string' },
  { name: 'location_s', type: 'string' },
  { name: 'event_s', type: 'string' },
  { name: 'SourceSystem', type: 'string' },
  { name: 'Type', type: 'string' },
  { name: '_ResourceId', type: 'string' },
];

/** One AzureDiagnostics row: TimeGenerated in epoch ms (rendered ISO 8601 by the query API). */
export type LogRow = Record<string, string | number>;

export interface DataPlaneCall {
  time: number;
  durationMs: number;
  status: number;
  account: Account;
  operationName: string;
  deployment?: string;
  apiVersion?: string;
  /** The token's oid for token calls; '' for key calls and unauthenticated ones. */
  objectId: string;
  callerIp: string;
  userAgent?: string;
}

interface Sample {
  /** Lower-cased ARM id of the resource (account, site, slot). */
  resource: string;
  time: number;
  status: number;
}

const MAX_ROWS = 50_000;
const MAX_SAMPLES = 200_000;

/** Whether a setting sends `category` to a workspace: an enabled entry naming it or a group containing it. */
export function settingSends(setting: DiagnosticSetting, category: string): boolean {
  return setting.properties.logs.some(
    (l) =>
      l.enabled &&
      (l.category === category ||
        (l.categoryGroup !== undefined && CATEGORY_GROUPS[l.categoryGroup]?.includes(category))),
  );
}

/** The workspace a setting's `workspaceId` names (by ARM id, case-insensitively), if it exists. */
export function workspaceOf(state: SimState, workspaceId: string | undefined): Workspace | undefined {
  return workspaceId ? state.workspaces[key(workspaceId)] : undefined;
}

/**
 * App Service's outbound addresses of a site (its slots share them, as slots of one plan do in Azure): derived
 * from the site's id, in 10.0.0.0/8, so each simulated site has its own. Calls of its workers come from the first.
 */
export function outboundIps(site: Pick<Site, 'id'>): string[] {
  const h = createHash('sha256').update(key(site.id)).digest();
  const base = `10.${h[0]}.${h[1]}`;
  const last = 1 + (h[2] % 250);
  return [`${base}.${last}`, `${base}.${last + 1}`];
}

export class Telemetry {
  /** Rows by lower-cased workspace ARM id, oldest first. */
  private readonly rows = new Map<string, LogRow[]>();
  private samples: Sample[] = [];

  clear(): void {
    this.rows.clear();
    this.samples = [];
  }

  /** A data-plane request: one row per diagnostic setting of the account sending RequestResponse to a workspace. */
  recordDataPlane(state: SimState, call: DataPlaneCall): void {
    this.sample(call.account.id, call.time, call.status);
    const settings = Object.values(state.diagnosticSettings).filter((s) => key(s.resourceId) === key(call.account.id));
    const targets = new Set<string>();
    for (const s of settings) {
      if (!settingSends(s, 'RequestResponse')) continue;
      const ws = workspaceOf(state, s.properties.workspaceId);
      if (ws) targets.add(key(ws.id));
    }
    if (targets.size === 0) return;
    const a = call.account;
    const properties: Record<string, unknown> = {
      apiName: `Azure OpenAI API version ${call.apiVersion ?? ''}`.trim(),
      requestTime: new Date(call.time).toISOString(),
      requestLength: 0,
      responseTime: new Date(call.time + call.durationMs).toISOString(),
      objectId: call.objectId,
      streamType: 'Non-Streaming',
      modelDeploymentName: call.deployment ?? '',
      ...(call.deployment && a.deployments[key(call.deployment)]
        ? {
            modelName: a.deployments[key(call.deployment)].model,
            modelVersion: a.deployments[key(call.deployment)].version,
          }
        : {}),
      ...(call.userAgent ? { userAgent: call.userAgent } : {}),
    };
    for (const target of targets) {
      const ws = state.workspaces[target];
      const row: LogRow = {
        TenantId: ws.customerId,
        TimeGenerated: call.time,
        ResourceId: a.id.toUpperCase(),
        Category: 'RequestResponse',
        ResourceGroup: a.resourceGroup.toUpperCase(),
        SubscriptionId: a.subscriptionId.toUpperCase(),
        ResourceProvider: 'MICROSOFT.COGNITIVESERVICES',
        Resource: a.name.toUpperCase(),
        ResourceType: 'ACCOUNTS',
        OperationName: call.operationName,
        ResultType: call.status < 400 ? 'Success' : 'Failed',
        CorrelationId: randomUUID(),
        ResultSignature: String(call.status),
        CallerIPAddress: call.callerIp,
        DurationMs: call.durationMs,
        properties_s: JSON.stringify(properties),
        Tenant_s: a.location.replace(/\s+/g, '').toLowerCase(),
        location_s: a.location.replace(/\s+/g, '').toLowerCase(),
        event_s: 'ShoeboxCallResult',
        SourceSystem: 'Azure',
        Type: 'AzureDiagnostics',
        _ResourceId: a.id.toLowerCase(),
      };
      const list = this.rows.get(target) ?? [];
      list.push(row);
      if (list.length > MAX_ROWS) list.splice(0, list.length - MAX_ROWS);
      this.rows.set(target, list);
    }
  }

  /** A request the front door of a site or slot answered (status as sent). */
  recordFrontDoor(resourceId: string, time: number, status: number): void {
    this.sample(resourceId, time, status);
  }

  private sample(resourceId: string, time: number, status: number): void {
    this.samples.push({ resource: key(resourceId), time, status });
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
  }

  /** Every row of a workspace (or of all), ingested or not: for tests. */
  allRows(workspaceKey?: string): LogRow[] {
    if (workspaceKey) return [...(this.rows.get(workspaceKey) ?? [])];
    return [...this.rows.values()].flat();
  }

  /** The tables a query of the workspace sees now: rows whose TimeGenerated is at least `ingestionMs` old. */
  tables(workspaceKey: string, now: number, ingestionMs: number): Record<string, KqlTable> {
    const rows = (this.rows.get(workspaceKey) ?? []).filter((r) => Number(r.TimeGenerated) + ingestionMs <= now);
    return { AzureDiagnostics: { columns: AZURE_DIAGNOSTICS_COLUMNS, rows } };
  }

  /** The samples of a resource with `from <= time < to`. */
  samplesOf(resourceId: string, from: number, to: number): { time: number; status: number }[] {
    const k = key(resourceId);
    return this.samples.filter((s) => s.resource === k && s.time >= from && s.time < to);
  }
}
