/**
 * The one place that decides which Temporal a process talks to: the CLI's commands, `cutover worker` and the demo
 * all resolve the address, namespace, task queue, Web UI and TLS/API-key options here.
 *
 * Explicit settings win (a flag, then TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / a Temporal config profile,
 * CUTOVER_TASK_QUEUE); otherwise a running `cutover dev` environment; otherwise the public defaults. The dev
 * environment's namespace and Web UI are used only when its address is.
 */
import { Client, Connection } from '@temporalio/client';
import { type CutoverConfig, DEFAULT_TASK_QUEUE, type TemporalConfig } from '../config/env';
import type { DevEnvironment } from '../worker/dev-env';
import { TemporalUnreachableError } from './errors';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

/** Settings given for this one invocation (command-line flags), stronger than any configuration. */
export interface TemporalOverrides {
  readonly address?: string;
  readonly namespace?: string;
  readonly taskQueue?: string;
}

export interface TemporalSettings {
  readonly config: Pick<CutoverConfig, 'taskQueue' | 'webUiUrl'> & { readonly temporal: TemporalConfig };
  /** The running local dev environment, if it may be used. */
  readonly dev?: DevEnvironment;
  readonly overrides?: TemporalOverrides;
}

export interface ResolvedTemporal {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  /** Whether the address was given explicitly rather than taken from the dev environment or the default. */
  readonly explicit: boolean;
  readonly uiUrl?: string;
  /** TLS, API key and the like, for a client `Connection` or a worker's `NativeConnection`. */
  readonly connectionOptions: TemporalConfig['connectionOptions'];
}

export function resolveTemporal(settings: TemporalSettings): ResolvedTemporal {
  const { config, dev, overrides = {} } = settings;
  const explicitAddress = overrides.address ?? config.temporal.address;
  const explicit = explicitAddress !== undefined;
  const fromDev = explicit ? undefined : dev;
  const uiUrl = config.webUiUrl ?? fromDev?.temporal.uiUrl;
  return {
    address: explicitAddress ?? fromDev?.temporal.address ?? DEFAULT_ADDRESS,
    namespace: overrides.namespace ?? config.temporal.namespace ?? fromDev?.temporal.namespace ?? DEFAULT_NAMESPACE,
    taskQueue:
      // An explicit CUTOVER_TASK_QUEUE wins over the dev environment's; the default does not.
      overrides.taskQueue ??
      (config.taskQueue !== DEFAULT_TASK_QUEUE ? config.taskQueue : (dev?.taskQueue ?? config.taskQueue)),
    explicit,
    ...(uiUrl ? { uiUrl } : {}),
    connectionOptions: config.temporal.connectionOptions,
  };
}

/** A connected client and what it was resolved from. */
export interface TemporalAccess {
  readonly client: Client;
  readonly namespace: string;
  readonly address: string;
  readonly taskQueue: string;
  readonly uiUrl?: string;
  close(): Promise<void>;
}

/** The first line of an error's message: gRPC errors carry pages of detail. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

export async function connectClient(settings: TemporalSettings): Promise<TemporalAccess> {
  const resolved = resolveTemporal(settings);
  const { address, namespace, taskQueue, uiUrl } = resolved;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...resolved.connectionOptions, address, connectTimeout: 5000 });
  } catch (err) {
    throw new TemporalUnreachableError(address, resolved.explicit, firstLine(err));
  }
  return {
    client: new Client({ connection, namespace }),
    namespace,
    address,
    taskQueue,
    ...(uiUrl ? { uiUrl } : {}),
    close: () => connection.close(),
  };
}

/** Connects, runs `fn`, and closes the connection whatever happens. */
export async function withClient<T>(settings: TemporalSettings, fn: (t: TemporalAccess) => Promise<T>): Promise<T> {
  const t = await connectClient(settings);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** The Web UI page of a workflow, when the Web UI is known. */
export function workflowLink(
  access: Pick<TemporalAccess, 'uiUrl' | 'namespace'>,
  workflowId: string,
): string | undefined {
  if (!access.uiUrl) return undefined;
  return `${access.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(access.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
