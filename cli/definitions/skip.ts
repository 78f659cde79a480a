/**
 * The command line of `cutover skip`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/skip.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { SkipOptions } from '../commands/skip';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';

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
      run(async (ctx) => (await import('../commands/skip.js')).skipCommand(ctx, { workflowId, ...o })),
    );
}
