/**
 * The command line of `cutover watch`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/watch.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { StatusOptions } from '../commands/status';
import { examples, MIGRATION_ARGUMENT, RUN_OPTION, type Run } from '../options';

export function registerWatch(program: Command, run: Run): void {
  program
    .command('watch')
    .argument(...MIGRATION_ARGUMENT)
    .description('Follow a migration live until it ends')
    .option(...RUN_OPTION)
    .addHelpText('after', examples('cutover watch claims-bot'))
    .action((workflowId: string, o: Omit<StatusOptions, 'workflowId'>) =>
      run(async (ctx) => (await import('../commands/watch.js')).watchCommand(ctx, { workflowId, ...o })),
    );
}
