/** `cutover dev`: the embedded default — Temporal dev server + Web UI, the simulator and a worker. */
import { startEmbedded } from '../../worker/embedded';
import type { CliContext } from '../context';
import { UserError } from '../errors';
import { untilSignal } from '../signals';

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
