/**
 * The command line of `cutover demo`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/demo.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { DemoOptions } from '../commands/demo';
import { examples, port, type Run } from '../options';

export function registerDemo(program: Command, run: Run): void {
  program
    .command('demo')
    .description(
      'Migrate the demo app end to end on a throwaway environment of its own, approving automatically, and print the evidence',
    )
    .option('--plan <file>', 'plan to run (default: examples/claims-bot.yaml)')
    .option('--keep-running', 'stay up afterwards to explore the Web UI (default when on a terminal)')
    .option('--no-keep-running', 'stop as soon as the migration ends')
    .option('--port <port>', 'Temporal gRPC port, if free (default: 7233, else a free one)', port)
    .option('--ui-port <port>', 'Temporal Web UI port, if free (default: 8233, else a free one)', port)
    .addHelpText(
      'after',
      examples(
        'cutover demo',
        'cutover demo --no-keep-running',
        'cutover demo --plan examples/claims-bot-uami-slot-swap.yaml',
      ),
    )
    .action((o: DemoOptions) => run(async (ctx) => (await import('../commands/demo.js')).demoCommand(ctx, o)));
}
