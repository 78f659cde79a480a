/** `cutover sim`: the local Azure simulator on its own. */
import { runSimulator } from '../../simulator/main';
import type { CliContext } from '../context';

export interface SimOptions {
  readonly port?: number;
  readonly scenario?: string;
  readonly stateFile?: string;
  readonly dataDir?: string;
  readonly profile?: 'fast' | 'realistic';
  readonly appRuntime?: 'process' | 'in-process';
}

/** Runs the Azure simulator until SIGINT/SIGTERM; its one JSON line on stdout says where it is. */
export async function simCommand(_ctx: CliContext, opts: SimOptions): Promise<void> {
  const sim = await runSimulator(opts);
  await sim.closed;
}
