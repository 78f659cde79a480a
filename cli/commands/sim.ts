/** `cutover sim`: the local Azure simulator on its own. */
import { type Command, Option } from 'commander';
import { runSimulator } from '../../simulator/main';
import type { CliContext } from '../context';
import { examples, port, type Run } from '../options';

export interface SimOptions {
  readonly port?: number;
  readonly scenario?: string;
  readonly stateFile?: string;
  readonly dataDir?: string;
  readonly profile?: 'fast' | 'realistic';
}

/** Runs the Azure simulator until SIGINT/SIGTERM; its one JSON line on stdout says where it is. */
export async function simCommand(_ctx: CliContext, opts: SimOptions): Promise<void> {
  const sim = await runSimulator(opts);
  await sim.closed;
}

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
    .action((o: SimOptions) => run((ctx) => simCommand(ctx, o)));
}
