/**
 * What Azure Monitor shows about an Azure OpenAI account and its callers: where its RequestResponse diagnostic logs
 * go, who called it over a window (token callers by Entra object id, key callers by address and user agent), the
 * 401/403 it answered, and metric totals of apps and accounts. Read-only; every query text is returned for the
 * evidence. Key calls are told from token calls by `properties_s.objectId`, which is empty for key calls.
 */
import { type LogsQueryResult, LogsQueryResultStatus } from '@azure/monitor-query-logs';
import type { AccountRef } from '../contracts/model';
import type { LogSources, ObservedCaller, TimeWindow } from '../contracts/observation';
import { createLogsClient, createMetricsClient } from './clients';
import type { AzureContext } from './context';
import { azureErrorInfo, statusOf, toFailure } from './errors';
import { PROBE_USER_AGENT } from './http';
import { accountResourceId } from './resources';

/** Diagnostic-log categories and groups that include RequestResponse (the `audit` group has Audit only). */
const REQUEST_LOGS = new Set(['requestresponse', 'alllogs']);

/** Rights whose absence makes usage unobservable rather than the run failed. */
function denied(err: unknown): boolean {
  const status = statusOf(err);
  return status === 401 || status === 403 || status === 404;
}

/** Where the account's RequestResponse logs are sent: each workspace with its query id, or why none can be read. */
export async function logSources(ctx: AzureContext, account: AccountRef): Promise<LogSources> {
  const id = accountResourceId(account);
  const clients = ctx.clients(account.subscriptionId);
  const settings = [];
  try {
    // The SDK's URL template is `/{+resourceUri}/…`: the id goes without its leading slash.
    for await (const s of clients.monitor.diagnosticSettings.list(id.replace(/^\/+/, ''))) settings.push(s);
  } catch (err) {
    if (denied(err))
      return {
        status: 'unobservable',
        why: `the diagnostic settings of ${account.name} could not be read (${azureErrorInfo(err).code ?? statusOf(err)}: needs Microsoft.Insights/diagnosticSettings/read, e.g. Monitoring Reader)`,
      };
    throw toFailure(`reading the diagnostic settings of ${account.name}`, err);
  }
  const workspaceIds = [
    ...new Set(
      settings
        .filter((s) =>
          (s.logs ?? []).some(
            (l) => l.enabled && REQUEST_LOGS.has((l.category ?? l.categoryGroup ?? '').toLowerCase()),
          ),
        )
        .map((s) => s.workspaceId)
        .filter((w): w is string => typeof w === 'string' && w !== ''),
    ),
  ];
  if (workspaceIds.length === 0)
    return {
      status: 'unobservable',
      why:
        settings.length === 0
          ? `${account.name} has no diagnostic setting: its calls are not logged anywhere`
          : `no diagnostic setting of ${account.name} sends RequestResponse logs to a Log Analytics workspace`,
    };
  const workspaces = [];
  for (const workspaceId of workspaceIds) {
    const m =
      /subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.OperationalInsights\/workspaces\/([^/]+)/i.exec(
        workspaceId,
      );
    if (!m) return { status: 'unobservable', why: `${workspaceId} is not a Log Analytics workspace id` };
    try {
      const w = await ctx.clients(m[1]).workspaces.workspaces.get(m[2], m[3]);
      if (!w.customerId) return { status: 'unobservable', why: `workspace ${m[3]} has no query id (customerId)` };
      workspaces.push({ id: workspaceId, customerId: w.customerId });
    } catch (err) {
      if (denied(err))
        return {
          status: 'unobservable',
          why: `workspace ${m[3]} could not be read (${azureErrorInfo(err).code ?? statusOf(err)}: needs Log Analytics Reader)`,
        };
      throw toFailure(`reading workspace ${m[3]}`, err);
    }
  }
  return { status: 'observable', workspaces };
}

/** Every caller of the account over the window, one row per object id (empty for key calls), address and agent. */
export function callersQuery(account: AccountRef): string {
  return [
    'AzureDiagnostics',
    `| where ResourceId =~ '${accountResourceId(account)}' and Category == 'RequestResponse'`,
    '| extend objectId = tostring(parse_json(properties_s).objectId), userAgent = tostring(parse_json(properties_s).userAgent)',
    '| summarize calls = count(), failed = countif(toint(ResultSignature) >= 400), firstSeen = min(TimeGenerated), lastSeen = max(TimeGenerated) by objectId, CallerIPAddress, userAgent',
  ].join('\n');
}

/** The account's 401/403 answers over the window, by caller. */
export function refusalsQuery(account: AccountRef): string {
  return [
    'AzureDiagnostics',
    `| where ResourceId =~ '${accountResourceId(account)}' and Category == 'RequestResponse' and toint(ResultSignature) in (401, 403)`,
    '| extend objectId = tostring(parse_json(properties_s).objectId), userAgent = tostring(parse_json(properties_s).userAgent)',
    '| summarize refused = count(), lastSeen = max(TimeGenerated) by objectId, CallerIPAddress, userAgent',
  ].join('\n');
}

export type QueryOutcome<T> = { readonly ok: true; readonly rows: T } | { readonly ok: false; readonly why: string };

/** Runs a query on every workspace the account's logs go to; rows as objects keyed by column name. */
async function queryAll(
  ctx: AzureContext,
  sources: Extract<LogSources, { status: 'observable' }>,
  query: string,
  window: TimeWindow,
): Promise<QueryOutcome<Record<string, unknown>[]>> {
  const logs = createLogsClient(ctx.credential(), ctx.endpoints);
  const rows: Record<string, unknown>[] = [];
  for (const w of sources.workspaces) {
    let result: LogsQueryResult;
    try {
      result = await logs.queryWorkspace(w.customerId, query, {
        startTime: new Date(window.start),
        endTime: new Date(window.end),
      });
    } catch (err) {
      if (denied(err))
        return {
          ok: false,
          why: `the logs of workspace ${w.id.split('/').pop()} could not be queried (${statusOf(err)})`,
        };
      throw toFailure(`querying workspace ${w.id.split('/').pop()}`, err);
    }
    if (result.status !== LogsQueryResultStatus.Success)
      return { ok: false, why: `the query on ${w.id.split('/').pop()} returned partial results` };
    for (const table of result.tables) {
      const names = table.columnDescriptors.map((c) => c.name ?? '');
      for (const row of table.rows) {
        const r: Record<string, unknown> = Object.fromEntries(names.map((n, i) => [n, row[i]]));
        if (text(r.userAgent) !== PROBE_USER_AGENT) rows.push(r); // cutover's own probes
      }
    }
  }
  return { ok: true, rows };
}

/** A cell as text: strings as they are, anything else (a number, a date) in its JSON form. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/** Who called the account over the window, as its diagnostic logs show. */
export async function observedCallers(
  ctx: AzureContext,
  account: AccountRef,
  sources: Extract<LogSources, { status: 'observable' }>,
  window: TimeWindow,
): Promise<QueryOutcome<ObservedCaller[]>> {
  const r = await queryAll(ctx, sources, callersQuery(account), window);
  if (!r.ok) return r;
  const merged = new Map<string, ObservedCaller>();
  for (const row of r.rows) {
    const objectId = text(row.objectId);
    const ip = text(row.CallerIPAddress);
    const userAgent = text(row.userAgent);
    const k = `${objectId}|${ip}|${userAgent}`;
    const prev = merged.get(k);
    const calls = Number(row.calls ?? 0) + (prev?.calls ?? 0);
    const failed = Number(row.failed ?? 0) + (prev?.failed ?? 0);
    const firstSeen = [iso(row.firstSeen), prev?.firstSeen].filter(Boolean).sort()[0]!;
    const lastSeen = [iso(row.lastSeen), prev?.lastSeen].filter(Boolean).sort().at(-1)!;
    merged.set(k, {
      ...(objectId ? { objectId } : {}),
      ip,
      ...(userAgent ? { userAgent } : {}),
      calls,
      failed,
      firstSeen,
      lastSeen,
    });
  }
  return { ok: true, rows: [...merged.values()].sort((a, b) => b.calls - a.calls) };
}

/** The account's 401/403 answers over the window: the total and the callers refused. */
export async function refusedCalls(
  ctx: AzureContext,
  account: AccountRef,
  sources: Extract<LogSources, { status: 'observable' }>,
  window: TimeWindow,
): Promise<QueryOutcome<{ total: number; callers: string[] }>> {
  const r = await queryAll(ctx, sources, refusalsQuery(account), window);
  if (!r.ok) return r;
  let total = 0;
  const callers: string[] = [];
  for (const row of r.rows) {
    const n = Number(row.refused ?? 0);
    total += n;
    const who = row.objectId ? `identity ${text(row.objectId)}` : `a key caller at ${text(row.CallerIPAddress)}`;
    callers.push(`${who}${row.userAgent ? ` (${text(row.userAgent)})` : ''} ×${n}`);
  }
  return { ok: true, rows: { total, callers } };
}

/** The sum of a metric's per-minute totals over the window (Azure Monitor's batch metrics API). */
export async function metricTotal(
  ctx: AzureContext,
  resource: { readonly id: string; readonly namespace: string; readonly region: string },
  metric: string,
  window: TimeWindow,
): Promise<QueryOutcome<{ total: number; perMinute: { at: string; total: number }[] }>> {
  const client = createMetricsClient(ctx.credential(), ctx.endpoints, resource.region);
  try {
    const [result] = await client.queryResources([resource.id], [metric], resource.namespace, {
      startTime: new Date(window.start),
      endTime: new Date(window.end),
      interval: 'PT1M',
      aggregation: 'total',
    });
    const points = (result?.metrics ?? [])
      .flatMap((m) => m.timeseries ?? [])
      .flatMap((t) => t.data ?? [])
      .map((d) => ({ at: new Date(d.timeStamp).toISOString(), total: d.total ?? 0 }));
    return { ok: true, rows: { total: points.reduce((n, p) => n + p.total, 0), perMinute: points } };
  } catch (err) {
    if (denied(err))
      return {
        ok: false,
        why: `metric ${metric} of ${resource.id.split('/').pop()} could not be read (${statusOf(err)})`,
      };
    throw toFailure(`reading metric ${metric} of ${resource.id.split('/').pop()}`, err);
  }
}

/** One principal's calls of the account over the window, newest first (at most 1,000): time and status. */
export function principalCallsQuery(account: AccountRef, objectId: string): string {
  return [
    'AzureDiagnostics',
    `| where ResourceId =~ '${accountResourceId(account)}' and Category == 'RequestResponse'`,
    '| extend objectId = tostring(parse_json(properties_s).objectId)',
    `| where objectId =~ '${objectId.replace(/[^0-9a-fA-F-]/g, '')}'`,
    '| project TimeGenerated, ResultSignature',
    '| order by TimeGenerated desc',
    '| take 1000',
  ].join('\n');
}

/** A principal's calls of the account over the window: each call's time and HTTP status, newest first. */
export async function principalCalls(
  ctx: AzureContext,
  account: AccountRef,
  sources: Extract<LogSources, { status: 'observable' }>,
  objectId: string,
  window: TimeWindow,
): Promise<QueryOutcome<{ at: string; status: number }[]>> {
  const r = await queryAll(ctx, sources, principalCallsQuery(account, objectId), window);
  if (!r.ok) return r;
  return {
    ok: true,
    rows: r.rows
      .map((row) => ({ at: iso(row.TimeGenerated), status: Number(text(row.ResultSignature)) }))
      .sort((a, b) => b.at.localeCompare(a.at)),
  };
}
