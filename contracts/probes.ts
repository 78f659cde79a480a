/** What polling a caller's endpoint asks and answers: shared by the probe activities and the workflow that reads them. */
import type { ProbeResult } from './model';

export interface ProbeInput {
  readonly url: string;
  readonly expectStatus: number;
  readonly expectJson: Readonly<Record<string, string | number | boolean>>;
  readonly timeoutMs: number;
}

export interface PollProbeInput extends ProbeInput {
  /** Time allowed from the first attempt (of the first activity attempt, when a successor resumes). */
  readonly budgetMs: number;
  readonly intervalMs: number;
  /** Keep the answers (the smoke-test record); otherwise only the last. */
  readonly record: boolean;
}

/** One answer, and how many attempts in a row gave it (a record of changes, not of every attempt). */
export interface ProbeAnswer extends ProbeResult {
  readonly repeats: number;
}

export interface PollProbeResult {
  readonly passed: boolean;
  readonly attempts: number;
  readonly last: ProbeResult;
  /** With `record`: the answers as they changed, at most 40 (the first and the latest kept). */
  readonly answers: readonly ProbeAnswer[];
}

/** What a poll heartbeats, so that a successor (the worker died) resumes its clock, count and record. */
export interface PollProgress {
  readonly startedAt: number;
  readonly attempts: number;
  readonly answers: readonly ProbeAnswer[];
  readonly last?: string;
}

/** "HTTP 401: Principal does not have access" or the error code and message. */
export function describeAnswer(result: ProbeResult): string {
  return [result.errorCode, result.message].filter(Boolean).join(': ') || `HTTP ${result.status}`;
}
