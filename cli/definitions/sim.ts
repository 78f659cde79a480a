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
    .addHelpText('after', examples('cutover sim', 'cutover sim --port 8443 --state-file ./sim-state.json'))
    .action((o: SimOptions) => run(async (ctx) => (await import('../commands/sim.js')).simCommand(ctx, o)));
}
