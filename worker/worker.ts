/**
 * Process wiring for a cutover worker: activities built from their dependencies, the workflow bundle, one task
 * queue. Used by `cutover worker` (production), `cutover dev` (embedded) and the integration tests alike.
 */
import { Client } from '@temporalio/client';
import {
  DefaultLogger,
  type LogLevel,
  type NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { AzureEndpoints, CredentialSource } from '../azure/clients';
import type { ArmGovernor } from '../azure/governor';
import { createActivities } from '../activities';
import { workflowsPath } from './bundle';

export interface CutoverWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace?: string;
  readonly taskQueue: string;
  readonly credential: CredentialSource;
  readonly endpoints: AzureEndpoints;
  readonly evidenceDir: string;
  /** Webhook URLs by name, for the plans' notifications (CUTOVER_WEBHOOK_URLS). */
  readonly webhooks?: Readonly<Record<string, string>>;
  /** The Temporal Web UI, for links in notifications (CUTOVER_WEB_UI_URL). */
  readonly webUiUrl?: string;
  /** A prebuilt bundle (tests, `cutover dev`); bundled from source when absent. */
  readonly workflowBundle?: WorkflowBundleOption;
  /** Poll interval for Azure long-running operations; Azure's default is 2 s. */
  readonly lroPollIntervalMs?: number;
  /** The governor of the activities' ARM requests: the process's shared one by default (`azure/governor.ts`). */
  readonly governor?: ArmGovernor;
  readonly extra?: Partial<WorkerOptions>;
}

export async function createCutoverWorker(options: CutoverWorkerOptions): Promise<Worker> {
  const namespace = options.namespace ?? 'default';
  const activities = createActivities({
    credential: options.credential,
    endpoints: options.endpoints,
    evidenceDir: options.evidenceDir,
    lroPollIntervalMs: options.lroPollIntervalMs,
    ...(options.governor ? { governor: options.governor } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ...(options.webUiUrl ? { webUiUrl: options.webUiUrl } : {}),
    // The worker's own connection serves the activities that start or signal workflows (the account lock).
    temporal: { client: new Client({ connection: options.connection, namespace }) },
  });
  return Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    ...options.extra,
  });
}

let runtimeInstalled = false;

/** Sets the Temporal runtime's log level once per process (before any connection); later calls are no-ops. */
export function installRuntimeLogging(level: LogLevel): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(level) });
}
