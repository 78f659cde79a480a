/**
 * Messages of `revokeAccess`: the same update names as a migration's (`approve`, `reject`, `retryCompensation`,
 * `skipCompensation`), so the CLI and the Web UI move both on alike, and the `progress` query.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OperatorInput } from '../../contracts/messages';
import type { RevokeProgress } from '../../contracts/access';

export { approveUpdate, rejectUpdate } from '../migration/messages';
export const retryRemovalUpdate = defineUpdate<RevokeProgress, [OperatorInput]>('retryCompensation');
export const skipRemovalUpdate = defineUpdate<RevokeProgress, [OperatorInput]>('skipCompensation');
export const revokeProgressQuery = defineQuery<RevokeProgress>('progress');

export const REVOKE_MESSAGE_DESCRIPTIONS = {
  approve: 'Approve removing the access: {"approver": "your name", "comment": "optional"}',
  reject: 'Reject: nothing is removed. {"approver": "your name", "comment": "why"}',
  retryCompensation: 'Retry the removal that keeps failing: {"by": "your name"}',
  skipCompensation:
    'Leave that role assignment in place and go on; it is reported as remaining: {"by": "your name", "reason": "why"}',
  progress: 'Stages, what was found and removed, what the revoke waits for',
} as const;
