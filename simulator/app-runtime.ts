/**
 * What runs an App Service worker for the app host (apps.ts): the process runtime (one child process per instance,
 * full fidelity: the app's own environment, the SDK's DefaultAzureCredential) or the in-process runtime (the same
 * client app handler inside the simulator's process, ~100 times lighter: fleets of hundreds of sites). Both take
 * the same worker environment and answer the front door the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const APP_RUNTIMES = ['process', 'in-process'] as const;
export type AppRuntime = (typeof APP_RUNTIMES)[number];

export interface WorkerSpec {
  /** The worker's instance id. */
  id: string;
  /** Its host name (`127.0.0.1:PORT/sites/{name}[/slots/{slot}]`), for log lines. */
  host: string;
  /** The environment it reads at start: the slot's settings (references resolved) and the platform's variables. */
  env: Record<string, string>;
}

export interface Worker {
  /** Resolves true once it answers requests, false if it failed to start or was stopped first. */
  readonly ready: Promise<boolean>;
  /** The worker's OS process, for the process runtime. */
  readonly pid?: number;
  /** Started and not stopped or crashed since. */
  readonly alive: boolean;
  /**
   * Answers a front-door request (`rest`: path and query inside the site). `gone` answers instead when the worker
   * went away under the request (stopped by a restart or swap, or crashed).
   */
  serve(rest: string, req: IncomingMessage, body: Buffer, res: ServerResponse, gone: (reason: string) => void): void;
  /** Stops it; resolves once nothing of it runs. */
  stop(): Promise<void>;
  /** At the simulator process's exit: nothing may survive it. */
  killSync(): void;
}

export interface WorkerRuntime {
  readonly name: AppRuntime;
  start(spec: WorkerSpec): Worker;
  /** After every worker stopped: frees what the runtime shares between its workers. */
  close(): Promise<void>;
}

/** An app runtime named on a command line (`what`: the option, for the error). */
export function parseAppRuntime(value: string, what: string): AppRuntime {
  if (!(APP_RUNTIMES as readonly string[]).includes(value)) throw new Error(`${what} is ${APP_RUNTIMES.join(' or ')}`);
  return value as AppRuntime;
}
