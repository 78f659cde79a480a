/**
 * The two Azure Monitor data planes the simulator serves, each on its own path prefix of the one HTTPS port:
 *
 * - Log Analytics query API (`LogsQueryClient` with `endpoint: https://127.0.0.1:PORT/loganalytics/v1`):
 *   `POST /loganalytics/v1/workspaces/{customerId}/query` `{ query, timespan? }` → `{ tables: [PrimaryResult] }`,
 *   over the workspace's `AzureDiagnostics` rows that have been ingested (simulator/kql.ts for the query language).
 *   Tokens for `https://api.loganalytics.io`; RBAC `Microsoft.OperationalInsights/workspaces/query/read` on the
 *   workspace. Errors in Log Analytics' own shape (`AuthorizationRequiredError`, `InvalidTokenError`,
 *   `InsufficientAccessError`, `WorkspaceNotFoundError`, `BadArgumentError` with Kusto's inner errors).
 * - Azure Monitor metrics batch API (`MetricsClient` with endpoint `https://127.0.0.1:PORT/metrics`):
 *   `POST /metrics/subscriptions/{sub}/metrics:getBatch?starttime&endtime&interval&metricnamespace&metricnames&aggregation`
 *   `{ resourceids }`. Tokens for `https://metrics.monitor.azure.com` or ARM's audience (the SDK's default); RBAC `Microsoft.Insights/metrics/read` on
 *   every resource.
 */
import { randomUUID } from 'node:crypto';
import { ARM_AUDIENCES, callerCan } from './arm/router';
import { type SimCore } from './core';
import { type SimRequest, type SimResponse, isRecord } from './http';
import { KqlError, runKql } from './kql';
import { key } from './model';
import { sameAudience } from './tokens';

export const LOGS_AUDIENCE = 'https://api.loganalytics.io';
export const METRICS_AUDIENCE = 'https://metrics.monitor.azure.com';
export const QUERY_ACTION = 'Microsoft.OperationalInsights/workspaces/query/read';
export const METRICS_ACTION = 'Microsoft.Insights/metrics/read';

interface Caller {
  objectId: string;
  appId: string;
}

function bearer(req: SimRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
}

/** ISO 8601 duration (PnDTnHnMnS, PnW) in ms; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const m =
    /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
      s.trim(),
    );
  if (!m || s.trim().toUpperCase() === 'P' || /T$/i.test(s.trim())) return undefined;
  const [w, d, h, min, sec] = m.slice(1).map((x) => (x ? Number(x) : 0));
  return (((w * 7 + d) * 24 + h) * 60 + min) * 60_000 + sec * 1000;
}

/** An ISO 8601 interval (`start/end`, `start/duration`, `duration/end`) or a duration ending now. */
export function parseTimespan(s: string, now: number): { start: number; end: number } | undefined {
  const parts = s.split('/');
  const time = (x: string) => (/^\d{4}-\d\d-\d\d/.test(x) ? Date.parse(x) : NaN);
  if (parts.length === 1) {
    const d = parseDuration(parts[0]);
    return d === undefined ? undefined : { start: now - d, end: now };
  }
  if (parts.length !== 2) return undefined;
  const [a, b] = parts;
  const ta = time(a);
  const tb = time(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return ta <= tb ? { start: ta, end: tb } : undefined;
  if (!Number.isNaN(ta)) {
    const d = parseDuration(b);
    return d === undefined ? undefined : { start: ta, end: ta + d };
  }
  if (!Number.isNaN(tb)) {
    const d = parseDuration(a);
    return d === undefined ? undefined : { start: tb - d, end: tb };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Log Analytics

function laError(status: number, code: string, message: string, innererror?: Record<string, unknown>): SimResponse {
  return {
    status,
    body: { error: { message, code, correlationId: randomUUID(), ...(innererror ? { innererror } : {}) } },
  };
}

function laAuthenticate(core: SimCore, req: SimRequest, tenantId: string): Caller | SimResponse {
  const token = bearer(req);
  if (!token) return laError(401, 'AuthorizationRequiredError', 'Valid authentication was not provided');
  const check = core.tokens.verify(token, core.now());
  const invalid = (why: string) =>
    laError(401, 'InvalidTokenError', 'The provided authentication is not valid for this resource', {
      code: 'TokenError',
      message: why,
    });
  if (!check.ok)
    return invalid(check.reason === 'expired' ? 'The token has expired' : 'The token could not be validated');
  if (!sameAudience(check.claims.aud, LOGS_AUDIENCE)) return invalid('The Audience is invalid');
  if (check.claims.tid !== tenantId) return invalid('The token was issued for another tenant');
  return { objectId: check.claims.oid, appId: check.claims.appid };
}

export function handleLogAnalytics(core: SimCore, req: SimRequest): { response: SimResponse; principal?: string } {
  const m = /^\/loganalytics\/v1\/workspaces\/([^/]+)\/query\/?$/i.exec(req.path);
  if (!m) return { response: laError(404, 'PathNotFoundError', `The requested path does not exist`) };
  if (req.method !== 'POST')
    return {
      response: laError(405, 'MethodNotAllowedError', `The method '${req.method}' is not supported by the simulator`),
    };
  const customerId = decodeURIComponent(m[1]).toLowerCase();
  const ws = Object.values(core.state.workspaces).find((w) => w.customerId.toLowerCase() === customerId);
  const tenantId = ws ? core.state.subscriptions[key(ws.subscriptionId)]?.tenantId : undefined;
  // Authentication first; for an unknown workspace any tenant's token gets as far as the 404.
  const caller = laAuthenticate(core, req, tenantId ?? core.tokens.verify(bearer(req) ?? '').claims?.tid ?? '');
  if ('status' in caller) return { response: caller };
  if (!ws || !tenantId)
    return {
      principal: caller.objectId,
      response: laError(404, 'WorkspaceNotFoundError', 'The workspace could not be found'),
    };
  if (!callerCan(core, caller.objectId, QUERY_ACTION, ws.id))
    return {
      principal: caller.objectId,
      response: laError(
        403,
        'InsufficientAccessError',
        'The provided credentials have insufficient access to perform the requested operation',
      ),
    };
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8') || 'null');
  } catch {
    body = undefined;
  }
  const bad = (message: string, inner?: Record<string, unknown>) => ({
    principal: caller.objectId,
    response: laError(
      400,
      'BadArgumentError',
      'The request had some invalid properties',
      inner ?? { code: 'QueryValidationError', message },
    ),
  });
  if (!isRecord(body) || typeof body.query !== 'string' || body.query.trim() === '')
    return bad("The 'query' property is required and must be a non-empty string");
  if (body.workspaces !== undefined && body.workspaces !== null)
    return bad('Cross-workspace queries (additional workspaces) are not supported by the simulator');
  const now = core.now();
  let span: { start: number; end: number } | undefined;
  if (body.timespan !== undefined && body.timespan !== null) {
    span = typeof body.timespan === 'string' ? parseTimespan(body.timespan, now) : undefined;
    if (!span) return bad(`Invalid timespan ${JSON.stringify(body.timespan)}: use an ISO 8601 interval or duration`);
  }
  const tables = core.telemetry.tables(key(ws.id), now, core.delays.logIngestionMs);
  if (span) {
    const { start, end } = span;
    for (const t of Object.values(tables))
      t.rows = t.rows.filter((r) => Number(r.TimeGenerated) >= start && Number(r.TimeGenerated) <= end);
  }
  try {
    const result = runKql(body.query, tables, now);
    return {
      principal: caller.objectId,
      response: {
        status: 200,
        body: { tables: [{ name: 'PrimaryResult', columns: result.columns, rows: result.rows }] },
      },
    };
  } catch (err) {
    if (!(err instanceof KqlError)) throw err;
    const syntax = err.kind === 'SyntaxError';
    return bad(err.message, {
      code: err.kind,
      message: syntax ? 'A recognition error occurred in the query.' : 'A semantic error occurred.',
      innererror: {
        code: syntax ? 'SYN0002' : 'SEM0100',
        message: err.message,
        ...(err.where ? { line: err.where.line, pos: err.where.pos, token: err.where.token } : {}),
      },
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Metrics

interface MetricDef {
  name: string;
  localized: string;
  description: string;
  matches: (status: number) => boolean;
}

const SITE_METRICS: MetricDef[] = [
  {
    name: 'Requests',
    localized: 'Requests',
    description: 'The total number of requests regardless of their resulting HTTP status code.',
    matches: () => true,
  },
  {
    name: 'Http2xx',
    localized: 'Http 2xx',
    description: 'The count of requests resulting in an HTTP status code >= 200 but < 300.',
    matches: (s) => s >= 200 && s < 300,
  },
  {
    name: 'Http3xx',
    localized: 'Http 3xx',
    description: 'The count of requests resulting in an HTTP status code >= 300 but < 400.',
    matches: (s) => s >= 300 && s < 400,
  },
  {
    name: 'Http4xx',
    localized: 'Http 4xx',
    description: 'The count of requests resulting in an HTTP status code >= 400 but < 500.',
    matches: (s) => s >= 400 && s < 500,
  },
  {
    name: 'Http5xx',
    localized: 'Http Server Errors',
    description: 'The count of requests resulting in an HTTP status code >= 500 but < 600.',
    matches: (s) => s >= 500,
  },
];

const ACCOUNT_METRICS: MetricDef[] = [
  { name: 'TotalCalls', localized: 'Total Calls', description: 'Total number of calls.', matches: () => true },
  {
    name: 'SuccessfulCalls',
    localized: 'Successful Calls',
    description: 'Number of successful calls.',
    matches: (s) => s < 400,
  },
  {
    name: 'ClientErrors',
    localized: 'Client Errors',
    description: 'Number of calls with client side error (HTTP response code 4xx).',
    matches: (s) => s >= 400 && s < 500,
  },
  {
    name: 'ServerErrors',
    localized: 'Server Errors',
    description: 'Number of calls with service internal error (HTTP response code 5xx).',
    matches: (s) => s >= 500,
  },
];

export const METRIC_NAMESPACES: Record<string, MetricDef[]> = {
  'microsoft.web/sites': SITE_METRICS,
  'microsoft.web/sites/slots': SITE_METRICS,
  'microsoft.cognitiveservices/accounts': ACCOUNT_METRICS,
};

/** The time grains Azure Monitor's metrics API accepts (no sub-minute grains), and FULL. */
const TIME_GRAINS = ['PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H', 'PT6H', 'PT12H', 'P1D'];
const AGGREGATIONS = ['average', 'count', 'minimum', 'maximum', 'total'];

function mError(status: number, code: string, message: string): SimResponse {
  return { status, body: { error: { code, message } } };
}

/** The region and type of a resource id the metrics API can answer for, or undefined. */
function resourceOf(core: SimCore, id: string): { type: string; region: string; id: string } | undefined {
  const k = key(id.replace(/\/+$/, ''));
  const slot = /^(.*\/providers\/microsoft\.web\/sites\/[^/]+)\/slots\/([^/]+)$/.exec(k);
  if (slot) {
    const site = core.state.sites[slot[1]];
    const s = site?.slots[slot[2]];
    return site && s && slot[2] !== 'production'
      ? { type: 'microsoft.web/sites/slots', region: site.location, id: `${site.id}/slots/${s.name}` }
      : undefined;
  }
  const site = core.state.sites[k];
  if (site) return { type: 'microsoft.web/sites', region: site.location, id: site.id };
  const account = core.state.accounts[k];
  if (account) return { type: 'microsoft.cognitiveservices/accounts', region: account.location, id: account.id };
  return undefined;
}

export function handleMetrics(core: SimCore, req: SimRequest): { response: SimResponse; principal?: string } {
  const m = /^\/metrics\/subscriptions\/([^/]+)\/metrics:getBatch\/?$/i.exec(decodeURIComponent(req.path));
  if (!m) return { response: mError(404, 'NotFound', 'The requested path does not exist.') };
  if (req.method !== 'POST')
    return { response: mError(405, 'MethodNotAllowed', `The requested method '${req.method}' is not allowed.`) };
  const q = req.url.searchParams;
  const sub = core.state.subscriptions[key(m[1])];
  const token = bearer(req);
  if (!token)
    return {
      response: mError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."),
    };
  const check = core.tokens.verify(token, core.now());
  if (!check.ok)
    return {
      response: mError(
        401,
        check.reason === 'expired' ? 'ExpiredAuthenticationToken' : 'InvalidAuthenticationToken',
        'The access token is invalid.',
      ),
    };
  // MetricsClient (monitor-query-metrics 1.0) asks for ARM's audience by default, the REST docs for the metrics one:
  // the batch API takes both, as Azure's does.
  if (![METRICS_AUDIENCE, ...ARM_AUDIENCES].some((a) => sameAudience(check.claims.aud, a)))
    return {
      response: mError(
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${check.claims.aud}'. It should exactly match with one of the allowed audiences '${METRICS_AUDIENCE}','${ARM_AUDIENCES.join("','")}'.`,
      ),
    };
  const principal = check.claims.oid;
  if (!sub)
    return {
      principal,
      response: mError(404, 'SubscriptionNotFound', `The subscription '${m[1]}' could not be found.`),
    };
  if (sub.tenantId !== check.claims.tid)
    return {
      principal,
      response: mError(
        401,
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer. It must match the tenant associated with this subscription.`,
      ),
    };
  const bad = (message: string) => ({ principal, response: mError(400, 'BadRequest', message) });

  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8') || 'null');
  } catch {
    return bad('The request body is not valid JSON.');
  }
  const ids = isRecord(body) && Array.isArray(body.resourceids) ? body.resourceids : undefined;
  if (!ids || ids.length === 0 || !ids.every((x) => typeof x === 'string'))
    return bad("'resourceids' is required: a non-empty array of resource ids.");
  if (ids.length > 50) return bad('At most 50 resource ids are allowed in one request.');
  const namespace = q.get('metricnamespace') ?? '';
  const defs = METRIC_NAMESPACES[namespace.toLowerCase()];
  if (!defs)
    return bad(
      `Metric namespace '${namespace}' is not valid. Supported namespaces by the simulator: ${Object.keys(METRIC_NAMESPACES).join(', ')}.`,
    );
  const names = (q.getAll('metricnames').join(',') || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) return bad("'metricnames' is required.");
  const wanted: MetricDef[] = [];
  for (const n of names) {
    const d = defs.find((x) => x.name.toLowerCase() === n.toLowerCase());
    if (!d)
      return bad(
        `Failed to find metric configuration for provider: ${namespace.split('/')[0]}, resource Type: ${namespace.split('/').slice(1).join('/')}, metric: ${n}, Valid metrics: ${defs.map((x) => x.name).join(',')}`,
      );
    wanted.push(d);
  }
  const aggregations = (q.get('aggregation') ?? 'total')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const a of aggregations)
    if (!AGGREGATIONS.includes(a))
      return bad(`Aggregation '${a}' is not valid. Valid aggregations: ${AGGREGATIONS.join(', ')}.`);
  const now = core.now();
  const end = q.get('endtime') ? Date.parse(q.get('endtime')!) : now;
  const start = q.get('starttime') ? Date.parse(q.get('starttime')!) : end - 3_600_000;
  if (Number.isNaN(start) || Number.isNaN(end)) return bad("'starttime' and 'endtime' must be ISO 8601 date-times.");
  if (end <= start) return bad("'endtime' must be after 'starttime'.");
  const interval = (q.get('interval') ?? 'PT1M').toUpperCase();
  if (interval !== 'FULL' && !TIME_GRAINS.includes(interval))
    return bad(`Invalid time grain '${interval}'. Supported time grains: ${TIME_GRAINS.join(', ')}, FULL.`);
  const step = interval === 'FULL' ? end - start : parseDuration(interval)!;
  if ((end - start) / step > 10_000)
    return bad('The requested time range holds too many data points for the time grain.');

  const resources = [];
  for (const id of ids) {
    const r = resourceOf(core, id);
    if (!r || !key(r.id).startsWith(`/subscriptions/${key(sub.id)}/`))
      return bad(`The resource '${id}' was not found in subscription '${sub.id}'.`);
    if (r.type !== namespace.toLowerCase())
      return bad(`The resource '${id}' is not of the metric namespace '${namespace}'.`);
    if (!callerCan(core, principal, METRICS_ACTION, r.id))
      return {
        principal,
        response: mError(
          403,
          'AuthorizationFailed',
          `The client '${check.claims.appid}' with object id '${principal}' does not have authorization to perform action '${METRICS_ACTION}' over scope '${r.id}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        ),
      };
    resources.push(r);
  }
  if (new Set(resources.map((r) => r.region.replace(/\s+/g, '').toLowerCase())).size > 1)
    return bad('All resources of a batch must be in the same region.');

  // Only requests older than the lag are counted (Azure Monitor's metric latency).
  const visibleUntil = now - core.delays.metricsLagMs;
  const iso = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, 'Z');
  const values = resources.map((r) => {
    const samples = core.telemetry
      .samplesOf(r.id, start, Math.min(end, visibleUntil + 1))
      .filter((s) => s.time <= visibleUntil);
    return {
      starttime: iso(start),
      endtime: iso(end),
      interval,
      value: wanted.map((d) => {
        const data = [];
        for (let t = start; t < end; t += step) {
          const n = samples.filter((s) => s.time >= t && s.time < t + step && d.matches(s.status)).length;
          const point: Record<string, unknown> = { timeStamp: iso(t) };
          for (const a of aggregations) {
            if (a === 'total') point.total = n;
            else if (a === 'count') point.count = n;
            else if (n > 0) point[a] = 1;
          }
          data.push(point);
        }
        return {
          id: `${r.id}/providers/Microsoft.Insights/metrics/${d.name}`,
          type: 'Microsoft.Insights/metrics',
          name: { value: d.name, localizedValue: d.localized },
          displayDescription: d.description,
          unit: 'Count',
          timeseries: [{ metadatavalues: [], data }],
          errorCode: 'Success',
        };
      }),
      namespace,
      resourceregion: r.region.replace(/\s+/g, '').toLowerCase(),
      resourceid: r.id,
    };
  });
  return { principal, response: { status: 200, body: { values } } };
}
