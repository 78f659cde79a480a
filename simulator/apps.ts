/**
 * App Service's workers, simulated: one worker per site/slot instance running the client app (a child process, or
 * in the simulator's process: see app-runtime.ts), a routing table saying which instance serves which slot (a swap
 * moves an instance between slots), the recycle that follows a settings change or restart (503 meanwhile), and the
 * front door that hands `/sites/{name}[/slots/{slot}]/…` to the serving instance. Every instance gets its own
 * IDENTITY_HEADER; the managed-identity endpoint resolves it to the slot the instance serves *now*. No orphans:
 * workers stop with `close()` and with the simulator's exit.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { InProcessRuntime } from './app-inprocess';
import { ProcessRuntime } from './app-process';
import { type AppRuntime, type Worker, type WorkerRuntime } from './app-runtime';
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
  /** The runtime new workers start on (`process` unless the scenario or the start options say otherwise). */
  runtime?: () => AppRuntime;
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
  worker: Worker;
  /** Resolves true once it answers (listening, its restart time over), false if it failed or was stopped first. */
  ready: Promise<boolean>;
  isReady: boolean;
  /** The runtime it runs on. */
  runtime: AppRuntime;
  /** The front door answers 503 before this time (the configured restart time). */
  notBefore: number;
  /** `${siteKey}|${slot}` this instance serves now. */
  serving: string;
  stopped: boolean;
  /** How the Key Vault references of this worker's settings resolved when it started. */
  references: ReferenceResult[];
  /** Its first request still waits for the cold start (its duration, ms); 0 once warm. */
  coldMs: number;
  /** Requests it is answering now. */
  inFlight: number;
  /** Set while it finishes its requests before it stops (swapped out of production): called once none is left. */
  onIdle?: () => void;
}

/** The longest a swapped-out worker is given to finish the requests it was answering. */
const DRAIN_MS = 30_000;

const slotKey = (site: Site, slot: string) => `${key(site.id)}|${slot.toLowerCase()}`;

/** The slot a live instance serves now. */
function servingOf(inst: Instance | undefined): { siteKey: string; slot: string } | undefined {
  if (!inst || inst.stopped) return undefined;
  const [siteKey, slot] = inst.serving.split('|');
  return { siteKey, slot };
}

const unavailable = {
  status: 503,
  headers: { 'retry-after': '1' },
  body: { error: { code: 'ServiceUnavailable', message: 'The app is starting or restarting.' } },
};

export class AppHost {
  private readonly instances = new Map<string, Instance>();
  /** Live instances by IDENTITY_HEADER and by egress token (every data-plane call and token request looks one up). */
  private readonly byHeader = new Map<string, Instance>();
  private readonly byEgress = new Map<string, Instance>();
  /** slotKey → instance id. */
  private readonly routing = new Map<string, string>();
  private readonly issuedHeaders = new Set<string>();
  private readonly runtimes = new Map<AppRuntime, WorkerRuntime>();
  private readonly onExit = () => this.killAllSync();
  private closed = false;

  constructor(private readonly opts: AppHostOptions) {
    process.once('exit', this.onExit);
  }

  /**
   * Starts (or restarts) the worker of every slot of these sites, the whole estate (a scenario load or reset): the
   * workers of slots not among them stop. Resolves when all are listening.
   */
  async startAll(sites: Site[]): Promise<void> {
    const keep = new Set(sites.flatMap((site) => Object.keys(site.slots).map((slot) => slotKey(site, slot))));
    for (const [k, id] of this.routing)
      if (!keep.has(k)) {
        this.routing.delete(k);
        void this.stop(id);
      }
    const waits: Promise<boolean>[] = [];
    // The estate of a scenario is already up: its workers answer as soon as they listen, with no restart time.
    for (const site of sites)
      for (const slot of Object.keys(site.slots)) waits.push(this.recycle(site, slot, { restart: false }).ready);
    await Promise.all(waits);
  }

  /**
   * Replaces the slot's worker with a fresh one on the slot's current settings (settings change, restart): 503 for
   * the configured restart time, unless `restart: false` (a scenario load).
   */
  recycle(site: Site, slot: string, { restart = true } = {}): { ready: Promise<boolean> } {
    const k = slotKey(site, slot);
    const old = this.routing.get(k);
    if (old) void this.stop(old);
    const { settings, supportsIdentity } = site.slots[slot];
    const inst = this.spawn(site, slot, k, settings, supportsIdentity, restart);
    this.routing.set(k, inst.id);
    return inst;
  }

  /**
   * Stops the worker serving `slot` for good (a deactivated container app revision): its route answers 503 at once,
   * and the worker, like a replica in its termination grace period, finishes the requests it was answering first.
   */
  retire(site: Site, slot: string): Promise<void> {
    const k = slotKey(site, slot);
    const id = this.routing.get(k);
    this.routing.delete(k);
    if (id) this.stopWhenIdle(id);
    return Promise.resolve();
  }

  /**
   * Slot swap as App Service does it: the source slot's worker restarts with the settings it will have in the
   * target (503 on the source meanwhile), then routing switches so it serves the target, then the former target
   * worker finishes the requests it was answering and stops, and the source gets a fresh worker on the source's new
   * settings. `apply` updates the ARM state at the switch.
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
    // Like App Service, the former worker finishes what it was answering: the switch itself fails no request.
    if (formerTarget) this.stopWhenIdle(formerTarget);
    apply();
    this.recycle(site, source);
  }

  /** The slot an IDENTITY_HEADER's worker currently serves, as `{ siteKey, slot }`. */
  resolveIdentityHeader(header: string): { siteKey: string; slot: string } | undefined {
    return servingOf(this.byHeader.get(header));
  }

  /** The slot an egress token's worker serves now (live workers only: a stopped one no longer has an address). */
  resolveEgressToken(token: string): { siteKey: string; slot: string } | undefined {
    return servingOf(this.byEgress.get(token));
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

  status(): Record<string, AppStatus> {
    const out: Record<string, AppStatus> = {};
    for (const [k, id] of this.routing) {
      const inst = this.instances.get(id);
      if (!inst) continue;
      const pid = inst.worker.pid;
      out[k] = {
        instanceId: id,
        ready: this.answering(inst) && Date.now() >= inst.notBefore,
        runtime: inst.runtime,
        ...(pid !== undefined ? { pid } : {}),
      };
    }
    return out;
  }

  private answering(inst: Instance): boolean {
    return inst.isReady && inst.worker.alive;
  }

  /** Proxies a front-door request to the worker serving the slot, or answers 503 while it (re)starts. */
  proxy(site: Site, slot: string, rest: string, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const id = this.routing.get(slotKey(site, slot));
    const inst = id ? this.instances.get(id) : undefined;
    if (!inst || !this.answering(inst) || Date.now() < inst.notBefore) {
      send(res, unavailable);
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
    const gone = (reason: string) => {
      // The worker went away under the request (a restart or swap replaced it): App Service answers 503 then.
      const replaced = this.routing.get(slotKey(site, slot)) !== inst.id || !this.answering(inst);
      send(
        res,
        replaced
          ? unavailable
          : { status: 502, body: { error: { code: 'BadGateway', message: `The app did not answer: ${reason}` } } },
      );
    };
    inst.inFlight++;
    res.once('close', () => {
      inst.inFlight--;
      if (inst.inFlight === 0) inst.onIdle?.();
    });
    inst.worker.serve(rest, req, body, res, gone);
  }

  /** Stops the worker once it answers nothing more (it no longer receives requests), or after `DRAIN_MS`. */
  private stopWhenIdle(id: string): void {
    const inst = this.instances.get(id);
    if (!inst) return;
    if (inst.inFlight === 0) {
      void this.stop(id);
      return;
    }
    const timer = setTimeout(() => void this.stop(id), DRAIN_MS).unref();
    inst.onIdle = () => {
      clearTimeout(timer);
      void this.stop(id);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.instances.values()].map((inst) => this.stop(inst.id));
    await Promise.all(exits);
    await Promise.all([...this.runtimes.values()].map((r) => r.close()));
    this.runtimes.clear();
    process.removeListener('exit', this.onExit);
  }

  private runtime(name: AppRuntime): WorkerRuntime {
    let runtime = this.runtimes.get(name);
    if (!runtime) {
      runtime =
        name === 'in-process'
          ? new InProcessRuntime(this.opts.caCertPath, this.opts.log)
          : new ProcessRuntime(this.opts.caCertPath, this.opts.log);
      this.runtimes.set(name, runtime);
    }
    return runtime;
  }

  private spawn(
    site: Site,
    slot: string,
    serving: string,
    settings: Record<string, string>,
    supportsIdentity: boolean,
    restart = true,
  ): Instance {
    const id = randomUUID();
    const header = randomBytes(24).toString('base64url');
    const egress = randomBytes(24).toString('base64url');
    this.issuedHeaders.add(header);
    this.issuedHeaders.add(egress);
    const resolved = this.opts.resolveSettings?.(site, slot, settings) ?? { settings, references: [] };
    const runtime = this.runtime(this.opts.runtime?.() ?? 'process');
    const host = `${this.opts.baseUrl.replace(/^https:\/\//, '')}/sites/${site.name}${slot === PRODUCTION ? '' : `/slots/${slot}`}`;
    const worker = runtime.start({
      id,
      host,
      env: {
        ...resolved.settings,
        IDENTITY_ENDPOINT: `${this.opts.baseUrl}/msi/token`,
        IDENTITY_HEADER: header,
        SIM_EGRESS_TOKEN: egress,
        WEBSITE_SITE_NAME: site.name,
        WEBSITE_SLOT_NAME: slot === PRODUCTION ? 'Production' : slot,
        WEBSITE_HOSTNAME: host,
        SIM_APP_SUPPORTS_IDENTITY: String(supportsIdentity),
        SIM_INSTANCE_ID: id,
      },
    });
    const inst: Instance = {
      id,
      header,
      egress,
      worker,
      runtime: runtime.name,
      // Answering, for whoever waits on it, means past the restart time too (the front door 503s until then; the
      // control API may end that wait early, so it is checked again every 100 ms).
      ready: worker.ready.then(async (ok) => {
        inst.isReady = ok && !inst.stopped;
        while (inst.isReady && Date.now() < inst.notBefore)
          await new Promise((r) => setTimeout(r, Math.min(100, inst.notBefore - Date.now())));
        return inst.isReady;
      }),
      isReady: false,
      notBefore: restart ? Date.now() + this.opts.restartMs() : 0,
      serving,
      stopped: false,
      references: resolved.references,
      coldMs: this.opts.coldStartMs?.(site) ?? 0,
      inFlight: 0,
    };
    this.instances.set(id, inst);
    this.byHeader.set(header, inst);
    this.byEgress.set(egress, inst);
    return inst;
  }

  private stop(id: string): Promise<void> {
    const inst = this.instances.get(id);
    if (!inst) return Promise.resolve();
    inst.stopped = true;
    inst.isReady = false;
    this.instances.delete(id);
    this.byHeader.delete(inst.header);
    this.byEgress.delete(inst.egress);
    return inst.worker.stop();
  }

  private killAllSync(): void {
    for (const inst of this.instances.values()) inst.worker.killSync();
  }
}

/** Which worker serves a slot now (the control API's `state().apps`). */
export interface AppStatus {
  instanceId: string;
  ready: boolean;
  runtime: AppRuntime;
  /** The worker's OS process (process runtime only). */
  pid?: number;
}
