/**
 * What Azure Monitor showed about an account and its callers: the key-usage check before a key switch, and the
 * measurements of an analysis after a traffic change. Names, ids, addresses and counts only: never a key or token.
 */
import type { AnalysisMetricName, AnalysisPoint } from '../plan/observation';

export interface TimeWindow {
  readonly start: string;
  readonly end: string;
}

/** One caller of the account as its diagnostic logs show it over a window. */
export interface ObservedCaller {
  /** The caller's Entra object id: absent for key calls. */
  readonly objectId?: string;
  readonly ip: string;
  readonly userAgent?: string;
  readonly calls: number;
  readonly failed: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** What an inventory knows this caller as (an app by its outbound address, an identity by its object id). */
  readonly knownAs?: string;
}

/** Where the account's RequestResponse logs go, or why they cannot be read. */
export type LogSources =
  | {
      readonly status: 'observable';
      readonly workspaces: readonly { readonly id: string; readonly customerId: string }[];
    }
  | { readonly status: 'unobservable'; readonly why: string };

export interface KeyUsageObservation {
  /** `quiet`: no key call but this caller's before it moved; `key-calls`: somebody else; `unobservable`: no logs. */
  readonly verdict: 'quiet' | 'key-calls' | 'unobservable';
  readonly account: string;
  readonly window: TimeWindow;
  readonly readAt: string;
  /** One line for people. */
  readonly summary: string;
  readonly workspaces: readonly string[];
  /** The KQL sent (the evidence of zero key calls). */
  readonly query?: string;
  readonly keyCallers: readonly ObservedCaller[];
  /** Key calls of the migrated caller itself, made before it moved (attributed by its outbound addresses). */
  readonly ownKeyCalls: number;
}

export interface MetricValue {
  readonly metric: AnalysisMetricName;
  /** Absent when the data could not be read (then the measurement is inconclusive). */
  readonly result?: number;
  readonly detail: string;
}

export type MeasurementPhase = 'successful' | 'failed' | 'inconclusive';

export interface Measurement {
  readonly at: string;
  readonly window: TimeWindow;
  readonly values: readonly (MetricValue & { readonly phase: MeasurementPhase })[];
}

export interface AnalysisRecord {
  readonly point: AnalysisPoint;
  readonly startedAt: string;
  endedAt?: string;
  verdict: 'running' | 'successful' | 'failed' | 'inconclusive';
  reason?: string;
  readonly measurements: Measurement[];
  /** The queries behind the measurements (KQL, metric names and namespaces). */
  readonly queries: string[];
  /** Downtime as Azure Monitor counted it: the app's failed requests and the span of the minutes they fell in. */
  consumedDowntime?: ConsumedDowntime;
}

export interface ConsumedDowntime {
  readonly failedRequests: number;
  /** From the switch to the end of the last minute with failures (0 without failures). */
  readonly windowMs: number;
  readonly window: TimeWindow;
  readonly grain: string;
}
