/**
 * `revokeReviewed`: the revokes an access review chose, behind ONE approval — then each as a child `revokeAccess`
 * without a gate of its own, all at once. Children are abandoned, never killed, if this workflow is closed: a
 * half-done revoke always finishes and reports what remains.
 */
import { defineQuery, executeChild, ParentClosePolicy, setHandler, workflowInfo } from '@temporalio/workflow';
import { revokeWorkflowId, type RevokeRequest, type RevokeResult } from '../../contracts/access';
import { failureMessage } from '../kit/failures';
import { Gates } from '../kit/gate';
import { StageBoard } from '../kit/run-state';
import { approveUpdate, rejectUpdate, REVOKE_MESSAGE_DESCRIPTIONS } from './messages';
import { revokeAccess } from './workflow';

export interface ReviewedRevokesInput {
  readonly changeTicket: string;
  readonly initiatedBy: string;
  readonly requests: readonly RevokeRequest[];
  readonly approvalTimeoutMs: number;
}

export interface ReviewedRevokesResult {
  readonly outcome: 'done' | 'rejected';
  readonly revokes: readonly { readonly workflowId: string; readonly outcome: string; readonly why?: string }[];
}

export interface ReviewedRevokesProgress {
  readonly workflowId: string;
  readonly changeTicket: string;
  readonly pendingGate?: { readonly gate: string; readonly title: string; readonly deadline?: string };
  readonly revokes: readonly { readonly workflowId: string; readonly outcome: string }[];
}

export const reviewedRevokesProgressQuery = defineQuery<ReviewedRevokesProgress>('progress');

type Stage = 'approve' | 'revoke';

export async function revokeReviewed(input: ReviewedRevokesInput): Promise<ReviewedRevokesResult> {
  const board = new StageBoard<Stage>(
    { approve: 'Approval: every revoke below', revoke: 'Revokes' },
    'approve',
    () => undefined,
  );
  const gates = new Gates<'revoke', Stage>(
    board,
    { revoke: 'approve' },
    {
      timeoutMs: input.approvalTimeoutMs,
      onTimeout: 'rollback',
      fourEyes: true,
      initiatedBy: input.initiatedBy,
    },
  );
  const revokes = input.requests.map((r) => ({ workflowId: revokeWorkflowId(r.subject), outcome: 'pending', why: '' }));
  setHandler(approveUpdate, (d) => gates.decide('approved', d), {
    validator: gates.validate.bind(gates),
    description: REVOKE_MESSAGE_DESCRIPTIONS.approve,
  });
  setHandler(rejectUpdate, (d) => gates.decide('rejected', d), {
    validator: gates.validate.bind(gates),
    description: REVOKE_MESSAGE_DESCRIPTIONS.reject,
  });
  setHandler(reviewedRevokesProgressQuery, () => ({
    workflowId: workflowInfo().workflowId,
    changeTicket: input.changeTicket,
    ...(gates.pending ? { pendingGate: gates.pending } : {}),
    revokes: revokes.map(({ workflowId, outcome }) => ({ workflowId, outcome })),
  }));

  try {
    await gates.open(
      'revoke',
      `Revoke ${input.requests.length} access grant holder(s) found by the review: ${revokes.map((r) => r.workflowId.split('/').slice(-1)[0]).join(', ')}`,
    );
  } catch (err) {
    return {
      outcome: 'rejected',
      revokes: revokes.map((r) => ({ ...r, outcome: 'not started', why: failureMessage(err) })),
    };
  }
  board.begin('revoke');
  await Promise.all(
    input.requests.map(async (request, i) => {
      try {
        const r: RevokeResult = await executeChild(revokeAccess, {
          workflowId: revokes[i].workflowId,
          args: [{ request: { ...request, approval: false }, initiatedBy: input.initiatedBy }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        revokes[i].outcome = r.outcome;
        if (r.evidence.why) revokes[i].why = r.evidence.why;
      } catch (err) {
        revokes[i].outcome = 'failed';
        revokes[i].why = failureMessage(err);
      }
    }),
  );
  board.end('revoke', 'done');
  return {
    outcome: 'done',
    revokes: revokes.map(({ workflowId, outcome, why }) => ({ workflowId, outcome, ...(why ? { why } : {}) })),
  };
}
