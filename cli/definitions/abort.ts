/**
 * The command line of `cutover abort`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/abort.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { AbortOptions } from '../commands/abort';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';

export function registerAbort(program: Command, run: Run): void {
  program
    .command('abort')
    .argument(...MIGRATION_ARGUMENT)
    .description('Abort a running migration and roll back what it changed')
    .requiredOption('--reason <text>', 'why (recorded in the evidence)')
    .option('--as <name>', `who aborts ${AS_HELP}`)
    .addHelpText('after', examples('cutover abort claims-bot --as oncall --reason "incident INC-42: app errors"'))
    .action((workflowId: string, o: Omit<AbortOptions, 'workflowId'>) =>
      run(async (ctx) => (await import('../commands/abort.js')).abortCommand(ctx, { workflowId, ...o })),
    );
}
