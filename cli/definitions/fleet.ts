/**
 * The command line of `cutover fleet …`: arguments, options and help, cheap to load for `--help`. What each does
 * (../commands/fleet.ts) is imported only when it runs.
 */
import { type Command, Option } from 'commander';
import { AS_HELP, examples, type Run } from '../options';

const FLEET_ARGUMENT = [
  '<fleet>',
  'the fleet: its change ticket, or its workflow id (cutover/fleet/<ticket>)',
] as const;
const commands = () => import('../commands/fleet.js');

export function registerFleet(program: Command, run: Run): void {
  const fleet = program
    .command('fleet')
    .description('Migrate an estate: waves of callers, one key switch per account')
    .addHelpText(
      'after',
      examples(
        'cutover fleet plan examples/fleet.yaml',
        'cutover fleet start examples/fleet.yaml --as alice',
        'cutover fleet watch CHG-4711',
        'cutover fleet approve CHG-4711 --as bob',
      ),
    );
  fleet
    .command('plan')
    .argument('<file>', 'the fleet plan (YAML or JSON)')
    .description('Dry run: callers per wave and account, what each would change, every problem; changes nothing')
    .option('--offline', 'validate the file only; do not read Azure')
    .action((file: string, o: { offline?: boolean }) =>
      run(async (ctx) => (await commands()).fleetPlanCommand(ctx, { file, ...o })),
    );
  fleet
    .command('start')
    .argument('<file>', 'the fleet plan (YAML or JSON)')
    .description('Start the fleet a plan describes; prints its workflow id and Web UI link')
    .option('--as <name>', `who starts it ${AS_HELP}; approvers must differ under four-eyes`)
    .action((file: string, o: { as?: string }) =>
      run(async (ctx) => (await commands()).fleetStartCommand(ctx, { file, ...o })),
    );
  fleet
    .command('status')
    .argument(...FLEET_ARGUMENT)
    .description('Waves and accounts: callers pending, running, succeeded, failed; the open gate')
    .action((f: string) => run(async (ctx) => (await commands()).fleetStatusCommand(ctx, { fleet: f })));
  fleet
    .command('watch')
    .argument(...FLEET_ARGUMENT)
    .description('Follow the fleet until it ends, printing its table whenever it changes')
    .action((f: string) => run(async (ctx) => (await commands()).fleetWatchCommand(ctx, { fleet: f })));
  for (const verb of ['approve', 'reject'] as const)
    fleet
      .command(verb)
      .argument(...FLEET_ARGUMENT)
      .description(
        verb === 'approve'
          ? 'Approve the open gate (before a wave, before an account’s key switch)'
          : 'Reject the open gate: the fleet stops (no new caller starts)',
      )
      .option('--as <name>', `${verb === 'approve' ? 'approver' : 'who rejects'} ${AS_HELP}`)
      .option('--gate <gate>', 'the gate meant (wave-<n>, keys-<n>); refused unless it is the one open')
      .option('--comment <text>', 'recorded in the evidence')
      .action((f: string, o: { as?: string; gate?: string; comment?: string }) =>
        run(async (ctx) => (await commands()).fleetDecideCommand(ctx, { fleet: f, ...o }, verb)),
      );
  fleet
    .command('abort')
    .argument(...FLEET_ARGUMENT)
    .description(
      'Stop the fleet: no new caller starts; running ones finish or roll back (or the whole wave) per the plan’s onStop',
    )
    .requiredOption('--reason <text>', 'why (recorded in the evidence)')
    .option('--as <name>', `who aborts ${AS_HELP}`)
    .action((f: string, o: { as?: string; reason: string }) =>
      run(async (ctx) => (await commands()).fleetAbortCommand(ctx, { fleet: f, ...o })),
    );
  fleet
    .command('evidence')
    .argument(...FLEET_ARGUMENT)
    .description('The evidence record of a fleet that ended: per account, its callers and key checks; approvals')
    .addOption(new Option('--format <format>', 'markdown or json').choices(['markdown', 'json']).default('markdown'))
    .action((f: string, o: { format?: 'json' | 'markdown' }) =>
      run(async (ctx) => (await commands()).fleetEvidenceCommand(ctx, { fleet: f, ...o })),
    );
}
