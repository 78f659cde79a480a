/**
 * Durable polling of a probe from the workflow: timers survive worker restarts, and every attempt is an activity
 * the history shows (about 11 events an attempt). Executions since `POLL_IN_ACTIVITY` poll inside one heartbeating
 * activity instead (`probeUntilPass`); this loop remains for the ones that started before.
 * Gives up, failing the stage, when the next attempt would fall outside the budget.
 */
import { sleep } from '@temporalio/workflow';
import type { ProbeResult } from '../../contracts/model';
import { describeAnswer } from '../../contracts/probes';
import { StageFailure } from './failures';

export interface PollOptions {
  readonly stage: string;
  /** What is polled, for people ("smoke test of claims-bot"). */
  readonly what: string;
  readonly budgetMs: number;
  /** The budget as people know it, when `budgetMs` is what is left of it (the downtime budget). */
  readonly budgetText?: string;
  readonly intervalMs: number;
  /** Grow the interval by half each time, up to 30 s. */
  readonly backoff: boolean;
  /** Every answer, passed or not (the smoke-test record). */
  readonly onResult?: (result: ProbeResult) => void;
  /** Between attempts: what the run waits for. */
  readonly onRetry: (waitingFor: string) => void;
}

export async function pollUntilPass(
  attempt: (n: number) => Promise<ProbeResult>,
  options: PollOptions,
): Promise<ProbeResult> {
  const startedAt = Date.now();
  let interval = options.intervalMs;
  let n = 0;
  for (;;) {
    n++;
    const result = await attempt(n);
    options.onResult?.(result);
    if (result.ok) return result;
    const elapsed = Date.now() - startedAt;
    const last = describeAnswer(result);
    if (elapsed + interval > options.budgetMs) throw pollFailure(options, n, result);
    options.onRetry(`${options.what}: attempt ${n} failed (${last}); next in ${Math.round(interval / 1000)}s`);
    await sleep(interval, { summary: `next ${options.what}` });
    if (options.backoff) interval = Math.min(Math.round(interval * 1.5), 30_000);
  }
}

/** What a poll is and how long it may take: enough to word its failure. */
export type PollBudget = Pick<PollOptions, 'stage' | 'what' | 'budgetMs' | 'budgetText'>;

/** The stage's failure when a probe did not pass within its budget. */
export function pollFailure(options: PollBudget, attempts: number, last: ProbeResult): StageFailure {
  const budget = options.budgetText ?? `${Math.round(options.budgetMs / 1000)}s`;
  return new StageFailure(
    options.stage,
    `${options.what} did not pass within ${budget} (${attempts} attempts; last: ${describeAnswer(last)})`,
  );
}
