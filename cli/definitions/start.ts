/**
 * The command line of `cutover start`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/start.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import { AS_HELP, examples, type Run } from '../options';

export function registerStart(program: Command, run: Run): void {
  program
    .command('start')
    .argument('<file>', 'the plan (YAML or JSON)')
    .description(
      'Start the migration a plan describes and wait for its preflight; prints its workflow id and Web UI link',
    )
    .option('--as <name>', `who starts it ${AS_HELP}; approvers must differ under four-eyes`)
    .option('--watch', 'follow it until it ends')
    .addHelpText(
      'after',
      examples(
        'cutover start examples/claims-bot.yaml --as alice',
        'cutover start my-plan.yaml --as alice --watch',
        'CUTOVER_USER=alice cutover -o json start my-plan.yaml',
      ),
    )
    .action((file: string, o: { as?: string; watch?: boolean }) =>
      run(async (ctx) => (await import('../commands/start.js')).startCommand(ctx, { file, ...o })),
    );
}
