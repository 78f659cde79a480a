/**
 * The simulator's tunable behaviour: delays (propagation, restarts, LROs, latencies) per profile, injected faults,
 * and ARM's per-subscription-per-principal token-bucket throttling.
 */
import { randomUUID } from 'node:crypto';
import { actionMatches } from './rbac';

export type Profile = 'fast' | 'realistic';

export interface Delays {
  /** Age a role assignment needs before the data plane honours it (and a deleted one stops being honoured). */
  propagationMs: number;
  /** Time for the data plane to follow a `disableLocalAuth` change, both ways. */
  localAuthSwitchMs: number;
  /**
   * After `localAuthSwitchMs`, how long the front ends disagree: each key request gets the old or the new answer
   * (deterministically, per account and request), as Azure's "takes a few minutes" allows. Both ways.
   */
  localAuthConsistencyWindowMs: number;
  /** Age a new principal needs before a role assignment without `principalType` can find it. */
  principalReplicationMs: number;
  /** Minimum time an app instance answers 503 after a settings change, restart or swap. */
  appRestartMs: number;
  /**
   * Added to the first request a worker answers after it (re)started, on plans that start cold (Consumption, Flex
   * Consumption): the Functions host loading.
   */
  coldStartMs: number;
  /** Duration of an account update LRO. */
  lroMs: number;
  /** Minimum duration of a slot swap LRO. */
  swapMs: number;
  /** Added latency of ARM reads / writes, Entra tokens, managed-identity tokens, data-plane calls. */
  armReadLatencyMs: number;
  armWriteLatencyMs: number;
  tokenLatencyMs: number;
  msiLatencyMs: number;
  dataPlaneLatencyMs: number;
  /** Added latency of Key Vault data-plane calls. */
  keyVaultLatencyMs: number;
  /** Lifetime of Entra (client-credentials) access tokens; managed-identity tokens live 24 h like App Service's. */
  tokenLifetimeMs: number;
  /** Age a diagnostic log row needs (after its TimeGenerated) before Log Analytics queries see it. */
  logIngestionMs: number;
  /** Age a request needs before Azure Monitor metrics count it. */
  metricsLagMs: number;
}

export const PROFILES: Record<Profile, Delays> = {
  fast: {
    propagationMs: 0,
    localAuthSwitchMs: 0,
    localAuthConsistencyWindowMs: 0,
    principalReplicationMs: 0,
    appRestartMs: 0,
    coldStartMs: 0,
    lroMs: 0,
    swapMs: 0,
    armReadLatencyMs: 0,
    armWriteLatencyMs: 0,
    tokenLatencyMs: 0,
    msiLatencyMs: 0,
    dataPlaneLatencyMs: 0,
    keyVaultLatencyMs: 0,
    tokenLifetimeMs: 3600_000,
    logIngestionMs: 1500,
    metricsLagMs: 0,
  },
  realistic: {
    propagationMs: 180_000,
    localAuthSwitchMs: 120_000,
    localAuthConsistencyWindowMs: 180_000,
    principalReplicationMs: 30_000,
    appRestartMs: 20_000,
    coldStartMs: 6_000,
    lroMs: 8_000,
    swapMs: 30_000,
    armReadLatencyMs: 120,
    armWriteLatencyMs: 450,
    tokenLatencyMs: 150,
    msiLatencyMs: 30,
    dataPlaneLatencyMs: 600,
    keyVaultLatencyMs: 40,
    tokenLifetimeMs: 3600_000,
    logIngestionMs: 240_000,
    metricsLagMs: 90_000,
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Faults

export interface FaultSpec {
  /** ARM operation name or RBAC action, wildcards allowed (`Microsoft.Web/sites/config/appsettings/write`). */
  operation?: string;
  /** HTTP method to match. */
  method?: string;
  /** Substring of the request path (with query) to match, case-insensitive. */
  pathContains?: string;
  /** Status to answer with; absent = latency-only fault (or `lroFail`). */
  status?: number;
  /** Error code and message of the body (defaults by status). */
  code?: string;
  message?: string;
  /** Fires this many times (default 1, or unlimited when `probability` is set). */
  count?: number;
  /** Fires with this probability per matching request. */
  probability?: number;
  /** Latency added to matching requests. */
  latencyMs?: number;
  /** `Retry-After` seconds on the faulted answer. */
  retryAfterSec?: number;
  /** The operation is accepted but its LRO ends `Failed` with `code`/`message`. */
  lroFail?: boolean;
  /**
   * Forces how an account PATCH is answered (200 at once, or 202 + LRO), whatever `behavior.accountUpdateMode`
   * says. Such a fault neither fails nor delays the request; it is consumed by the PATCH it matches.
   */
  accountUpdateMode?: 'sync' | 'async';
}

export interface Fault extends FaultSpec {
  id: string;
  fired: number;
}

export interface FaultMatch {
  method: string;
  path: string;
  operation?: string;
  action?: string;
}

const DEFAULT_CODES: Record<number, [string, string]> = {
  400: ['BadRequest', 'The request is invalid.'],
  404: ['NotFound', 'The resource was not found.'],
  409: ['Conflict', 'The request conflicts with the current state of the resource.'],
  429: ['TooManyRequests', 'The request was throttled.'],
  500: ['InternalServerError', 'An internal server error occurred. Please retry the request.'],
  502: ['BadGateway', 'The gateway did not receive a response.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry the request.'],
  504: ['GatewayTimeout', 'The gateway did not receive a response within the specified time period.'],
};

export function defaultError(status: number): { code: string; message: string } {
  const [code, message] = DEFAULT_CODES[status] ?? ['Error', `Injected fault (HTTP ${status}).`];
  return { code, message };
}

export class FaultEngine {
  faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, id: randomUUID(), fired: 0 };
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    this.faults = [];
  }

  private matches(f: Fault, m: FaultMatch): boolean {
    if (f.method && f.method.toUpperCase() !== m.method.toUpperCase()) return false;
    if (f.pathContains && !m.path.toLowerCase().includes(f.pathContains.toLowerCase())) return false;
    if (f.operation) {
      const hit = [m.operation, m.action].some((o) => o !== undefined && actionMatches(f.operation!, o));
      if (!hit) return false;
    }
    return true;
  }

  /** The faults that fire for this request (at most one with a status or lroFail; any number of latency-only). */
  take(m: FaultMatch): { latencyMs: number; fault?: Fault } {
    let latencyMs = 0;
    let fault: Fault | undefined;
    for (const f of this.faults) {
      if (f.accountUpdateMode || !this.matches(f, m)) continue;
      const limit = f.count ?? (f.probability !== undefined ? Infinity : 1);
      if (f.fired >= limit) continue;
      if (f.probability !== undefined && Math.random() >= f.probability) continue;
      const failing = f.status !== undefined || f.lroFail === true;
      if (failing && fault) continue;
      f.fired++;
      latencyMs += f.latencyMs ?? 0;
      if (failing) fault = f;
    }
    this.prune();
    return { latencyMs, fault };
  }

  /** The update mode a matching `accountUpdateMode` fault forces on this request, if any (consumes it). */
  takeAccountUpdateMode(m: FaultMatch): 'sync' | 'async' | undefined {
    const f = this.faults.find((x) => x.accountUpdateMode && this.matches(x, m));
    if (!f) return undefined;
    f.fired++;
    this.prune();
    return f.accountUpdateMode;
  }

  private prune(): void {
    this.faults = this.faults.filter((f) => f.fired < (f.count ?? (f.probability !== undefined ? Infinity : 1)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Throttling

export type RequestKind = 'reads' | 'writes' | 'deletes';

export interface Bucket {
  capacity: number;
  refillPerSec: number;
}

export interface Throttling {
  /** Enforce (429) or only count and report the remaining budget in headers. */
  enabled: boolean;
  reads: Bucket;
  writes: Bucket;
  deletes: Bucket;
}

export const DEFAULT_THROTTLING: Omit<Throttling, 'enabled'> = {
  reads: { capacity: 250, refillPerSec: 25 },
  writes: { capacity: 200, refillPerSec: 10 },
  deletes: { capacity: 200, refillPerSec: 10 },
};

export class Throttler {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(public config: Throttling) {}

  set(config: Partial<Throttling>): void {
    this.config = {
      enabled: config.enabled ?? this.config.enabled,
      reads: { ...this.config.reads, ...config.reads },
      writes: { ...this.config.writes, ...config.writes },
      deletes: { ...this.config.deletes, ...config.deletes },
    };
    this.buckets.clear();
  }

  /** Spends one token; answers the remaining budget and, when throttled, the seconds to wait. */
  take(subscriptionId: string, principalId: string, kind: RequestKind, now = Date.now()) {
    const conf = this.config[kind];
    const k = `${subscriptionId.toLowerCase()}|${principalId}|${kind}`;
    const b = this.buckets.get(k) ?? { tokens: conf.capacity, at: now };
    b.tokens = Math.min(conf.capacity, b.tokens + ((now - b.at) / 1000) * conf.refillPerSec);
    b.at = now;
    this.buckets.set(k, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { throttled: false, remaining: Math.floor(b.tokens), retryAfterSec: 0 };
    }
    const retryAfterSec = Math.max(1, Math.ceil((1 - b.tokens) / conf.refillPerSec));
    return { throttled: this.config.enabled, remaining: 0, retryAfterSec };
  }
}

export function kindOf(method: string): RequestKind {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'reads';
  if (m === 'DELETE') return 'deletes';
  return 'writes';
}
