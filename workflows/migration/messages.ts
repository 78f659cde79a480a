/**
 * Messages of the migration workflow. Updates (not signals) for decisions, so a caller learns at once whether its
 * decision was accepted: validators reject an approval for a gate that is not open, a missing approver name, or a
 * self-approval under the four-eyes rule, without writing anything to history. Descriptions are set where the
 * handlers are registered, so the Web UI lists them.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbortInput, DecisionArg, DecisionInput, OperatorInput } from '../../contracts/messages';
import type { ApprovalRecord, MigrationProgress, WaveEnd } from '../../contracts/model';

export type { AbortInput, DecisionArg, DecisionInput, OperatorInput };

export const approveUpdate = defineUpdate<ApprovalRecord, [DecisionArg]>('approve');
export const rejectUpdate = defineUpdate<ApprovalRecord, [DecisionArg]>('reject');
export const abortUpdate = defineUpdate<MigrationProgress, [AbortInput]>('abort');
export const retryCompensationUpdate = defineUpdate<MigrationProgress, [OperatorInput]>('retryCompensation');
export const skipCompensationUpdate = defineUpdate<MigrationProgress, [OperatorInput]>('skipCompensation');
export const progressQuery = defineQuery<MigrationProgress>('progress');

/**
 * A held fleet child and its fleet (`onStop: roll-back-wave`), workflow to workflow, so signals: the child tells the
 * fleet it has moved its caller (`callerHeld`, the caller's index), the fleet answers at the wave's end.
 */
export const callerHeldSignal = defineSignal<[number]>('callerHeld');
export const waveEndedSignal = defineSignal<[WaveEnd]>('waveEnded');

export const MESSAGE_DESCRIPTIONS = {
  approve: 'Approve the open gate. Data: "your name", or {"approver": "name", "comment": "optional"}',
  reject:
    'Reject the open gate: the migration rolls back. Data: {"approver": "name", "comment": "why"}, or "your name"',
  abort: 'Abort the migration and roll back what it changed. Input: {"by": "name", "reason": "why"}',
  retryCompensation: 'Retry the rollback step that failed. Input: {"by": "name"}',
  skipCompensation:
    'Skip the rollback step that failed, leaving that change in place. Input: {"by": "name", "reason": "why it is safe"}',
  progress: 'Stages, timings, the pending gate and the outcome so far.',
  waveEnded: 'Sent by the fleet to a migration held for its wave: {"decision": "keep" | "roll-back", "reason": "why"}',
} as const;
