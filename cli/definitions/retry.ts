/**
 * The command line of `cutover retry`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/retry.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { RetryOptions } from '../commands/retry';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';

export function registerRetry(program: Command, run: Run): void {
  program
    .command('retry')
    .argument(...MIGRATION_ARGUMENT)
    .description('Retry the rollback step that is blocked')
    .option('--as <name>', `operator name ${AS_HELP}`)
    .addHelpText('after', examples('cutover retry claims-bot --as oncall'))
    .action((workflowId: string, o: Omit<RetryOptions, 'workflowId'>) =>
      run(async (ctx) => (await import('../commands/retry.js')).retryCommand(ctx, { workflowId, ...o })),
    );
}
