/**
 * Messages of the fleet workflow: the same wire names as a migration's (`approve`, `reject`, `abort`, `progress`),
 * so the Web UI and scripts address both alike; a fleet's gates are `wave-<n>` and `keys-<n>`.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AbortInput, DecisionArg } from '../../contracts/messages';
import type { FleetProgress } from '../../contracts/fleet';
import type { ApprovalRecord } from '../../contracts/model';

export const approveFleetUpdate = defineUpdate<ApprovalRecord, [DecisionArg]>('approve');
export const rejectFleetUpdate = defineUpdate<ApprovalRecord, [DecisionArg]>('reject');
export const abortFleetUpdate = defineUpdate<FleetProgress, [AbortInput]>('abort');
export const fleetProgressQuery = defineQuery<FleetProgress>('progress');

export const FLEET_MESSAGE_DESCRIPTIONS = {
  approve: 'Approve the open gate (before a wave, before an account’s key switch). Data: "your name"',
  reject: 'Reject the open gate: the fleet stops. Data: {"approver": "name", "comment": "why"}, or "your name"',
  abort:
    'Stop the fleet: no new caller starts; running ones finish or roll back per the plan’s onStop (roll-back-wave: the whole wave). Input: {"by": "name", "reason": "why"}',
  progress: 'Waves, accounts, callers, the pending gate and the outcome so far.',
  callerHeld: 'Sent by a child migration held for its wave (onStop roll-back-wave): the caller’s index',
} as const;
