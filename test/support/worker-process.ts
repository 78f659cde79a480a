/**
 * A cutover worker in its own process, for crash tests that SIGKILL it (test/support/worker-processes.ts starts it).
 * Its only argument is a 0600 JSON file (removed once read) holding the Temporal address, task queue, workflow bundle,
 * simulator endpoints and the worker principal's credentials: the secret never appears in argv or the environment.
 * Prints `ready` on stdout once polling; exits 1 on any start-up error.
 */
import { readFileSync, rmSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { clientSecretCredential, type AzureEndpoints } from '../../azure/clients';
import { createCutoverWorker, installRuntimeLogging } from '../../worker/worker';

export interface WorkerProcessConfig {
  readonly address: string;
  readonly namespace?: string;
  readonly taskQueue: string;
  readonly workflowBundlePath: string;
  readonly endpoints: AzureEndpoints;
  readonly principal: { tenantId: string; clientId: string; clientSecret: string };
  readonly evidenceDir: string;
  readonly lroPollIntervalMs?: number;
}

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error('usage: worker-process.ts CONFIG_FILE');
  const config = JSON.parse(readFileSync(file, 'utf8')) as WorkerProcessConfig;
  rmSync(file, { force: true });
  installRuntimeLogging('WARN');
  const connection = await NativeConnection.connect({ address: config.address });
  try {
    const worker = await createCutoverWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      credential: clientSecretCredential(config.endpoints, config.principal),
      endpoints: config.endpoints,
      evidenceDir: config.evidenceDir,
      workflowBundle: { codePath: config.workflowBundlePath },
      lroPollIntervalMs: config.lroPollIntervalMs,
      // A killed worker's sticky queue is abandoned after 1 s, so its successor gets the next workflow task at once.
      extra: { stickyQueueScheduleToStartTimeout: '1s' },
    });
    process.stdout.write('ready\n');
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
