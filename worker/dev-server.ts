/**
 * Starts and stops a Temporal CLI dev server (`temporal server start-dev`): the embedded default for a laptop and
 * the real server every integration test runs against. Registers cutover's search attributes at start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { type ResolvedTemporalCli } from './temporal-cli';

export interface DevServerOptions {
  readonly cli: ResolvedTemporalCli;
  /** gRPC port; a free one when absent. */
  readonly port?: number;
  /** Web UI port; a free one when absent. Ignored when headless. */
  readonly uiPort?: number;
  readonly headless?: boolean;
  /** SQLite file: state survives a restart of the server. In memory when absent. */
  readonly dbFile?: string;
  readonly namespace?: string;
  /** Server output goes here (it is noisy); discarded when absent. */
  readonly logFile?: string;
  /** How long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
  readonly extraArgs?: readonly string[];
}

export interface DevServer {
  /** host:port for Temporal clients and workers. */
  readonly address: string;
  readonly namespace: string;
  /** Web UI base URL, when the UI is on. */
  readonly uiUrl?: string;
  readonly pid?: number;
  stop(): Promise<void>;
}

/** Thrown when the dev server exits or does not accept connections in time. */
export class DevServerStartError extends Error {
  constructor(
    message: string,
    readonly logFile?: string,
  ) {
    super(logFile ? `${message} (server log: ${logFile})` : message);
    this.name = 'DevServerStartError';
  }
}

const LOCALHOST = '127.0.0.1';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOCALHOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForTemporal(address: string, namespace: string, deadline: number, exited: () => string | undefined) {
  let lastError: unknown;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new DevServerStartError(`Temporal dev server exited before it was ready: ${why}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new DevServerStartError(`Temporal dev server did not become ready at ${address}: ${String(lastError)}`);
}

function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort()));
  const args = [
    'server',
    'start-dev',
    '--ip',
    LOCALHOST,
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  args.push(...(options.extraArgs ?? []));

  if (!options.cli.path) return startWithSdkDownload(port, uiPort, namespace, options);

  const child = spawn(options.cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  if (options.logFile) {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  let exitReason: string | undefined;
  child.once('exit', (code, signal) => (exitReason = `exit code ${code ?? ''}${signal ?? ''}`));
  child.once('error', (err) => (exitReason = err.message));
  const address = `${LOCALHOST}:${port}`;
  try {
    await waitForTemporal(address, namespace, Date.now() + (options.startTimeoutMs ?? 60_000), () => exitReason);
  } catch (err) {
    await stopChild(child);
    throw err instanceof DevServerStartError ? new DevServerStartError(err.message, options.logFile) : err;
  }
  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${LOCALHOST}:${uiPort}`,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

/** Last resort on machines with internet: the SDK downloads and runs the CLI itself. */
async function startWithSdkDownload(
  port: number,
  uiPort: number | undefined,
  namespace: string,
  options: DevServerOptions,
): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: LOCALHOST,
      port,
      ui: uiPort !== undefined,
      uiPort,
      namespace,
      dbFilename: options.dbFile,
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
    },
  });
  return {
    address: `${LOCALHOST}:${port}`,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${LOCALHOST}:${uiPort}`,
    stop: () => env.teardown(),
  };
}
