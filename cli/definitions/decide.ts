/**
 * The command line of `cutover approve` and `cutover reject`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/decide.ts) is imported only when it runs.
 */
import { type Command, Option } from 'commander';
import type { DecideOptions } from '../commands/decide';
import { AS_HELP, examples, MIGRATION_ARGUMENT, type Run } from '../options';

export function registerDecide(program: Command, run: Run, verb: 'approve' | 'reject'): void {
  program
    .command(verb)
    .argument(...MIGRATION_ARGUMENT)
    .description(verb === 'approve' ? 'Approve the open gate' : 'Reject the open gate: the migration rolls back')
    .option('--as <name>', `${verb === 'approve' ? 'approver' : 'who rejects'} ${AS_HELP}`)
    .addOption(
      new Option('--gate <gate>', 'the gate meant; refused unless it is the one open (default: the open one)').choices([
        'settings',
        'local-auth',
      ]),
    )
    .option('--comment <text>', 'recorded in the evidence')
    .addHelpText(
      'after',
      verb === 'approve'
        ? examples(
            'cutover approve claims-bot --as bob --gate settings --comment "CAB-2231 approved"',
            'cutover approve claims-bot --as bob --gate local-auth',
          )
        : examples('cutover reject claims-bot --as bob --gate settings --comment "change freeze this week"'),
    )
    .action((workflowId: string, o: Omit<DecideOptions, 'workflowId'>) =>
      run(async (ctx) => (await import('../commands/decide.js')).decideCommand(ctx, { workflowId, ...o }, verb)),
    );
}
