/**
 * The simulator's shared core: the state and its snapshot (for `reset`), the knobs (delays, faults, throttling),
 * the token service, the app host, the request log and the record of every secret handed out. Every surface
 * (ARM, Entra, managed identity, data plane, front door, control) works through this object.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { AppHost } from './apps';
import { type AppRuntime } from './app-runtime';
import { ContainerAppRuntime } from './container-apps';
import { type Behavior, DEFAULT_BEHAVIOR } from './behavior';
import { coldStartMsOf } from './functions';
import { resolveReferences } from './keyvault-references';
import { DEFAULT_PAGING, type Paging } from './arm/paging';
import { DEFAULT_THROTTLING, type Delays, FaultEngine, PROFILES, type Profile, Throttler } from './knobs';
import { type Operation, type Principal, type RoleAssignment, type SimState, type Site, clone } from './model';
import { type BuiltScenario, buildState } from './scenario';
import { type Scenario, type ThrottlingInput, loadScenario, parseScenario } from './scenario-schema';
import { vaultNamesOf } from './scenario-keyvault';
import { TokenService } from './tokens';
import { Telemetry } from './monitor';

export interface RequestLogEntry {
  time: string;
  surface: 'arm' | 'entra' | 'msi' | 'dataplane' | 'frontdoor' | 'keyvault' | 'loganalytics' | 'metrics' | 'search';
  method: string;
  path: string;
  operation?: string;
  status: number;
  principal?: string;
  subscription?: string;
  /** Error code of a failed answer. */
  code?: string;
}

interface Persisted {
  version: 1;
  /** Where the simulator listened: endpoints in app settings embed it. */
  baseUrl?: string;
  /** Vault URIs (one port each) when the state was written: stored references embed them. */
  vaultUris?: Record<string, string>;
  scenario: Scenario;
  initial: SimState;
  state: SimState;
}

export interface CoreOptions {
  baseUrl: string;
  caCertPath: string;
  signingKey: string;
  profile?: Profile;
  /** Overrides the scenario's `apps.runtime`. */
  appRuntime?: AppRuntime;
  /** Entries the request log keeps (the newest). */
  requestLogLimit?: number;
  stateFile?: string;
  log: (line: string) => void;
  /** Opens one listener per vault name (trying the `preferred` URIs' ports) and answers their URIs by lower-case name. */
  vaultHosts?: (names: string[], preferred: Record<string, string>) => Promise<Record<string, string>>;
}

const MAX_LOG = 20_000;

export class SimCore {
  state!: SimState;
  private initial!: SimState;
  scenario!: Scenario;
  servicePrincipals: string[] = [];
  profile: Profile = 'fast';
  /** What new app workers run on. */
  appRuntime: AppRuntime = 'process';
  delays: Delays = { ...PROFILES.fast };
  behavior: Behavior = { ...DEFAULT_BEHAVIOR };
  /** `https://127.0.0.1:VAULTPORT/` of every vault, by lower-cased name. */
  vaultUris: Record<string, string> = {};
  paging: Paging = { ...DEFAULT_PAGING };
  readonly faults = new FaultEngine();
  readonly throttler = new Throttler({ enabled: false, ...clone(DEFAULT_THROTTLING) });
  readonly tokens: TokenService;
  readonly apps: AppHost;
  /** Container apps' revisions, run on `apps`. */
  readonly containerApps: ContainerAppRuntime;
  requestLog: RequestLogEntry[] = [];
  /** Diagnostic log rows and metric samples (in memory; emptied by reset and scenario loads). */
  readonly telemetry = new Telemetry();
  /**
   * Marks the control API's own data-plane calls (`callAccount`): only a request carrying it may choose the caller
   * IP its diagnostic row shows. A secret: never in a row, listed by `secrets()`.
   */
  readonly controlMarker = randomUUID();
  /** Every access token issued (for the control API's `secrets`). */
  readonly issuedTokens = new Set<string>();
  /** Simulated waits in progress (`wait`), each with what ends it early. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  constructor(readonly opts: CoreOptions) {
    this.tokens = new TokenService(opts.signingKey);
    this.apps = new AppHost({
      baseUrl: opts.baseUrl,
      caCertPath: opts.caCertPath,
      restartMs: () => this.delays.appRestartMs,
      coldStartMs: (site) => coldStartMsOf(this.state, site, this.delays.coldStartMs),
      log: opts.log,
      runtime: () => this.appRuntime,
      resolveSettings: (site, slot, settings) => resolveReferences(this, site, slot, settings),
    });
    this.containerApps = new ContainerAppRuntime(this);
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  now(): number {
    return Date.now();
  }

  log(line: string): void {
    this.opts.log(line);
  }

  // --- scenario lifecycle -------------------------------------------------------------------------------------

  /** Loads a scenario (or the persisted state when a state file exists and no scenario is forced). */
  async load(input: string | Scenario, opts: { preferStateFile: boolean }): Promise<void> {
    const file = this.opts.stateFile;
    if (opts.preferStateFile && file && existsSync(file)) {
      let saved = JSON.parse(readFileSync(file, 'utf8')) as Persisted;
      const oldVaults = saved.vaultUris ?? {};
      await this.openVaults(vaultNamesOf(parseScenario(saved.scenario)), oldVaults);
      for (const [name, uri] of Object.entries(oldVaults)) {
        const now = this.vaultUris[name];
        if (now && now !== uri) saved = JSON.parse(JSON.stringify(saved).split(uri).join(now)) as Persisted;
      }
      if (saved.baseUrl && saved.baseUrl !== this.baseUrl) {
        // Listening elsewhere now (another port): endpoints stored in app settings must follow.
        saved = JSON.parse(JSON.stringify(saved).split(saved.baseUrl).join(this.baseUrl)) as Persisted;
        this.log(`state moved from ${saved.baseUrl} to ${this.baseUrl}`);
      }
      this.scenario = saved.scenario;
      this.applyKnobs(this.build(parseScenario(saved.scenario)));
      this.initial = saved.initial;
      this.state = saved.state;
      // State files written before key vaults existed.
      this.state.vaults ??= {};
      this.initial.vaults ??= {};
      // … and before workspaces and diagnostic settings.
      this.state.workspaces ??= {};
      this.initial.workspaces ??= {};
      this.state.diagnosticSettings ??= {};
      this.initial.diagnosticSettings ??= {};
      // … and before groups.
      this.state.groups ??= {};
      this.initial.groups ??= {};
      this.log(`state restored from ${file}`);
    } else {
      const parsed = loadScenario(input);
      await this.openVaults(vaultNamesOf(parsed), this.vaultUris);
      this.scenario = parsed;
      const built = this.build(parsed);
      this.applyKnobs(built);
      this.initial = clone(built.state);
      this.state = built.state;
      this.persist();
    }
    this.telemetry.clear();
    this.finishPendingOperations();
    await this.apps.startAll(Object.values(this.state.sites));
    await this.containerApps.startAll();
  }

  async reset(): Promise<void> {
    this.clearTimers();
    this.state = clone(this.initial);
    this.faults.clear();
    this.applyKnobs(this.build(parseScenario(this.scenario)));
    this.requestLog = [];
    this.telemetry.clear();
    this.persist();
    await this.apps.startAll(Object.values(this.state.sites));
    await this.containerApps.startAll();
  }

  private build(parsed: ReturnType<typeof parseScenario>): BuiltScenario {
    return buildState(parsed, { baseUrl: this.baseUrl, now: this.now(), vaultUri: (n) => this.vaultUri(n) });
  }

  private async openVaults(names: string[], preferred: Record<string, string>): Promise<void> {
    if (this.opts.vaultHosts) this.vaultUris = await this.opts.vaultHosts(names, preferred);
  }

  /** A vault's URI, `https://127.0.0.1:VAULTPORT/` (each vault has its own port, as it has its own host in Azure). */
  vaultUri(name: string): string {
    const uri = this.vaultUris[name.toLowerCase()];
    if (!uri) throw new Error(`no listener for vault '${name}'`);
    return uri;
  }

  private applyKnobs(built: BuiltScenario): void {
    this.servicePrincipals = built.servicePrincipals;
    this.profile = this.opts.profile ?? built.profile ?? 'fast';
    this.appRuntime = this.opts.appRuntime ?? built.appRuntime ?? 'process';
    this.delays = { ...PROFILES[this.profile], ...built.delays };
    this.behavior = { ...DEFAULT_BEHAVIOR, ...built.behavior };
    this.paging = { ...DEFAULT_PAGING, ...built.paging };
    this.throttler.set({
      ...clone(DEFAULT_THROTTLING),
      enabled: this.profile === 'realistic',
      ...(built.throttling as ThrottlingInput),
    });
  }

  /** Writes the state file (0600: it holds secrets) after every change. */
  persist(): void {
    const file = this.opts.stateFile;
    if (!file) return;
    const data: Persisted = {
      version: 1,
      baseUrl: this.baseUrl,
      vaultUris: this.vaultUris,
      scenario: this.scenario,
      initial: this.initial,
      state: this.state,
    };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }

  // --- lookups ------------------------------------------------------------------------------------------------

  principal(objectId: string): Principal | undefined {
    return this.state.principals[objectId];
  }

  private readonly principalNames = new NameIndex<Principal>();

  /** A principal by name (the worker's credential is looked up by name at every ARM request's token). */
  principalByName(name: string): Principal | undefined {
    return this.principalNames.find(this.state.principals, name);
  }

  /** Bumped by whatever adds or removes a role assignment (arm/authorization.ts): the index below follows. */
  private roleAssignmentsVersion = 0;
  private assignmentIndex?: {
    readonly of: Record<string, RoleAssignment>;
    readonly version: number;
    readonly byPrincipal: Map<string, RoleAssignment[]>;
  };

  /**
   * The role assignments of one principal (not through groups): every ARM and data-plane request checks its
   * caller's, and a fleet's estate has hundreds. Indexed once per change of the assignments (or of the state).
   */
  assignmentsOf(principalId: string): readonly RoleAssignment[] {
    const all = this.state.roleAssignments;
    if (this.assignmentIndex?.of !== all || this.assignmentIndex.version !== this.roleAssignmentsVersion) {
      const byPrincipal = new Map<string, RoleAssignment[]>();
      for (const ra of Object.values(all)) {
        const k = ra.principalId.toLowerCase();
        const list = byPrincipal.get(k);
        if (list) list.push(ra);
        else byPrincipal.set(k, [ra]);
      }
      this.assignmentIndex = { of: all, version: this.roleAssignmentsVersion, byPrincipal };
    }
    return this.assignmentIndex.byPrincipal.get(principalId.toLowerCase()) ?? [];
  }

  /** Call after adding or removing a role assignment. */
  roleAssignmentsChanged(): void {
    this.roleAssignmentsVersion++;
  }

  private readonly siteNames = new NameIndex<Site>();

  /** The site a front-door request names (every request to an app looks it up). */
  siteByName(name: string): Site | undefined {
    return this.siteNames.find(this.state.sites, name);
  }

  site(siteKey: string): Site | undefined {
    return this.state.sites[siteKey];
  }

  siteUrl(site: Site, slot?: string): string {
    return `${this.baseUrl}/sites/${site.name}${slot && slot.toLowerCase() !== 'production' ? `/slots/${slot}` : ''}`;
  }

  // --- long-running operations --------------------------------------------------------------------------------

  /**
   * Starts an LRO: `work` runs in the background; the operation ends Succeeded when it resolves, Failed when it
   * rejects or when `fail` is given (an injected `lroFail`, after the work's duration).
   */
  startOperation(
    op: Pick<Operation, 'kind' | 'resourceId' | 'principalId'>,
    work: () => Promise<void>,
    onFailed?: (error: NonNullable<Operation['error']>) => void,
    fail?: NonNullable<Operation['error']>,
  ): Operation {
    const operation: Operation = { ...op, id: randomUUID(), status: 'InProgress', startedAt: this.now() };
    this.state.operations[operation.id] = operation;
    this.persist();
    const finish = (error?: NonNullable<Operation['error']>) => {
      if (this.state.operations[operation.id] !== operation) return; // reset meanwhile
      operation.endedAt = this.now();
      operation.status = error ? 'Failed' : 'Succeeded';
      if (error) {
        operation.error = error;
        onFailed?.(error);
      }
      this.persist();
    };
    work().then(
      () => finish(fail),
      (err: unknown) => finish({ code: 'InternalServerError', message: (err as Error).message ?? String(err) }),
    );
    return operation;
  }

  /** A promise that waits `ms`, cancelled (never resolving) by reset/close. */
  wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  /**
   * Ends every simulated wait in progress now, as if its time had passed — operations' delays and apps' restart
   * times — and returns how many there were.
   */
  endWaits(): number {
    const waiting = [...this.timers];
    this.timers.clear();
    for (const [t, resolve] of waiting) {
      clearTimeout(t);
      resolve();
    }
    return waiting.length + this.apps.endRestarts();
  }

  private clearTimers(): void {
    for (const t of this.timers.keys()) clearTimeout(t);
    this.timers.clear();
  }

  /** Operations cut short by a restart of the simulator are completed as if they had run. */
  private finishPendingOperations(): void {
    for (const op of Object.values(this.state.operations)) {
      if (op.status !== 'InProgress') continue;
      op.status = 'Succeeded';
      op.endedAt = this.now();
    }
    for (const a of Object.values(this.state.accounts)) {
      if (['Accepted', 'Updating', 'Creating'].includes(a.provisioningState)) a.provisioningState = 'Succeeded';
    }
    for (const app of Object.values(this.state.containerApps ?? {}))
      if (app.provisioningState === 'InProgress') app.provisioningState = 'Succeeded';
  }

  // --- request log and secrets --------------------------------------------------------------------------------

  record(entry: Omit<RequestLogEntry, 'time'>): void {
    this.requestLog.push({ time: new Date().toISOString(), ...entry });
    const limit = this.opts.requestLogLimit ?? MAX_LOG;
    if (this.requestLog.length > limit) this.requestLog.splice(0, this.requestLog.length - limit);
  }

  secrets(): string[] {
    const out = new Set<string>();
    for (const p of Object.values(this.state.principals)) if (p.secret) out.add(p.secret);
    for (const a of Object.values(this.state.accounts)) {
      out.add(a.key1);
      out.add(a.key2);
    }
    for (const v of Object.values(this.state.vaults ?? {}))
      for (const s of Object.values(v.secrets)) for (const x of s.versions) out.add(x.value);
    // Regenerated-away keys and the headers of stopped workers were real once: they must not leak either.
    for (const app of Object.values(this.state.containerApps ?? {}))
      for (const s of app.secrets) if (s.value) out.add(s.value);
    for (const s of this.retiredSecrets) out.add(s);
    for (const h of this.apps.identityHeaders()) out.add(h);
    for (const t of this.issuedTokens) out.add(t);
    for (const site of Object.values(this.state.sites))
      for (const slot of Object.values(site.slots))
        if (slot.hostKeys)
          for (const k of [
            slot.hostKeys.masterKey,
            ...Object.values(slot.hostKeys.functionKeys),
            ...Object.values(slot.hostKeys.systemKeys),
          ])
            out.add(k);
    out.add(this.controlMarker);
    return [...out];
  }

  /** Secrets no longer in the state (regenerated keys), kept for `secrets()`. */
  readonly retiredSecrets = new Set<string>();

  async close(): Promise<void> {
    this.clearTimers();
    await this.apps.close();
  }
}

/**
 * Records of the state by lower-case name, through an index of their keys: the first record of each name, as a
 * search would find it. A hit is checked against the state, and the index rebuilt when it is out of date (state
 * replaced, record removed or added), so nobody needs to tell it about changes.
 */
class NameIndex<T extends { readonly name: string }> {
  private keys = new Map<string, string>();

  find(records: Readonly<Record<string, T>>, name: string): T | undefined {
    const wanted = name.toLowerCase();
    const hit = this.lookup(records, wanted);
    if (hit) return hit;
    this.keys = new Map();
    for (const [k, r] of Object.entries(records))
      if (!this.keys.has(r.name.toLowerCase())) this.keys.set(r.name.toLowerCase(), k);
    return this.lookup(records, wanted);
  }

  private lookup(records: Readonly<Record<string, T>>, wanted: string): T | undefined {
    const k = this.keys.get(wanted);
    const r = k === undefined ? undefined : records[k];
    return r?.name.toLowerCase() === wanted ? r : undefined;
  }
}
