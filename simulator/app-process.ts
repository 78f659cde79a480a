/**
 * The process runtime of App Service workers: one child process per site/slot instance running `client-app/main`
 * with the instance's environment (and NODE_EXTRA_CA_CERTS for the simulator's CA), proxied to over loopback HTTP.
 * No orphans: a child dies with `stop()`, with the simulator's exit, and on its own when its IPC channel closes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import type { Worker, WorkerRuntime, WorkerSpec } from './app-runtime';

function clientAppEntry(): string {
  // Next to this file: main.ts under tsx, main.js from dist.
  return path.join(__dirname, 'client-app', `main${path.extname(__filename)}`);
}

/** Node flags to pass on (`--import tsx` under tsx), without the test runner's or inspector's. */
function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect') && a !== '--watch');
}

class ProcessWorker implements Worker {
  readonly ready: Promise<boolean>;
  private readonly child: ChildProcess;
  private port?: number;
  private stopped = false;

  constructor(spec: WorkerSpec, caCertPath: string, log: (line: string) => void) {
    const env: NodeJS.ProcessEnv = {
      ...spec.env,
      PATH: process.env.PATH,
      ...(process.env.SystemRoot ? { SystemRoot: process.env.SystemRoot } : {}),
      NODE_EXTRA_CA_CERTS: caCertPath,
      // The worker listens on a port of its own choosing and reports it with `ready`: a port picked here and handed
      // over could be taken meanwhile by any of the many processes a loaded machine starts.
      PORT: '0',
    };
    const child = fork(clientAppEntry(), [], {
      execArgv: childExecArgv(),
      env,
      cwd: process.cwd(),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-2000);
    });
    this.ready = new Promise<boolean>((resolveReady) => {
      const timer = setTimeout(() => {
        log(`app ${spec.host}: worker did not start within 60 s`);
        resolveReady(false);
      }, 60_000);
      timer.unref();
      child.on('message', (msg: { type?: string; port?: number }) => {
        if (msg.type !== 'ready') return;
        clearTimeout(timer);
        this.port = msg.port;
        log(`app ${spec.host}: worker ${spec.id.slice(0, 8)} ready (pid ${child.pid})`);
        resolveReady(!this.stopped);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.port = undefined;
        if (!this.stopped)
          log(
            `app ${spec.host}: worker exited unexpectedly (${signal ?? code}) ${stderr.trim().split('\n').pop() ?? ''}`,
          );
        resolveReady(false);
      });
    });
  }

  get alive(): boolean {
    return this.port !== undefined && !this.stopped;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  serve(...[rest, req, body, res, gone]: Parameters<Worker['serve']>): void {
    const port = this.port;
    if (!port) return gone('the worker is not listening');
    const headers = { ...req.headers, host: `127.0.0.1:${port}`, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: rest, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => (res.headersSent ? res.destroy() : gone(err.message)));
    upstream.end(body);
  }

  stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 2_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  killSync(): void {
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export class ProcessRuntime implements WorkerRuntime {
  readonly name = 'process' as const;

  constructor(
    private readonly caCertPath: string,
    private readonly log: (line: string) => void,
  ) {}

  start(spec: WorkerSpec): Worker {
    return new ProcessWorker(spec, this.caCertPath, this.log);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
