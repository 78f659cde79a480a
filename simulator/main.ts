/**
 * Runs the simulator as a process: `node --import tsx simulator/main.ts [--port N] [--scenario FILE]
 * [--state-file FILE] [--data-dir DIR] [--profile fast|realistic] [--app-runtime process|in-process]` (wired as `cutover sim` by the CLI).
 * Prints ONE JSON line on stdout once ready (endpoints and the path of a 0600 credentials file; never a secret),
 * logs to stderr, and runs until SIGINT/SIGTERM, closing cleanly (no orphaned app workers).
 */
import * as path from 'node:path';
import { defaultDataDir, startSimulator } from './server';
import { type AppRuntime, parseAppRuntime } from './app-runtime';
import { type Profile } from './knobs';

export interface RunSimulatorOptions {
  port?: number;
  scenario?: string;
  stateFile?: string;
  dataDir?: string;
  profile?: Profile;
  appRuntime?: AppRuntime;
}

export interface RunningSimulator {
  ready: Record<string, string>;
  close(): Promise<void>;
  /** Resolves when the simulator has closed after a signal. */
  closed: Promise<void>;
}

export async function runSimulator(opts: RunSimulatorOptions = {}): Promise<RunningSimulator> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const log = (line: string) => process.stderr.write(`[sim] ${line}\n`);
  const sim = await startSimulator({
    port: opts.port ?? 0,
    scenario: opts.scenario ?? 'demo',
    dataDir,
    log,
    ...(opts.stateFile ? { stateFile: path.resolve(opts.stateFile) } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.appRuntime ? { appRuntime: opts.appRuntime } : {}),
    // The port is part of the name so that two simulators sharing a data dir do not clobber each other's file.
    credentialsFile: path.join(dataDir, 'credentials-{port}.json'),
  });
  const ready = {
    armEndpoint: sim.info.armEndpoint,
    authorityHost: sim.info.authorityHost,
    tenantId: sim.info.tenantId,
    subscriptionId: sim.info.subscriptionId,
    caCertPath: sim.info.caCertPath,
    controlUrl: sim.info.controlUrl,
    logsEndpoint: sim.info.logsEndpoint,
    metricsEndpoint: sim.info.metricsEndpoint,
    credentialsFile: sim.info.credentialsFile ?? '',
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const close = async () => {
    await sim.close();
    resolveClosed();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: closing`);
    void close().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { ready, close, closed };
}

function parseArgs(argv: string[]): RunSimulatorOptions {
  const out: RunSimulatorOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--port') out.port = Number(value());
    else if (arg === '--scenario') out.scenario = value();
    else if (arg === '--state-file') out.stateFile = value();
    else if (arg === '--data-dir') out.dataDir = value();
    else if (arg === '--profile') {
      const p = value();
      if (p !== 'fast' && p !== 'realistic') throw new Error('--profile is fast or realistic');
      out.profile = p;
    } else if (arg === '--app-runtime') out.appRuntime = parseAppRuntime(value(), '--app-runtime');
    else throw new Error(`unknown argument ${arg}`);
  }
  if (out.port !== undefined && !(Number.isInteger(out.port) && out.port >= 0 && out.port < 65536))
    throw new Error('--port is 0..65535');
  return out;
}

if (require.main === module) {
  runSimulator(parseArgs(process.argv.slice(2))).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
