/**
 * Temporal plumbing for tests: a client and a worker on the run's shared dev server, each test on its own task
 * queue, with the workflow bundle built once by test/run.ts.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { testEnv } from './env';

let runtimeInstalled = false;

/** Quiet runtime: warnings and errors only, so test output stays readable. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export interface TemporalHarness {
  readonly client: Client;
  readonly taskQueue: string;
  /** Runs `fn` while a worker with these activities polls the harness's task queue. */
  withWorker<T>(activities: object, fn: () => Promise<T>, options?: Partial<WorkerOptions>): Promise<T>;
  close(): Promise<void>;
}

export async function temporalHarness(prefix: string): Promise<TemporalHarness> {
  installQuietRuntime();
  const address = testEnv('temporalAddress');
  const connection = await Connection.connect({ address });
  const native = await NativeConnection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `${prefix}-${randomUUID().slice(0, 8)}`;
  return {
    client,
    taskQueue,
    async withWorker(activities, fn, options) {
      const worker = await Worker.create({
        connection: native,
        taskQueue,
        workflowBundle: { codePath: testEnv('workflowBundle') },
        activities,
        ...options,
      });
      return worker.runUntil(fn);
    },
    async close() {
      await connection.close();
      await native.close();
    },
  };
}
