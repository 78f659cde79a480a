/**
 * The command line of `cutover sim`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/sim.ts) is imported only when it runs.
 */
import { type Command, Option } from 'commander';
import type { SimOptions } from '../commands/sim';
import { examples, port, type Run } from '../options';

export function registerSim(program: Command, run: Run): void {
  program
    .command('sim')
    .description('Run the local Azure simulator; prints one JSON line with its endpoints once ready')
    .option('--port <port>', 'HTTPS port (0 = a free one)', port, 0)
    .option('--scenario <file>', 'scenario YAML, or "demo"', 'demo')
    .option('--state-file <file>', 'keep the simulator state in this file across restarts')
    .option('--data-dir <dir>', 'certificates and signing key (default ~/.cutover/simulator)')
    .addOption(new Option('--profile <profile>', 'timing profile').choices(['fast', 'realistic']))
    .addOption(
      new Option(
        '--app-runtime <runtime>',
        'what runs the simulated apps: a process each (full fidelity) or the simulator itself (hundreds of apps; default: the scenario’s apps.runtime, else process)',
      ).choices(['process', 'in-process']),
    )
    .addHelpText(
      'after',
      examples(
        'cutover sim',
        'cutover sim --port 8443 --state-file ./sim-state.json',
        'cutover sim --scenario estate.yaml --app-runtime in-process',
      ),
    )
    .action((o: SimOptions) => run(async (ctx) => (await import('../commands/sim.js')).simCommand(ctx, o)));
}
