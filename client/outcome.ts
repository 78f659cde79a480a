/**
 * A migration's outcome as the client reports it: what the workflow recorded (`CutoverOutcome`) while its execution runs
 * or after it completed, else what ended it from outside — a terminated, cancelled, timed-out or failed execution ran
 * no rollback and wrote no evidence, whatever it recorded last.
 */
import { CutoverOutcome } from '../contracts/search-attributes';

/** Execution statuses (as `WorkflowExecutionStatusName`) that end a migration from outside the workflow's logic. */
const CLOSED_FROM_OUTSIDE: Readonly<Record<string, string>> = {
  TERMINATED: 'terminated',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'timed-out',
  FAILED: 'failed',
};

export function effectiveOutcome(executionStatus: string, recorded: string | undefined): string {
  return CLOSED_FROM_OUTSIDE[executionStatus] ?? recorded ?? (executionStatus === 'RUNNING' ? 'running' : 'unknown');
}

/** Every outcome `cutover list --outcome` accepts (in contracts/, which the CLI's `--help` loads without the SDK). */
export { OUTCOMES } from '../contracts/outcomes';

/** For `status`: what it means that a migration was ended from outside, or undefined when it was not. */
export function closedFromOutsideNote(executionStatus: string): string | undefined {
  const outcome = CLOSED_FROM_OUTSIDE[executionStatus];
  if (!outcome) return undefined;
  return `the workflow ${executionStatus === 'FAILED' ? 'failed' : `was ${outcome.replace('-', ' ')}`}: it stopped where it was, without rolling back, so what it had changed stays in place; no evidence was written`;
}

/** The visibility query for one outcome: the execution's real status, and the recorded outcome where it has one. */
export function outcomeQuery(outcome: string): string {
  const recorded = (value: string) => `${CutoverOutcome.name} = '${value}'`;
  switch (outcome) {
    case 'running':
      return `ExecutionStatus = 'Running'`;
    case 'rollback-blocked':
      return `ExecutionStatus = 'Running' AND ${recorded(outcome)}`;
    case 'terminated':
      return `ExecutionStatus = 'Terminated'`;
    case 'cancelled':
      return `ExecutionStatus = 'Canceled'`;
    case 'timed-out':
      return `ExecutionStatus = 'TimedOut'`;
    case 'failed':
      return `(ExecutionStatus = 'Failed' OR (ExecutionStatus = 'Completed' AND ${recorded(outcome)}))`;
    default:
      return `ExecutionStatus = 'Completed' AND ${recorded(outcome)}`;
  }
}
