/**
 * The measurements of an analysis after a traffic change, each from Azure Monitor: the app's 5xx (metrics), the
 * account's 401/403 by caller (diagnostic logs) and its server errors (metrics). A measurement that cannot be read
 * has no result (the workflow judges it inconclusive); the queries are returned for the evidence.
 */
import type { AccountRef } from '../contracts/model';
import type { ConsumedDowntime, MetricValue, TimeWindow } from '../contracts/observation';
import type { AnalysisMetricName } from '../plan/observation';
import type { AzureContext } from './context';
import { toFailure } from './errors';
import { logSources, metricTotal, refusalsQuery, refusedCalls } from './monitoring';
import { accountResourceId } from './resources';

export interface MeasureInput {
  readonly account: AccountRef;
  /** The app serving the caller's traffic (the production site). */
  readonly app: { readonly resourceId: string };
  readonly window: TimeWindow;
  readonly metrics: readonly AnalysisMetricName[];
}

const SITE = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)$/i;
const SITE_NAMESPACE = 'Microsoft.Web/sites';
const ACCOUNT_NAMESPACE = 'Microsoft.CognitiveServices/accounts';

async function siteRegion(ctx: AzureContext, resourceId: string): Promise<string> {
  const m = SITE.exec(resourceId);
  if (!m) throw toFailure(`reading ${resourceId}`, new Error('not an App Service site id'));
  try {
    return (await ctx.clients(m[1]).web.webApps.get(m[2], m[3])).location;
  } catch (err) {
    throw toFailure(`reading the region of ${m[3]}`, err);
  }
}

async function accountRegion(ctx: AzureContext, account: AccountRef): Promise<string> {
  try {
    const a = await ctx.clients(account.subscriptionId).cognitive.accounts.get(account.resourceGroup, account.name);
    return a.location ?? '';
  } catch (err) {
    throw toFailure(`reading the region of ${account.name}`, err);
  }
}

export async function measure(
  ctx: AzureContext,
  input: MeasureInput,
): Promise<{ values: MetricValue[]; queries: string[] }> {
  const values: MetricValue[] = [];
  const queries: string[] = [];
  for (const metric of input.metrics) {
    if (metric === 'app-5xx') {
      const resource = {
        id: input.app.resourceId,
        namespace: SITE_NAMESPACE,
        region: await siteRegion(ctx, input.app.resourceId),
      };
      queries.push(`metric Http5xx (total, PT1M) of ${resource.id}`);
      const r = await metricTotal(ctx, resource, 'Http5xx', input.window);
      values.push(
        r.ok
          ? { metric, result: r.rows.total, detail: `${r.rows.total} HTTP 5xx answered by the app` }
          : { metric, detail: r.why },
      );
    } else if (metric === 'account-5xx') {
      const resource = {
        id: accountResourceId(input.account),
        namespace: ACCOUNT_NAMESPACE,
        region: await accountRegion(ctx, input.account),
      };
      queries.push(`metric ServerErrors (total, PT1M) of ${resource.id}`);
      const r = await metricTotal(ctx, resource, 'ServerErrors', input.window);
      values.push(
        r.ok
          ? { metric, result: r.rows.total, detail: `${r.rows.total} server errors on the account` }
          : { metric, detail: r.why },
      );
    } else {
      queries.push(refusalsQuery(input.account));
      const sources = await logSources(ctx, input.account);
      if (sources.status === 'unobservable') {
        values.push({ metric, detail: sources.why });
        continue;
      }
      const r = await refusedCalls(ctx, input.account, sources, input.window);
      values.push(
        r.ok
          ? {
              metric,
              result: r.rows.total,
              detail: r.rows.total
                ? `${r.rows.total} calls refused (401/403): ${r.rows.callers.join('; ')}`
                : 'no call refused (401/403)',
            }
          : { metric, detail: r.why },
      );
    }
  }
  return { values, queries };
}

/**
 * The downtime Azure Monitor counted since the switch (`window.start`): the app's 5xx per minute. Failures in a
 * minute that began after the caller recovered (`recoveredAt`, its smoke test passing) mean the outage went on: the
 * downtime then runs to the end of the last such minute (capped at `window.end`); otherwise it is the measured wall
 * time until recovery, which metrics one minute wide cannot refine.
 */
export async function consumedDowntime(
  ctx: AzureContext,
  input: { readonly app: { readonly resourceId: string }; readonly window: TimeWindow; readonly recoveredAt: string },
): Promise<ConsumedDowntime | { readonly unavailable: string }> {
  const { app, window } = input;
  const resource = { id: app.resourceId, namespace: SITE_NAMESPACE, region: await siteRegion(ctx, app.resourceId) };
  const r = await metricTotal(ctx, resource, 'Http5xx', window);
  if (!r.ok) return { unavailable: r.why };
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const recovered = Date.parse(input.recoveredAt);
  const later = r.rows.perMinute.filter((p) => p.total > 0 && Date.parse(p.at) >= recovered);
  const until = later.length ? Math.min(end, Date.parse(later.at(-1)!.at) + 60_000) : recovered;
  return {
    failedRequests: r.rows.total,
    windowMs: Math.max(0, until - start),
    window,
    grain: 'PT1M',
  };
}
