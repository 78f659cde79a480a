/**
 * `cutover worker`: a production worker. Temporal from the standard settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS, profiles) — resolved by the same client/connect.ts as every other command, so it also
 * finds a running `cutover dev --no-worker` on its own — and Azure from DefaultAzureCredential. SIGTERM or SIGINT
 * drains it: it stops polling, lets in-flight activities finish for the grace period (then hands them back to the
 * server, which retries them on another worker), and exits 0.
 */
import { NativeConnection } from '@temporalio/worker';
import { readCaCert } from '../../azure/clients';
import { sharedGovernor } from '../../azure/governor';
import { firstLine, resolveTemporal } from '../../client/connect';
import { bundleWorkflows } from '../../worker/bundle';
import { createCutoverWorker, installRuntimeLogging } from '../../worker/worker';
import { azureAccess } from '../azure';
import { type CliContext, temporalSettings } from '../context';
import { UserError } from '../errors';

export async function workerCommand(ctx: CliContext): Promise<void> {
  const { config } = ctx;
  // Before anything touches the Temporal runtime: the first connection instantiates it with default logging.
  installRuntimeLogging('INFO');
  const { address, namespace, taskQueue, connectionOptions } = resolveTemporal(temporalSettings(ctx));
  const access = azureAccess(ctx);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ ...connectionOptions, address });
  } catch (err) {
    throw new UserError(
      `cannot reach Temporal at ${address}: ${firstLine(err)}`,
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
      // Every migration this worker runs waits on the process's one governor of ARM requests.
      governor: sharedGovernor(config.azure.armBudgets),
      webhooks: config.webhooks,
      ...(config.webUiUrl ? { webUiUrl: config.webUiUrl } : {}),
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
