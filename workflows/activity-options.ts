/**
 * Timeout and retry profiles of cutover's activities. Every profile sets startToCloseTimeout, and every activity
 * heartbeats while it runs, so a worker that dies mid-call is replaced after heartbeatTimeout rather than after
 * startToCloseTimeout.
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../contracts/failures';

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
};

/** One ARM read or write. */
export const armCall = { startToCloseTimeout: '2 minutes', heartbeatTimeout: '10s', retry } satisfies ActivityOptions;

/** A long-running ARM operation (a swap, an account update) or a scan across subscriptions. */
export const armLongRunning = {
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '10s',
  retry,
} satisfies ActivityOptions;

/** One HTTP probe of a caller: retried little, since the workflow polls. */
export const appProbe = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10s',
  retry: { ...retry, maximumAttempts: 3 },
} satisfies ActivityOptions;

/**
 * Polling a caller inside one activity (the propagation wait, a smoke test): the budget is the plan's, so the
 * start-to-close timeout is set per call (`pollTimeout`); a successor resumes from the heartbeat.
 */
export const appPoll = {
  heartbeatTimeout: '10s',
  retry: { ...retry, maximumAttempts: 5 },
} satisfies Omit<ActivityOptions, 'startToCloseTimeout'>;

/** The budget plus room for the last request and a successor taking over. */
export function pollTimeout(budgetMs: number, requestTimeoutMs: number): number {
  return budgetMs + requestTimeoutMs + 60_000;
}

/** Compensations retry less before blocking, so an operator sees a stuck rollback within a minute. */
export const compensationCall = {
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '10s',
  retry: { ...retry, maximumAttempts: 5 },
} satisfies ActivityOptions;

/** One key-holder wait polls inside for up to an hour, heartbeating as it goes. */
export const keyHolderWaitCall = {
  startToCloseTimeout: '75 minutes',
  heartbeatTimeout: '10s',
  retry,
} satisfies ActivityOptions;

/** One webhook call: retried for a few minutes, then given up (a notice never fails a migration). */
export const notifyCall = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: '15s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
  },
} satisfies ActivityOptions;
