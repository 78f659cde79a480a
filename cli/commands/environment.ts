/** `cutover sim`, `cutover dev` and `cutover worker`: the processes behind migrations. */
import { NativeConnection } from '@temporalio/worker';
import { readCaCert } from '../../azure/clients';
import { runSimulator } from '../../simulator/main';
import { startEmbedded } from '../../worker/embedded';
import { bundleWorkflows } from '../../worker/bundle';
import { createCutoverWorker, installRuntimeLogging } from '../../worker/worker';
import { azureAccess, type CliContext } from '../context';
import { UserError } from '../errors';

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

export interface DevOptions {
  readonly port?: number;
  readonly uiPort?: number;
  readonly simPort?: number;
  readonly reset?: boolean;
  readonly profile?: 'fast' | 'realistic';
  readonly verbose?: boolean;
  /** `--no-worker`: commander sets `worker: false`. */
  readonly worker?: boolean;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** The embedded default: Temporal dev server + Web UI, the simulator with the demo scenario, and a worker. */
export async function devCommand(ctx: CliContext, opts: DevOptions): Promise<void> {
  const env = await startEmbedded({
    config: ctx.config,
    temporalPort: opts.port ?? 7233,
    uiPort: opts.uiPort ?? 8233,
    ...(opts.simPort !== undefined ? { simulatorPort: opts.simPort } : {}),
    ...(opts.reset ? { reset: true } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.verbose ? { verbose: true } : {}),
    ...(opts.worker === false ? { worker: false } : {}),
    log: (m) => ctx.out.info(m),
  }).catch((err: Error) => {
    if (/EADDRINUSE|address already in use|exited before it was ready/i.test(err.message))
      throw new UserError(
        `could not start the dev environment: ${err.message.split('\n')[0]}`,
        'is another `cutover dev` or Temporal server running? choose other ports with --port / --ui-port',
      );
    throw err;
  });
  const info = {
    temporalAddress: env.server.address,
    webUi: env.server.uiUrl,
    namespace: env.server.namespace,
    taskQueue: env.env.taskQueue,
    armEndpoint: env.sim.info.armEndpoint,
    controlUrl: env.sim.info.controlUrl,
    caCertPath: env.sim.info.caCertPath,
    evidenceDir: env.env.evidenceDir,
  };
  ctx.out.result(info, () =>
    [
      'cutover dev environment is up:',
      `  Temporal         ${info.temporalAddress} (namespace ${info.namespace}, task queue ${info.taskQueue})`,
      `  Temporal Web UI  ${info.webUi ?? 'off'}`,
      `  Azure simulator  ${info.armEndpoint} (control: ${info.controlUrl})`,
      `  Evidence         ${info.evidenceDir}`,
      '',
      'Try, in another terminal:',
      '  npx cutover plan show examples/claims-bot.yaml',
      '  npx cutover start examples/claims-bot.yaml --as alice',
      '  npx cutover approve claims-bot --as bob --gate settings      (then open the Web UI link start printed)',
      '',
      'Press Ctrl-C to stop (state is kept for the next `cutover dev`; --reset starts over).',
    ].join('\n'),
  );
  if (!env.worker)
    ctx.out.info(
      `No embedded worker (--no-worker): run \`cutover worker\` in another terminal; it finds this environment on its own.`,
    );
  const failed = env.running.then(
    () => 'worker stopped',
    (err: Error) => `worker failed: ${err.message}`,
  );
  const why = await Promise.race([untilSignal(), failed]);
  ctx.out.info(`${why}: stopping …`);
  await env.stop();
}

export interface WorkerCommandOptions {
  readonly taskQueue?: string;
}

/**
 * A production worker: Temporal from the standard settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TLS, profiles), Azure from DefaultAzureCredential. SIGTERM or SIGINT drains it: it stops polling, lets in-flight
 * activities finish for the grace period (then hands them back to the server, which retries them on another
 * worker), and exits 0.
 */
export async function workerCommand(ctx: CliContext, _opts: WorkerCommandOptions): Promise<void> {
  const { config } = ctx;
  // Before anything touches the Temporal runtime: the first connection instantiates it with default logging.
  installRuntimeLogging('INFO');
  const explicit = ctx.globals.address ?? config.temporal.address;
  const address = explicit ?? ctx.dev?.temporal.address ?? 'localhost:7233';
  const namespace =
    ctx.globals.namespace ??
    config.temporal.namespace ??
    (explicit ? undefined : ctx.dev?.temporal.namespace) ??
    'default';
  const taskQueue = ctx.globals.taskQueue ?? config.taskQueue;
  const access = azureAccess(ctx);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ ...config.temporal.connectionOptions, address });
  } catch (err) {
    throw new UserError(
      `cannot reach Temporal at ${address}: ${(err as Error).message.split('\n')[0]}`,
      'set TEMPORAL_ADDRESS (and TEMPORAL_API_KEY / TLS settings for Temporal Cloud)',
    );
  }
  try {
    const worker = await createCutoverWorker({
      connection,
      // Bundled here, quietly: the SDK's own bundling prints webpack's whole report at INFO.
      workflowBundle: await bundleWorkflows(),
      namespace,
      taskQueue,
      credential: access.credential,
      endpoints: { ...access.endpoints, caCert: access.endpoints.caCert ?? readCaCert(config.azure.caCertPath) },
      evidenceDir: config.evidenceDir,
      extra: { shutdownGraceTime: config.workerShutdownGraceMs },
    });
    ctx.out.info(
      `cutover worker polling ${taskQueue} on ${address} (namespace ${namespace}); Azure: ${access.endpoints.armEndpoint}${
        access.source === 'dev-simulator' ? ' (the dev environment’s simulator)' : ''
      }; evidence: ${config.evidenceDir}`,
    );
    const stop = (signal: NodeJS.Signals) => {
      ctx.out.info(
        `${signal}: draining — no new tasks; in-flight activities get ${Math.round(config.workerShutdownGraceMs / 1000)}s to finish`,
      );
      worker.shutdown();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await worker.run();
    ctx.out.info('cutover worker stopped');
  } finally {
    await connection.close();
  }
}
