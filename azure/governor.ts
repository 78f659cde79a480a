/**
 * One governor of ARM requests per process: token buckets per subscription and operation class, shared by every ARM
 * client the process builds (every migration of a fleet and the run around them), so that many migrations in one
 * worker spend the subscription's ARM budget together instead of each discovering it through 429s.
 *
 * ARM throttles per subscription (and principal) with a regional token bucket per operation class: reads (GET, HEAD),
 * writes (PUT, PATCH, POST — a POST action such as listing app settings is a write) and deletes. The governor keeps the
 * same buckets on its side and sends a request only once its bucket holds a token; requests that must wait queue in
 * order. Microsoft.Authorization throttles role-assignment changes more tightly than the subscription's writes, so
 * a role-assignment PUT or DELETE also spends a token of a stricter bucket of its own.
 *
 * What ARM answers corrects the governor: a 429 pauses its bucket until the `Retry-After` (or `retry-after-ms`,
 * `x-ms-retry-after-ms`) it carries, the requests already waiting queued behind the pause in their order; an
 * `x-ms-ratelimit-remaining-…` header lower than the bucket's count (another process, another tool spending the same
 * budget) lowers the bucket to it. ARM's buckets are per principal too; the governor's are per subscription only,
 * every principal of the process together, which errs on the safe side.
 *
 * The governor is an `@azure/core-rest-pipeline` policy placed `perRetry`: the SDK's retries pass through it too.
 */
import type { ArmBudgetSample } from '../contracts/fleet';
import type { PipelinePolicy, PipelineRequest, PipelineResponse, SendRequest } from '@azure/core-rest-pipeline';

/** The operation classes ARM throttles separately, plus role-assignment changes (see `classesOf`). */
export type ArmClass = 'reads' | 'writes' | 'deletes' | 'roleAssignments';
export const ARM_CLASSES: readonly ArmClass[] = ['reads', 'writes', 'deletes', 'roleAssignments'];

export interface Budget {
  /** Tokens a full bucket holds (the burst). */
  readonly capacity: number;
  readonly refillPerSec: number;
}

export type Budgets = Readonly<Record<ArmClass, Budget>>;

/**
 * Azure's documented regional token buckets (per subscription and principal), and a budget of our own for role
 * assignments: Microsoft.Authorization throttles more tightly than the subscription's writes (our reference gives no
 * figure), so role-assignment writes and deletes are kept to a burst of 20 and one a second — far above what a
 * migration needs (one or two assignments each), far below the subscription's 200 and 10 a second.
 */
export const AZURE_BUDGETS: Budgets = {
  reads: { capacity: 250, refillPerSec: 25 },
  writes: { capacity: 200, refillPerSec: 10 },
  deletes: { capacity: 200, refillPerSec: 10 },
  roleAssignments: { capacity: 20, refillPerSec: 1 },
};

/**
 * The governor spends this share of each bucket, its burst and its refill: requests reach ARM with a little jitter
 * (a connection still shaking hands, a busy event loop), so a first bucketful that arrives late and the next
 * request on time would, at exactly ARM's figures, be one token ahead of ARM's bucket (a 429 seen in CI at a
 * burst of 5). The burst keeps at least one token.
 */
export const REFILL_HEADROOM = 0.9;

/** Pause after a 429 that says nothing about when to come back. */
const DEFAULT_RETRY_AFTER_MS = 1000;
/** Window of the reported request rate. */
const RATE_WINDOW_MS = 10_000;
/** Bucket of requests without a subscription (tenant-level: the subscriptions list, providers). */
export const TENANT_SCOPE = 'tenant';

const ROLE_ASSIGNMENTS = /\/providers\/microsoft\.authorization\/roleassignments\//i;

/** The classes a request spends a token of: its ARM class, and for a role-assignment change, also `roleAssignments`. */
export function classesOf(method: string, url: string): readonly ArmClass[] {
  const m = method.toUpperCase();
  const base: ArmClass = m === 'GET' || m === 'HEAD' ? 'reads' : m === 'DELETE' ? 'deletes' : 'writes';
  if (base === 'reads') return [base];
  return ROLE_ASSIGNMENTS.test(new URL(url).pathname) ? [base, 'roleAssignments'] : [base];
}

/** The subscription a request is for (lowercased), or `TENANT_SCOPE` for a tenant-level request. */
export function scopeOf(url: string): string {
  const m = /\/subscriptions\/([^/?#]+)/i.exec(new URL(url).pathname);
  return m?.[1] ? decodeURIComponent(m[1]).toLowerCase() : TENANT_SCOPE;
}

/**
 * When a throttled response says to come back, in ms from now: `retry-after-ms`, `x-ms-retry-after-ms`, then
 * `Retry-After` (seconds or an HTTP date); undefined when none is there or readable.
 */
export function retryAfterMs(headers: { get(name: string): string | undefined }, now: number): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = Number(headers.get(name));
    if (headers.get(name) !== undefined && Number.isFinite(v) && v >= 0) return v;
  }
  const ra = headers.get('retry-after');
  if (ra === undefined || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(ra);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * A token bucket whose tokens can be reserved ahead: `reserve` always takes one and answers a ticket and how long to
 * wait before using it, so waiters are served in the order they came (the count goes negative while they wait);
 * `sent` or `release` ends a reservation. Pure: the caller passes the time.
 */
export class TokenBucket {
  private tokens: number;
  /** Time the tokens were last brought up to date (in the future during a pause: no refill before it). */
  private at: number;
  private pausedUntil = 0;
  private nextTicket = 0;
  /** Reservations whose request is not sent yet. */
  private readonly pending = new Set<number>();
  /** The waiters' new places after the last 429: their tickets in order, from the end of its pause. */
  private requeued = new Map<number, number>();

  constructor(
    readonly budget: Budget,
    now: number,
  ) {
    this.tokens = budget.capacity;
    this.at = now;
  }

  private refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.budget.capacity, this.tokens + ((now - this.at) / 1000) * this.budget.refillPerSec);
    this.at = now;
  }

  /** Takes a token; answers its ticket and the ms until it may be used (0: now). */
  reserve(now: number): { readonly ticket: number; readonly waitMs: number } {
    this.refill(now);
    this.tokens -= 1;
    const ticket = this.nextTicket++;
    this.pending.add(ticket);
    const ready = this.tokens >= 0 ? this.at : this.at + (-this.tokens / this.budget.refillPerSec) * 1000;
    return { ticket, waitMs: Math.max(0, ready - now, this.pausedUntil - now) };
  }

  /**
   * Ms a reservation must still wait because of a 429 since it was made (0: none): the pause, and for a request
   * that was already waiting, its place in the queue behind the pause.
   */
  waitFor(ticket: number, now: number): number {
    const place = this.requeued.get(ticket);
    const ready = place === undefined ? 0 : this.pausedUntil + (place / this.budget.refillPerSec) * 1000;
    return Math.max(0, this.pausedUntil - now, ready - now);
  }

  /** The request of a reservation was sent. */
  sent(ticket: number): void {
    this.pending.delete(ticket);
    this.requeued.delete(ticket);
  }

  /** Gives back a reserved token that was not used (its request was aborted while waiting). */
  release(ticket: number, now: number): void {
    this.sent(ticket);
    this.refill(now);
    this.tokens = Math.min(this.budget.capacity, this.tokens + 1);
  }

  /**
   * ARM answered 429: nothing until `now + waitMs`, when ARM has a token again, the bucket refilling from there.
   * Requests already waiting keep their order behind the pause, one per refill interval; new ones queue after them.
   */
  throttled(now: number, waitMs: number): void {
    this.refill(now);
    this.tokens = 1 - this.pending.size;
    this.pausedUntil = Math.max(this.pausedUntil, now + waitMs);
    this.at = Math.max(this.at, this.pausedUntil);
    this.requeued = new Map([...this.pending].sort((a, b) => a - b).map((ticket, place) => [ticket, place]));
  }

  /** ARM reported what is left of its bucket: never believe in more than that (less what is already promised). */
  observeRemaining(now: number, remaining: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, remaining - this.pending.size);
  }

  /** Ms left of the pause after a 429 (0: none). */
  pausedFor(now: number): number {
    return Math.max(0, this.pausedUntil - now);
  }

  /** Tokens now (negative: reserved by waiting requests). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }
}

export interface ClassStats {
  /** Requests (each attempt of each request) sent. */
  readonly requests: number;
  /** Requests that had to wait for a token or for a pause. */
  readonly waits: number;
  readonly waitedMs: number;
  /** 429 answers received. */
  readonly throttled: number;
  /** Requests per second over the last 10 s. */
  readonly ratePerSec: number;
}

export interface BucketStats extends ClassStats {
  /** The subscription id, or `tenant`. */
  readonly scope: string;
  readonly class: ArmClass;
  readonly capacity: number;
  readonly refillPerSec: number;
  /** Tokens now, rounded down (negative: reserved by waiting requests). */
  readonly tokens: number;
  /** Ms left of a pause after a 429 (0: none). */
  readonly pausedForMs: number;
}

export interface GovernorStats {
  /** Totals over every subscription. */
  readonly classes: Readonly<Record<ArmClass, ClassStats>>;
  readonly buckets: readonly BucketStats[];
}

export interface ArmGovernorOptions {
  /** Budgets per class (Azure's documented ones by default); a class or field left out keeps its default. */
  readonly budgets?: Readonly<Partial<Record<ArmClass, Partial<Budget>>>>;
  /** Share of the refill spent (`REFILL_HEADROOM` by default; 1 spends exactly the budget). */
  readonly headroom?: number;
  /** The clock (tests); `Date.now` by default. */
  readonly now?: () => number;
  /** Sleeps `ms`, rejecting when `signal` aborts (tests); a timer by default. */
  readonly sleep?: (ms: number, signal?: AbortSignalLike) => Promise<void>;
}

/** What core-rest-pipeline passes as a request's `abortSignal`. */
type AbortSignalLike = NonNullable<PipelineRequest['abortSignal']>;

interface Counters {
  requests: number;
  waits: number;
  waitedMs: number;
  throttled: number;
  /** Send times within the rate window. */
  recent: number[];
}

interface Entry {
  readonly bucket: TokenBucket;
  readonly counters: Counters;
}

/** Drops the send times that left the rate window. */
function trimRecent(recent: number[], now: number): void {
  const first = recent.findIndex((t) => now - t < RATE_WINDOW_MS);
  recent.splice(0, first < 0 ? recent.length : first);
}

function abortError(): Error {
  const err = new Error('The operation was aborted.');
  err.name = 'AbortError';
  return err;
}

function timerSleep(ms: number, signal?: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort);
  });
}

export class ArmGovernor {
  private readonly budgets: Budgets;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignalLike) => Promise<void>;
  private readonly entries = new Map<string, Entry>();

  constructor(options: ArmGovernorOptions = {}) {
    const headroom = options.headroom ?? REFILL_HEADROOM;
    this.budgets = Object.fromEntries(
      ARM_CLASSES.map((c) => {
        const b = { ...AZURE_BUDGETS[c], ...options.budgets?.[c] };
        const capacity = Math.max(1, Math.floor(b.capacity * headroom));
        return [c, { capacity, refillPerSec: b.refillPerSec * headroom }];
      }),
    ) as unknown as Budgets;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? timerSleep;
  }

  private entry(scope: string, cls: ArmClass): Entry {
    const key = `${scope}|${cls}`;
    let e = this.entries.get(key);
    if (!e) {
      e = {
        bucket: new TokenBucket(this.budgets[cls], this.now()),
        counters: { requests: 0, waits: 0, waitedMs: 0, throttled: 0, recent: [] },
      };
      this.entries.set(key, e);
    }
    return e;
  }

  /**
   * Waits until a request of these classes in this scope may be sent (a token of each, no pause), then counts it
   * as sent. Rejects with an `AbortError` (the tokens given back) when `signal` aborts first.
   */
  async acquire(scope: string, classes: readonly ArmClass[], signal?: AbortSignalLike): Promise<void> {
    const start = this.now();
    const held = classes.map((c) => {
      const e = this.entry(scope, c);
      return { ...e, ...e.bucket.reserve(start) };
    });
    let waitMs = Math.max(0, ...held.map((h) => h.waitMs));
    let waited = false;
    try {
      // A 429 received while waiting pauses the bucket and requeues its waiters: look again after each sleep.
      while (waitMs > 0) {
        waited = true;
        await this.sleep(waitMs, signal);
        const now = this.now();
        waitMs = Math.max(0, ...held.map((h) => h.bucket.waitFor(h.ticket, now)));
      }
      if (signal?.aborted) throw abortError();
    } catch (err) {
      for (const h of held) h.bucket.release(h.ticket, this.now());
      throw err;
    }
    const sent = this.now();
    for (const e of held) {
      e.bucket.sent(e.ticket);
      e.counters.requests += 1;
      trimRecent(e.counters.recent, sent);
      e.counters.recent.push(sent);
      if (waited) {
        e.counters.waits += 1;
        e.counters.waitedMs += sent - start;
      }
    }
  }

  /** Learns from ARM's answer: a 429's pause, a lower remaining budget. */
  observe(scope: string, classes: readonly ArmClass[], response: PipelineResponse): void {
    const now = this.now();
    for (const cls of classes) {
      const e = this.entry(scope, cls);
      if (response.status === 429) {
        e.counters.throttled += 1;
        e.bucket.throttled(now, retryAfterMs(response.headers, now) ?? DEFAULT_RETRY_AFTER_MS);
        continue;
      }
      // Role assignments have no header of their own: only the ARM classes are reported.
      if (cls === 'roleAssignments') continue;
      const level = scope === TENANT_SCOPE ? 'tenant' : 'subscription';
      const remaining = Number(response.headers.get(`x-ms-ratelimit-remaining-${level}-${cls}`));
      if (response.headers.get(`x-ms-ratelimit-remaining-${level}-${cls}`) !== undefined && Number.isFinite(remaining))
        e.bucket.observeRemaining(now, remaining);
    }
  }

  /** The pipeline policy that governs a client's requests (add it `perRetry`, see `governedPolicies`). */
  policy(): PipelinePolicy {
    return {
      name: 'cutoverArmGovernor',
      sendRequest: async (request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> => {
        const scope = scopeOf(request.url);
        const classes = classesOf(request.method, request.url);
        await this.acquire(scope, classes, request.abortSignal);
        const response = await next(request);
        this.observe(scope, classes, response);
        return response;
      },
    };
  }

  /** Requests, waits, 429s and the current rate per class (totals and per subscription), and each bucket's tokens. */
  stats(): GovernorStats {
    const now = this.now();
    const totals = Object.fromEntries(
      ARM_CLASSES.map((c) => [c, { requests: 0, waits: 0, waitedMs: 0, throttled: 0, ratePerSec: 0 }]),
    ) as Record<ArmClass, { requests: number; waits: number; waitedMs: number; throttled: number; ratePerSec: number }>;
    const buckets: BucketStats[] = [];
    for (const [key, { bucket, counters }] of this.entries) {
      const [scope = '', cls] = key.split('|') as [string, ArmClass];
      trimRecent(counters.recent, now);
      const ratePerSec = counters.recent.length / (RATE_WINDOW_MS / 1000);
      const own = {
        requests: counters.requests,
        waits: counters.waits,
        waitedMs: counters.waitedMs,
        throttled: counters.throttled,
        ratePerSec,
      };
      buckets.push({
        scope,
        class: cls,
        ...own,
        capacity: bucket.budget.capacity,
        refillPerSec: bucket.budget.refillPerSec,
        tokens: Math.floor(bucket.available(now)),
        pausedForMs: bucket.pausedFor(now),
      });
      const t = totals[cls];
      t.requests += own.requests;
      t.waits += own.waits;
      t.waitedMs += own.waitedMs;
      t.throttled += own.throttled;
      t.ratePerSec += ratePerSec;
    }
    return { classes: totals, buckets };
  }
}

/** What a fleet shows of a governor: per class its rate against its budget, the tightest bucket, waits and 429s. */
export function budgetSample(governor: ArmGovernor, at = new Date()): ArmBudgetSample {
  const { classes, buckets } = governor.stats();
  return {
    at: at.toISOString(),
    classes: ARM_CLASSES.flatMap((cls) => {
      const own = buckets.filter((b) => b.class === cls && b.scope !== TENANT_SCOPE);
      if (own.length === 0) return [];
      return [
        {
          class: cls,
          ratePerSec: Math.round(classes[cls].ratePerSec * 10) / 10,
          refillPerSec: own[0].refillPerSec,
          subscriptions: own.length,
          fewestTokens: Math.min(...own.map((b) => b.tokens)),
        },
      ];
    }),
    waits: ARM_CLASSES.reduce((n, c) => n + classes[c].waits, 0),
    throttled: ARM_CLASSES.reduce((n, c) => n + classes[c].throttled, 0),
  };
}

let processGovernor: ArmGovernor | undefined;

/**
 * The process's governor, shared by every ARM client built without one of its own. The first call creates it, with
 * the budgets it is given (the configured ones: the CLI asks first, before it builds any client); later calls
 * return that same governor whatever they pass.
 */
export function sharedGovernor(budgets?: ArmGovernorOptions['budgets']): ArmGovernor {
  processGovernor ??= new ArmGovernor(budgets ? { budgets } : {});
  return processGovernor;
}

/** The `additionalPolicies` of an ARM client governed by `governor` (none for `null`: ungoverned). */
export function governedPolicies(governor: ArmGovernor | null) {
  return governor ? [{ policy: governor.policy(), position: 'perRetry' as const }] : [];
}
