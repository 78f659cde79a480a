/**
 * The in-process runtime of App Service workers: each site/slot instance is the client app's handler
 * (`client-app/app.ts`) built on the instance's environment inside the simulator's process, answered in memory by
 * the front door. Its Azure calls go over HTTPS to the simulator like a process worker's, through one keep-alive
 * agent that trusts the simulator's CA; its credential speaks the managed-identity protocol with the instance's
 * own IDENTITY_ENDPOINT / IDENTITY_HEADER (see client-app/identity.ts). A stopped worker answers nothing more: a
 * request it was still answering gets the front door's 503, as from a process worker killed under it.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { Worker, WorkerRuntime, WorkerSpec } from './app-runtime';
import { createClientApp, writeAppResponse, type ClientApp } from './client-app/app';
import { AppServiceIdentityCredential } from './client-app/identity';
import { httpsFetch } from './https-fetch';

class InProcessWorker implements Worker {
  readonly ready: Promise<boolean>;
  private readonly app: ClientApp;
  private stopped = false;

  constructor(spec: WorkerSpec, fetchFn: typeof fetch, log: (line: string) => void) {
    const env = spec.env;
    const identity = { endpoint: env.IDENTITY_ENDPOINT ?? '', header: env.IDENTITY_HEADER ?? '', fetch: fetchFn };
    this.app = createClientApp(env, {
      credential: () => new AppServiceIdentityCredential(identity, env.AZURE_CLIENT_ID),
      fetch: fetchFn,
    });
    this.ready = Promise.resolve().then(() => {
      if (this.stopped) return false;
      log(`app ${spec.host}: worker ${spec.id.slice(0, 8)} ready (in-process)`);
      return true;
    });
  }

  get alive(): boolean {
    return !this.stopped;
  }

  serve(...[rest, req, body, res, gone]: Parameters<Worker['serve']>): void {
    void this.app.handle({ method: req.method ?? 'GET', url: rest, body }).then((out) => {
      if (this.stopped) gone('the worker stopped');
      else writeAppResponse(res, out);
    });
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }

  killSync(): void {
    this.stopped = true;
  }
}

export class InProcessRuntime implements WorkerRuntime {
  readonly name = 'in-process' as const;
  private agent?: Agent;
  private fetchFn?: typeof fetch;

  constructor(
    private readonly caCertPath: string,
    private readonly log: (line: string) => void,
  ) {}

  start(spec: WorkerSpec): Worker {
    if (!this.fetchFn) {
      // Idle sockets close before the simulator's keep-alive timeout (5 s) would close them under a reuse.
      this.agent = new Agent({ ca: readFileSync(this.caCertPath, 'utf8'), keepAlive: true, timeout: 4_000 });
      this.fetchFn = httpsFetch(this.agent);
    }
    return new InProcessWorker(spec, this.fetchFn, this.log);
  }

  close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
    this.fetchFn = undefined;
    return Promise.resolve();
  }
}
