/**
 * The command line of `cutover status`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/status.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { StatusOptions } from '../commands/status';
import { examples, MIGRATION_ARGUMENT, RUN_OPTION, type Run } from '../options';

export function registerStatus(program: Command, run: Run): void {
  program
    .command('status')
    .argument(...MIGRATION_ARGUMENT)
    .description('Stage table, pending gate, timings and outcome')
    .option(...RUN_OPTION)
    .addHelpText(
      'after',
      examples(
        'cutover status claims-bot',
        'cutover -o json status claims-bot',
        'cutover status claims-bot --run 0f9e2a4c-6d1b-4e8a-9c3f-5b7d2e1a8c46',
      ),
    )
    .action((workflowId: string, o: Omit<StatusOptions, 'workflowId'>) =>
      run(async (ctx) => (await import('../commands/status.js')).statusCommand(ctx, { workflowId, ...o })),
    );
}
