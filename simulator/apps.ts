/**
 * App Service's workers, simulated: one child process per site/slot instance running `client-app/main`, a routing
 * table saying which instance serves which slot (a swap moves an instance between slots), the recycle that
 * follows a settings change or restart (503 meanwhile), and the front door that proxies `/sites/{name}[/slots/{slot}]/…`
 * to the serving instance. Every instance gets its own IDENTITY_HEADER; the managed-identity endpoint resolves it
 * to the slot the instance serves *now*. No orphans: children die with `close()`, with the simulator's exit, and on
 * their own when their IPC channel to the simulator closes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import * as path from 'node:path';
import { send } from './http';
import { type ReferenceResult } from './keyvault-references';
import { type Site, PRODUCTION, key } from './model';

export interface AppHostOptions {
  baseUrl: string;
  caCertPath: string;
  restartMs: () => number;
  /** Latency of the first request a site's fresh worker answers (cold start; 0 on plans that start warm). */
  coldStartMs?: (site: Site) => number;
  log: (line: string) => void;
  /** The platform's pass over the settings at worker start (Key Vault references become values). */
  resolveSettings?: (
    site: Site,
    slot: string,
    settings: Record<string, string>,
  ) => { settings: Record<string, string>; references: ReferenceResult[] };
}

interface Instance {
  id: string;
  /** IDENTITY_HEADER of this worker. */
  header: string;
  /**
   * SIM_EGRESS_TOKEN of this worker: sent on its Azure OpenAI calls so the data plane can tell which site's outbound
   * address the call came from (App Service's NAT, simulated). A secret, like the identity header.
   */
  egress: string;
  child?: ChildProcess;
  port?: number;
  /** Resolves true once listening, false if it failed to start or was stopped first. */
  ready: Promise<boolean>;
  isReady: boolean;
  /** The front door answers 503 before this time (the configured restart time). */
  notBefore: number;
  /** `${siteKey}|${slot}` this instance serves now. */
  serving: string;
  stopped: boolean;
  /** How the Key Vault references of this worker's settings resolved when it started. */
  references: ReferenceResult[];
  /** Its first request still waits for the cold start (its duration, ms); 0 once warm. */
  coldMs: number;
}

const slotKey = (site: Site, slot: string) => `${key(site.id)}|${slot.toLowerCase()}`;

function clientAppEntry(): string {
  // Next to this file: main.ts under tsx, main.js from dist.
  return path.join(__dirname, 'client-app', `main${path.extname(__filename)}`);
}

/** Node flags to pass on (`--import tsx` under tsx), without the test runner's or inspector's. */
function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect') && a !== '--watch');
}

export class AppHost {
  private readonly instances = new Map<string, Instance>();
  /** slotKey → instance id. */
  private readonly routing = new Map<string, string>();
  private readonly issuedHeaders = new Set<string>();
  private readonly onExit = () => this.killAllSync();
  private closed = false;

  constructor(private readonly opts: AppHostOptions) {
    process.once('exit', this.onExit);
  }

  /** Starts (or restarts) the worker of every slot of these sites; resolves when all are listening. */
  async startAll(sites: Site[]): Promise<void> {
    const waits: Promise<boolean>[] = [];
    for (const site of sites) for (const slot of Object.keys(site.slots)) waits.push(this.recycle(site, slot).ready);
    await Promise.all(waits);
  }

  /** Replaces the slot's worker with a fresh one on the slot's current settings (settings change, restart). */
  recycle(site: Site, slot: string): { ready: Promise<boolean> } {
    const k = slotKey(site, slot);
    const old = this.routing.get(k);
    if (old) void this.stop(old);
    const inst = this.spawn(site, slot, k, site.slots[slot].settings, site.slots[slot].supportsIdentity);
    this.routing.set(k, inst.id);
    return inst;
  }

  /**
   * Slot swap as App Service does it: the source slot's worker restarts with the settings it will have in the
   * target (503 on the source meanwhile), then routing switches so it serves the target, then the former target
   * worker becomes the source's and restarts with the source's settings. `apply` updates the ARM state at the switch.
   */
  async swap(
    site: Site,
    source: string,
    target: string,
    plan: { targetSettings: Record<string, string>; minMs: number },
    apply: () => void,
  ): Promise<void> {
    const started = Date.now();
    const sk = slotKey(site, source);
    const tk = slotKey(site, target);
    const previousSource = this.routing.get(sk);
    if (previousSource) void this.stop(previousSource);
    const warm = this.spawn(site, source, sk, plan.targetSettings, site.slots[source].supportsIdentity);
    this.routing.set(sk, warm.id);
    const ok = await warm.ready;
    if (!ok) throw new Error('the swapped-in worker failed to start');
    // Routing switches only once the warmed-up worker would answer: App Service's swap waits for warm-up.
    const wait = Math.max(started + plan.minMs, warm.notBefore) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (this.closed) return;
    const formerTarget = this.routing.get(tk);
    warm.serving = tk;
    this.routing.set(tk, warm.id);
    this.routing.delete(sk);
    if (formerTarget) void this.stop(formerTarget);
    apply();
    this.recycle(site, source);
  }

  /** The slot an IDENTITY_HEADER's worker currently serves, as `{ siteKey, slot }`. */
  resolveIdentityHeader(header: string): { siteKey: string; slot: string } | undefined {
    for (const inst of this.instances.values()) {
      if (inst.stopped || inst.header !== header) continue;
      const [siteKey, slot] = inst.serving.split('|');
      return { siteKey, slot };
    }
    return undefined;
  }

  /** The slot an egress token's worker serves now (live workers only: a stopped one no longer has an address). */
  resolveEgressToken(token: string): { siteKey: string; slot: string } | undefined {
    for (const inst of this.instances.values()) {
      if (inst.stopped || inst.egress !== token) continue;
      const [siteKey, slot] = inst.serving.split('|');
      return { siteKey, slot };
    }
    return undefined;
  }

  /** The Key Vault reference resolutions of the worker serving the slot now. */
  references(site: Site, slot: string): ReferenceResult[] | undefined {
    const id = this.routing.get(slotKey(site, slot));
    return id ? this.instances.get(id)?.references : undefined;
  }

  /** Every IDENTITY_HEADER and egress token ever handed to a worker, live or stopped. */
  identityHeaders(): string[] {
    return [...this.issuedHeaders];
  }

  /** Ends the restart time (`restartMs`) of every instance still in it now; returns how many were. */
  endRestarts(): number {
    const now = Date.now();
    let ended = 0;
    for (const inst of this.instances.values())
      if (inst.notBefore > now) {
        inst.notBefore = now;
        ended++;
      }
    return ended;
  }

  status(): Record<string, { instanceId: string; ready: boolean; pid?: number }> {
    const out: Record<string, { instanceId: string; ready: boolean; pid?: number }> = {};
    for (const [k, id] of this.routing) {
      const inst = this.instances.get(id);
      if (inst) out[k] = { instanceId: id, ready: inst.isReady && Date.now() >= inst.notBefore, pid: inst.child?.pid };
    }
    return out;
  }

  /** Proxies a front-door request to the worker serving the slot, or answers 503 while it (re)starts. */
  proxy(site: Site, slot: string, rest: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const id = this.routing.get(slotKey(site, slot));
    const inst = id ? this.instances.get(id) : undefined;
    if (!inst || !inst.isReady || !inst.port || Date.now() < inst.notBefore) {
      send(res, {
        status: 503,
        headers: { 'retry-after': '1' },
        body: { error: { code: 'ServiceUnavailable', message: 'The app is starting or restarting.' } },
      });
      return;
    }
    if (inst.coldMs > 0) {
      // The first request after a (re)start on a consumption plan waits for the host to load; later ones do not.
      const wait = inst.coldMs;
      inst.coldMs = 0;
      setTimeout(() => this.forward(site, slot, inst, rest, req, body, res), wait);
      return;
    }
    this.forward(site, slot, inst, rest, req, body, res);
  }

  private forward(
    site: Site,
    slot: string,
    inst: Instance,
    rest: string,
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
  ): void {
    const id = inst.id;
    const headers = { ...req.headers, host: `127.0.0.1:${inst.port}`, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const upstream = httpRequest(
      { host: '127.0.0.1', port: inst.port, method: req.method, path: rest, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) return res.destroy();
      // The worker went away under the request (a restart or swap replaced it): App Service answers 503 then.
      const replaced = this.routing.get(slotKey(site, slot)) !== id || !this.instances.get(inst.id)?.isReady;
      send(
        res,
        replaced
          ? {
              status: 503,
              headers: { 'retry-after': '1' },
              body: { error: { code: 'ServiceUnavailable', message: 'The app is starting or restarting.' } },
            }
          : { status: 502, body: { error: { code: 'BadGateway', message: `The app did not answer: ${err.message}` } } },
      );
    });
    upstream.end(body);
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.instances.values()].map((inst) => this.stop(inst.id));
    await Promise.all(exits);
    process.removeListener('exit', this.onExit);
  }

  private spawn(
    site: Site,
    slot: string,
    serving: string,
    settings: Record<string, string>,
    supportsIdentity: boolean,
  ): Instance {
    const id = randomUUID();
    const header = randomBytes(24).toString('base64url');
    const egress = randomBytes(24).toString('base64url');
    this.issuedHeaders.add(header);
    this.issuedHeaders.add(egress);
    let resolveReady!: (ok: boolean) => void;
    const resolved = this.opts.resolveSettings?.(site, slot, settings) ?? { settings, references: [] };
    const inst: Instance = {
      id,
      header,
      egress,
      ready: new Promise<boolean>((r) => (resolveReady = r)),
      isReady: false,
      notBefore: Date.now() + this.opts.restartMs(),
      serving,
      stopped: false,
      references: resolved.references,
      coldMs: this.opts.coldStartMs?.(site) ?? 0,
    };
    this.instances.set(id, inst);
    const host = `${this.opts.baseUrl.replace(/^https:\/\//, '')}/sites/${site.name}${slot === PRODUCTION ? '' : `/slots/${slot}`}`;
    // The worker listens on a port of its own choosing (PORT=0) and reports it with `ready`: a port picked here and
    // handed over could be taken meanwhile by any of the many processes a loaded machine starts, and a worker that
    // cannot listen never comes up.
    void Promise.resolve(0).then(
      (port) => {
        if (inst.stopped) return resolveReady(false);
        const env: NodeJS.ProcessEnv = {
          ...resolved.settings,
          PATH: process.env.PATH,
          ...(process.env.SystemRoot ? { SystemRoot: process.env.SystemRoot } : {}),
          IDENTITY_ENDPOINT: `${this.opts.baseUrl}/msi/token`,
          IDENTITY_HEADER: header,
          SIM_EGRESS_TOKEN: egress,
          NODE_EXTRA_CA_CERTS: this.opts.caCertPath,
          PORT: String(port),
          WEBSITE_SITE_NAME: site.name,
          WEBSITE_SLOT_NAME: slot === PRODUCTION ? 'Production' : slot,
          WEBSITE_HOSTNAME: host,
          SIM_APP_SUPPORTS_IDENTITY: String(supportsIdentity),
          SIM_INSTANCE_ID: id,
        };
        const child = fork(clientAppEntry(), [], {
          execArgv: childExecArgv(),
          env,
          cwd: process.cwd(),
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        inst.child = child;
        let stderr = '';
        child.stderr?.on('data', (c: Buffer) => {
          stderr = (stderr + c.toString('utf8')).slice(-2000);
        });
        const timer = setTimeout(() => {
          this.opts.log(`app ${host}: worker did not start within 60 s`);
          resolveReady(false);
        }, 60_000);
        timer.unref();
        child.on('message', (msg: { type?: string; port?: number }) => {
          if (msg.type !== 'ready') return;
          clearTimeout(timer);
          inst.port = msg.port;
          inst.isReady = true;
          this.opts.log(`app ${host}: worker ${id.slice(0, 8)} ready (pid ${child.pid})`);
          resolveReady(true);
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          inst.isReady = false;
          if (!inst.stopped) {
            this.opts.log(
              `app ${host}: worker exited unexpectedly (${signal ?? code}) ${stderr.trim().split('\n').pop() ?? ''}`,
            );
          }
          resolveReady(false);
        });
      },
      () => resolveReady(false),
    );
    return inst;
  }

  private stop(id: string): Promise<void> {
    const inst = this.instances.get(id);
    if (!inst) return Promise.resolve();
    inst.stopped = true;
    inst.isReady = false;
    this.instances.delete(id);
    const child = inst.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 2_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  private killAllSync(): void {
    for (const inst of this.instances.values()) {
      try {
        inst.child?.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
