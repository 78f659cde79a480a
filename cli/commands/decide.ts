/** `cutover approve MIGRATION` and `cutover reject MIGRATION`: the two decisions on the open gate. */
import { type Command, Option } from 'commander';
import { UpdateRefusedError } from '../../client/errors';
import { decide, resolveMigration } from '../../client/migrations';
import type { ApprovalRecord, GateId } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { UserError } from '../errors';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';
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

export function registerDecide(program: Command, run: Run, verb: 'approve' | 'reject'): void {
  program
    .command(verb)
    .argument(...MIGRATION_ARGUMENT)
    .description(verb === 'approve' ? 'Approve the open gate' : 'Reject the open gate: the migration rolls back')
    .option('--as <name>', `${verb === 'approve' ? 'approver' : 'who rejects'} ${AS_HELP}`)
    .addOption(
      new Option('--gate <gate>', 'the gate meant; refused unless it is the one open (default: the open one)').choices([
        'settings',
        'local-auth',
      ]),
    )
    .option('--comment <text>', 'recorded in the evidence')
    .addHelpText(
      'after',
      verb === 'approve'
        ? examples(
            'cutover approve claims-bot --as bob --gate settings --comment "CAB-2231 approved"',
            'cutover approve claims-bot --as bob --gate local-auth',
          )
        : examples('cutover reject claims-bot --as bob --gate settings --comment "change freeze this week"'),
    )
    .action((workflowId: string, o: Omit<DecideOptions, 'workflowId'>) =>
      run((ctx) => decideCommand(ctx, { workflowId, ...o }, verb)),
    );
}
