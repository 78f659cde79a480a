/**
 * The command line of `cutover history`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/history.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import { examples, type Run } from '../options';

export function registerHistory(program: Command, run: Run): void {
  program
    .command('history')
    .argument('<app>', 'app name (or a workflow id)')
    .description('Every migration of an app, every run, newest first: times, run id, ticket and outcome')
    .addHelpText(
      'after',
      examples(
        'cutover history claims-bot',
        'cutover -o json history claims-bot',
        'cutover evidence claims-bot --run 0f9e2a4c-6d1b-4e8a-9c3f-5b7d2e1a8c46',
      ),
    )
    .action((app: string) => run(async (ctx) => (await import('../commands/history.js')).historyCommand(ctx, { app })));
}
