/** `cutover abort MIGRATION --reason WHY`: abort a running migration; it rolls back what it changed. */
import type { Command } from 'commander';
import { abortMigration, resolveMigration } from '../../client/migrations';
import type { MigrationProgress } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';
import { personActing } from '../person';

export interface AbortOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly reason: string;
}

export async function abortCommand(ctx: CliContext, opts: AbortOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'aborts');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const p = await abortMigration(t, workflowId, { by, reason: opts.reason });
    ctx.out.result(
      p,
      () => `Aborting ${workflowId}: rolling back what it changed. Follow it: cutover watch ${workflowId}`,
    );
    return p;
  });
}

export function registerAbort(program: Command, run: Run): void {
  program
    .command('abort')
    .argument(...MIGRATION_ARGUMENT)
    .description('Abort a running migration and roll back what it changed')
    .requiredOption('--reason <text>', 'why (recorded in the evidence)')
    .option('--as <name>', `who aborts ${AS_HELP}`)
    .addHelpText('after', examples('cutover abort claims-bot --as oncall --reason "incident INC-42: app errors"'))
    .action((workflowId: string, o: Omit<AbortOptions, 'workflowId'>) =>
      run((ctx) => abortCommand(ctx, { workflowId, ...o })),
    );
}
