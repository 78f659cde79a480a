/**
 * The command line of `cutover plan`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/plan.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import { examples, type Run } from '../options';

export function registerPlan(program: Command, run: Run): void {
  const plan = program.command('plan').description('Check a migration plan without changing anything');
  plan
    .command('validate')
    .argument('<file>', 'the plan (YAML or JSON)')
    .description('Validate the plan file, then run the read-only preflight against Azure')
    .option('--offline', 'only validate the file; do not read Azure')
    .addHelpText(
      'after',
      examples('cutover plan validate examples/claims-bot.yaml', 'cutover plan validate my-plan.yaml --offline'),
    )
    .action((file: string, o: { offline?: boolean }) =>
      run(async (ctx) => (await import('../commands/plan.js')).planCommand(ctx, { file, ...o }, 'validate')),
    );
  plan
    .command('show')
    .argument('<file>', 'the plan (YAML or JSON)')
    .description('Dry run: what would change, stage by stage, and every problem found')
    .option('--offline', 'do not read Azure')
    .addHelpText(
      'after',
      examples('cutover plan show examples/claims-bot.yaml', 'cutover -o json plan show my-plan.yaml'),
    )
    .action((file: string, o: { offline?: boolean }) =>
      run(async (ctx) => (await import('../commands/plan.js')).planCommand(ctx, { file, ...o }, 'show')),
    );
}
