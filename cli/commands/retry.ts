/** `cutover retry MIGRATION`: retry the rollback step that is blocked. */
import type { Command } from 'commander';
import { resolveBlockedStep, resolveMigration } from '../../client/migrations';
import type { MigrationProgress } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';
import { personActing } from '../person';

export interface RetryOptions {
  readonly workflowId: string;
  readonly as?: string;
}

export async function retryCommand(ctx: CliContext, opts: RetryOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'retries the step');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const p = await resolveBlockedStep(t, workflowId, 'retry', { by });
    ctx.out.result(p, () => `Retrying the blocked rollback step of ${workflowId}`);
    return p;
  });
}

export function registerRetry(program: Command, run: Run): void {
  program
    .command('retry')
    .argument(...MIGRATION_ARGUMENT)
    .description('Retry the rollback step that is blocked')
    .option('--as <name>', `operator name ${AS_HELP}`)
    .addHelpText('after', examples('cutover retry claims-bot --as oncall'))
    .action((workflowId: string, o: Omit<RetryOptions, 'workflowId'>) =>
      run((ctx) => retryCommand(ctx, { workflowId, ...o })),
    );
}
