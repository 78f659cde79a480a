/**
 * The embedded default: a Temporal dev server (Web UI, search attributes, SQLite file), the Azure simulator and a
 * cutover worker, all on this machine. `cutover dev` and `cutover demo` run it; the tests use its parts.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { type AzureEndpoints, refreshingCredential } from '../azure/clients';
import { sharedGovernor } from '../azure/governor';
import { type Simulator, startSimulator } from '../simulator';
import { cacheDir, type CutoverConfig, pathEntries } from '../config/env';
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
  /** The simulator's request-log size (benchmarks that count every request). */
  readonly requestLogLimit?: number;
  /**
   * A throwaway environment (`cutover demo`, the benchmark): Temporal and the simulator state in memory, and the
   * simulator's credentials file and the server log in a folder of its own, removed at stop. It shares no file
   * with `cutover dev` and does not write the dev environment's address book.
   */
  readonly ephemeral?: boolean;
  /** Log every simulator request (noisy; for debugging). */
  readonly verbose?: boolean;
  /** Run the embedded worker (default). Without it, a separate `cutover worker` can poll the dev environment. */
  readonly worker?: boolean;
  readonly log: (message: string) => void;
}

export interface Embedded {
  readonly server: DevServer;
  readonly sim: Simulator;
  /** The embedded worker, unless started without one. */
  readonly worker?: Worker;
  readonly env: DevEnvironment;
  /** Resolves when the worker stops (after `stop()`, or if it fails). */
  readonly running: Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const { config, log } = options;
  installRuntimeLogging('WARN');
  // The dev environment's files, or (ephemeral) a fresh folder nobody else writes to.
  const dir = options.ephemeral ? ephemeralDir(config.home) : path.join(config.home, 'dev');
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
      ...(options.requestLogLimit ? { requestLogLimit: options.requestLogLimit } : {}),
      ...(options.verbose ? { log: (line: string) => log(`[sim] ${line}`) } : {}),
    });
    if (options.reset) await sim.control.reset();
    const endpoints: AzureEndpoints = {
      armEndpoint: sim.info.armEndpoint,
      authorityHost: sim.info.authorityHost,
      caCert: sim.info.caCert,
      logsEndpoint: sim.info.logsEndpoint,
      metricsEndpoint: sim.info.metricsEndpoint,
    };
    connection = await NativeConnection.connect({ address: server.address });
    const simulator = sim;
    const worker =
      options.worker === false
        ? undefined
        : await createCutoverWorker({
            connection,
            namespace: server.namespace,
            taskQueue: config.taskQueue,
            // Read at every use: loading another scenario gives the worker principal a new secret.
            credential: refreshingCredential(endpoints, () => simulator.control.credentials(WORKER_PRINCIPAL)),
            endpoints,
            evidenceDir: config.evidenceDir,
            governor: sharedGovernor(config.azure.armBudgets),
            webhooks: config.webhooks,
            lroPollIntervalMs: 500,
          });
    const running = worker ? worker.run() : new Promise<void>(() => undefined);
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
        logsEndpoint: sim.info.logsEndpoint,
        metricsEndpoint: sim.info.metricsEndpoint,
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
          if (worker?.getState() === 'RUNNING') worker.shutdown();
          if (worker) await running.catch(() => undefined);
          await started.connection.close();
          await started.sim.close();
          await server.stop();
          if (options.ephemeral) rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await server.stop();
    // The server log stays for a failed start (the error names it); the credentials go.
    if (options.ephemeral) rmSync(path.join(dir, 'simulator-credentials.json'), { force: true });
    throw err;
  }
}

function ephemeralDir(home: string): string {
  const parent = path.join(home, 'ephemeral');
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  return mkdtempSync(path.join(parent, `${process.pid}-`));
}
