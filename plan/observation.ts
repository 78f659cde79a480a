/**
 * What a plan says about watching the account and the caller (the plan's `observability` and `analysis`): how late
 * Azure Monitor data arrives, what to do when key usage cannot be observed, and the analysis run after each traffic
 * change — measurements at an interval, each judged by a success and a failure condition, with failure and
 * inconclusive limits, as progressive-delivery controllers do.
 */
import { z } from 'zod';
import { parseCondition } from './conditions';
import { HOUR, MINUTE, SECOND, formatDuration, parseDuration } from './durations';

/** The measurements an analysis can take, and where each comes from. */
export const ANALYSIS_METRICS = {
  'app-5xx': { source: 'metrics', what: 'HTTP 5xx answered by the app (Azure Monitor metric Http5xx)' },
  'account-refusals': {
    source: 'logs',
    what: '401/403 answers of the account to any caller (diagnostic logs, by caller)',
  },
  'account-5xx': { source: 'metrics', what: 'server errors of the account (Azure Monitor metric ServerErrors)' },
} as const;
export type AnalysisMetricName = keyof typeof ANALYSIS_METRICS;
const METRIC_NAMES = Object.keys(ANALYSIS_METRICS) as [AnalysisMetricName, ...AnalysisMetricName[]];

/** Points in a migration after which an analysis runs. */
export const ANALYSIS_POINTS = ['switch', 'key-switch'] as const;
export type AnalysisPoint = (typeof ANALYSIS_POINTS)[number];

export const UNOBSERVABLE_POLICIES = ['acknowledge', 'skip', 'wait', 'fail'] as const;

export interface AnalysisMetric {
  readonly name: AnalysisMetricName;
  readonly successCondition: string;
  readonly failureCondition: string;
}

export interface AnalysisPlan {
  readonly after: readonly AnalysisPoint[];
  readonly intervalMs: number;
  readonly count: number;
  readonly failureLimit: number;
  readonly inconclusiveLimit: number;
  readonly metrics: readonly AnalysisMetric[];
}

export interface ObservabilityPlan {
  /** How long after a call its diagnostic-log row can be queried (Log Analytics ingestion). */
  readonly logIngestionDelayMs: number;
  /** How long after a minute its Azure Monitor metrics are complete. */
  readonly metricsDelayMs: number;
  /**
   * No diagnostic setting sending RequestResponse logs to a workspace, or no right to read it: `acknowledge` asks an
   * approver to accept switching keys off blind, `skip` leaves key auth on, `wait` looks again until the approval
   * timeout, `fail` fails the run (which rolls it back).
   */
  readonly ifUnobservable: (typeof UNOBSERVABLE_POLICIES)[number];
}

export const DEFAULT_ANALYSIS_METRICS: readonly AnalysisMetric[] = [
  { name: 'app-5xx', successCondition: 'result == 0', failureCondition: 'result >= 5' },
  { name: 'account-refusals', successCondition: 'result == 0', failureCondition: 'result >= 1' },
  { name: 'account-5xx', successCondition: 'result == 0', failureCondition: 'result >= 5' },
];

function duration(min: number, max: number, fallback: number) {
  return z
    .string({ error: 'must be a duration such as "90s", "15m" or "2h"' })
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < min || ms > max) {
        ctx.addIssue({
          code: 'custom',
          message:
            ms === undefined
              ? `"${text}" is not a duration such as "90s", "15m" or "2h"`
              : `${text} is out of range: must be between ${formatDuration(min)} and ${formatDuration(max)}`,
        });
        return z.NEVER;
      }
      return ms;
    })
    .default(fallback);
}

const condition = (fallback?: string) => {
  const c = z.string({ error: 'must be a condition such as "result == 0"' }).superRefine((text, ctx) => {
    try {
      parseCondition(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
  return fallback === undefined ? c.optional() : c.default(fallback);
};

const metricSchema = z
  .strictObject({
    name: z.enum(METRIC_NAMES, { error: `must be one of ${METRIC_NAMES.join(', ')}` }),
    successCondition: condition(),
    failureCondition: condition(),
  })
  .transform((m): AnalysisMetric => {
    const d = DEFAULT_ANALYSIS_METRICS.find((x) => x.name === m.name)!;
    return {
      name: m.name,
      successCondition: m.successCondition ?? d.successCondition,
      failureCondition: m.failureCondition ?? d.failureCondition,
    };
  });

export const analysisSchema = z
  .strictObject({
    after: z.array(z.enum(ANALYSIS_POINTS)).default([...ANALYSIS_POINTS]),
    interval: duration(SECOND, HOUR, MINUTE),
    count: z.number().int().min(1).max(60).default(3),
    failureLimit: z.number().int().min(0).default(0),
    inconclusiveLimit: z.number().int().min(0).default(0),
    metrics: z
      .array(metricSchema)
      .min(1, 'must name at least one metric (or set after: [] to run no analysis)')
      .default([...DEFAULT_ANALYSIS_METRICS]),
  })
  .transform((a): AnalysisPlan => ({
    after: [...new Set(a.after)],
    intervalMs: a.interval,
    count: a.count,
    failureLimit: a.failureLimit,
    inconclusiveLimit: a.inconclusiveLimit,
    metrics: a.metrics,
  }))
  .default({
    after: [...ANALYSIS_POINTS],
    intervalMs: MINUTE,
    count: 3,
    failureLimit: 0,
    inconclusiveLimit: 0,
    metrics: DEFAULT_ANALYSIS_METRICS,
  });

export const observabilitySchema = z
  .strictObject({
    logIngestionDelay: duration(0, 2 * HOUR, 5 * MINUTE),
    metricsDelay: duration(0, HOUR, 3 * MINUTE),
    ifUnobservable: z.enum(UNOBSERVABLE_POLICIES).default('acknowledge'),
  })
  .transform((o): ObservabilityPlan => ({
    logIngestionDelayMs: o.logIngestionDelay,
    metricsDelayMs: o.metricsDelay,
    ifUnobservable: o.ifUnobservable,
  }))
  .default({ logIngestionDelayMs: 5 * MINUTE, metricsDelayMs: 3 * MINUTE, ifUnobservable: 'acknowledge' });
