/**
 * The embedded default: a Temporal dev server (Web UI, search attributes, SQLite file), the Azure simulator and a
 * cutover worker, all on this machine. `cutover dev` and `cutover demo` run it; the tests use its parts.
 */
import * as path from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { clientSecretCredential, type AzureEndpoints } from '../activities/azure-clients';
import { type Simulator, startSimulator } from '../simulator';
import { cacheDir, type CutoverConfig, pathEntries } from './config';
import { type DevEnvironment, removeDevEnvironment, writeDevEnvironment } from './dev-env';
import { type DevServer, startDevServer } from './dev-server';
import { resolveTemporalCli } from './temporal-cli';
import { createCutoverWorker, installRuntimeLogging } from './worker';

export const WORKER_PRINCIPAL = 'cutover-worker';

export interface EmbeddedOptions {
  readonly config: CutoverConfig;
  readonly temporalPort?: number;
  readonly uiPort?: number;
  readonly simulatorPort?: number;
  /** Start from the scenario again instead of the state kept from the last run. */
  readonly reset?: boolean;
  readonly scenario?: string;
  readonly profile?: 'fast' | 'realistic';
  /** Keep state in memory only (a throwaway environment, e.g. for `cutover demo` when nothing runs). */
  readonly ephemeral?: boolean;
  /** Log every simulator request (noisy; for debugging). */
  readonly verbose?: boolean;
  readonly log: (message: string) => void;
}

export interface Embedded {
  readonly server: DevServer;
  readonly sim: Simulator;
  readonly worker: Worker;
  readonly env: DevEnvironment;
  /** Resolves when the worker stops (after `stop()`, or if it fails). */
  readonly running: Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const { config, log } = options;
  installRuntimeLogging('WARN');
  const dir = path.join(config.home, 'dev');
  const cli = await resolveTemporalCli({
    explicitPath: config.temporalCliPath,
    pathEntries: pathEntries(),
    cacheDir: cacheDir(),
    log,
  });
  log(`Starting the Temporal dev server (${cli.source === 'sdk-download' ? 'SDK download' : cli.path}) …`);
  const server = await startDevServer({
    cli,
    ...(options.temporalPort !== undefined ? { port: options.temporalPort } : {}),
    ...(options.uiPort !== undefined ? { uiPort: options.uiPort } : {}),
    ...(options.ephemeral ? {} : { dbFile: path.join(dir, 'temporal.db') }),
    logFile: path.join(dir, 'temporal.log'),
  });
  let sim: Simulator | undefined;
  let connection: NativeConnection | undefined;
  try {
    log('Starting the Azure simulator …');
    sim = await startSimulator({
      port: options.simulatorPort ?? 0,
      scenario: options.scenario ?? 'demo',
      dataDir: path.join(config.home, 'simulator'),
      ...(options.ephemeral ? {} : { stateFile: path.join(dir, 'simulator-state.json') }),
      credentialsFile: path.join(dir, 'simulator-credentials.json'),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.verbose ? { log: (line: string) => log(`[sim] ${line}`) } : {}),
    });
    if (options.reset) await sim.control.reset();
    const endpoints: AzureEndpoints = {
      armEndpoint: sim.info.armEndpoint,
      authorityHost: sim.info.authorityHost,
      caCert: sim.info.caCert,
    };
    connection = await NativeConnection.connect({ address: server.address });
    const worker = await createCutoverWorker({
      connection,
      namespace: server.namespace,
      taskQueue: config.taskQueue,
      credential: clientSecretCredential(endpoints, sim.control.credentials(WORKER_PRINCIPAL)),
      endpoints,
      evidenceDir: config.evidenceDir,
      lroPollIntervalMs: 500,
    });
    const running = worker.run();
    const env: DevEnvironment = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      temporal: {
        address: server.address,
        namespace: server.namespace,
        ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
      },
      azure: {
        armEndpoint: sim.info.armEndpoint,
        authorityHost: sim.info.authorityHost,
        caCertPath: sim.info.caCertPath,
        tenantId: sim.info.tenantId,
        subscriptionId: sim.info.subscriptionId,
        credentialsFile: sim.info.credentialsFile ?? '',
        principal: WORKER_PRINCIPAL,
        controlUrl: sim.info.controlUrl,
      },
      taskQueue: config.taskQueue,
      evidenceDir: config.evidenceDir,
    };
    if (!options.ephemeral) writeDevEnvironment(config.home, env);
    const started = { sim, connection };
    let stopping: Promise<void> | undefined;
    return {
      server,
      sim,
      worker,
      env,
      running,
      stop() {
        stopping ??= (async () => {
          if (!options.ephemeral) removeDevEnvironment(config.home);
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
          await started.connection.close();
          await started.sim.close();
          await server.stop();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
}
