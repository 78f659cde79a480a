/** Inputs of the migration workflow's updates: shared by the workflow, the client layer and the CLI. */
import type { GateId } from './model';

export interface DecisionInput {
  /** Who decides; recorded in the evidence. */
  readonly approver: string;
  readonly comment?: string;
  /** The gate meant; when given it must be the open one (guards against approving the wrong step). */
  readonly gate?: GateId;
}

/**
 * What an `approve` or `reject` update may carry: the decision, or just the approver's name as a JSON string (what
 * a person types into the Web UI's Send an Update dialog: `"bob"`).
 */
export type DecisionArg = DecisionInput | string;

export interface AbortInput {
  readonly by: string;
  readonly reason: string;
}

export interface OperatorInput {
  readonly by: string;
  /** Required to skip: why it is safe to leave this change in place. */
  readonly reason?: string;
}
