/** `cutover skip MIGRATION --reason WHY`: skip the blocked rollback step, leaving that change in place. */
import type { Command } from 'commander';
import { resolveBlockedStep, resolveMigration } from '../../client/migrations';
import type { MigrationProgress } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';
import { personActing } from '../person';

export interface SkipOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly reason?: string;
}

export async function skipCommand(ctx: CliContext, opts: SkipOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'skips the step');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const p = await resolveBlockedStep(t, workflowId, 'skip', { by, ...(opts.reason ? { reason: opts.reason } : {}) });
    ctx.out.result(p, () => `Skipped the blocked rollback step of ${workflowId}`);
    return p;
  });
}

export function registerSkip(program: Command, run: Run): void {
  program
    .command('skip')
    .argument(...MIGRATION_ARGUMENT)
    .description('Skip the blocked rollback step, leaving that change in place')
    .requiredOption('--reason <text>', 'why it is safe to skip (recorded in the evidence)')
    .option('--as <name>', `operator name ${AS_HELP}`)
    .addHelpText(
      'after',
      examples('cutover skip claims-bot --as oncall --reason "role assignment removed by hand (CHG-1043)"'),
    )
    .action((workflowId: string, o: Omit<SkipOptions, 'workflowId'>) =>
      run((ctx) => skipCommand(ctx, { workflowId, ...o })),
    );
}
