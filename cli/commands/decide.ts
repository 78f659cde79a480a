/** `cutover approve MIGRATION` and `cutover reject MIGRATION`: the two decisions on the open gate. */
import { UpdateRefusedError } from '../../client/errors';
import { decide, resolveMigration } from '../../client/migrations';
import type { ApprovalRecord, GateId } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { UserError } from '../errors';
import { personActing } from '../person';

export interface DecideOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly comment?: string;
  /** The gate meant; the workflow refuses the decision unless it is the open one. */
  readonly gate?: GateId;
}

export async function decideCommand(
  ctx: CliContext,
  opts: DecideOptions,
  decision: 'approve' | 'reject',
): Promise<ApprovalRecord> {
  const approver = personActing(ctx, opts.as, decision === 'approve' ? 'approves' : 'rejects');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const record = await decide(t, workflowId, decision, {
      approver,
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(opts.gate ? { gate: opts.gate } : {}),
    }).catch((err: unknown) => {
      if (err instanceof UpdateRefusedError && opts.gate)
        throw new UserError(
          err.message,
          `nothing was recorded; see which gate is open with \`cutover status ${workflowId}\``,
        );
      throw err;
    });
    ctx.out.result(record, () => `${record.decision} gate "${record.gate}" of ${workflowId} as ${record.by}`);
    return record;
  });
}
