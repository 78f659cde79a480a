/**
 * A steady load against one URL (an app's `/health` through the front door, typically), recording every failed
 * request with its time and status or error, to measure the downtime a change causes: the longest window of
 * consecutive failures and the total time spent failing.
 */
import { Agent, request } from 'node:https';

export interface LoadOptions {
  url: string;
  /** Time between request starts (requests do not overlap; a slow answer delays the next start). Default 100 ms. */
  intervalMs?: number;
  /** PEM of a CA to trust (the simulator's). */
  ca?: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  method?: string;
  /**
   * The keep-alive agent to send through: many loads sharing one (a fleet's) reuse a few TLS connections instead of
   * holding one each. Its owner destroys it; without one the load has its own, trusting `ca`.
   */
  agent?: Agent;
  /** Delay before the first request (loads of many apps started together spread over the interval). Default 0. */
  startAfterMs?: number;
}

export interface LoadFailure {
  /** ISO time the request started. */
  time: string;
  status?: number;
  error?: string;
  /** Error code from a JSON error body, when there is one. */
  code?: string;
}

export interface LoadReport {
  total: number;
  ok: number;
  failed: number;
  failures: LoadFailure[];
  downtime: {
    /** Longest run of consecutive failures: from its first failed request to the next successful one (or the end). */
    longestMs: number;
    /** Sum of all failure windows measured the same way. */
    totalMs: number;
    windows: { start: string; end: string; durationMs: number; failures: number }[];
  };
  startedAt: string;
  endedAt: string;
}

interface Sample {
  at: number;
  ok: boolean;
  status?: number;
  error?: string;
  code?: string;
}

function once(url: URL, agent: Agent, method: string, timeoutMs: number): Promise<Omit<Sample, 'at'>> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      // Only a failure's body is read (for its error code): a success's is drained.
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => (ok ? undefined : chunks.push(c)));
      res.on('end', () => {
        let code: string | undefined;
        if (!ok)
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: unknown } };
            const c = body.error?.code;
            if (typeof c === 'string' || typeof c === 'number') code = String(c);
          } catch {
            // not JSON
          }
        resolve({ ok, status, ...(code ? { code } : {}) });
      });
      res.on('error', (err) => resolve({ ok: false, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, error: err.message }));
    req.end();
  });
}

export function startLoad(options: LoadOptions): { stop(): Promise<LoadReport> } {
  const url = new URL(options.url);
  const interval = options.intervalMs ?? 100;
  const own = !options.agent;
  const agent = options.agent ?? new Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  const samples: Sample[] = [];
  const startedAt = Date.now();
  let stopping = false;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const loop = (async () => {
    if (options.startAfterMs) await pause(options.startAfterMs);
    while (!stopping) {
      const at = Date.now();
      const result = await once(url, agent, options.method ?? 'GET', options.timeoutMs ?? 10_000);
      samples.push({ at, ...result });
      const wait = at + interval - Date.now();
      if (wait > 0 && !stopping) await pause(wait);
    }
  })();

  return {
    async stop(): Promise<LoadReport> {
      stopping = true;
      wake?.();
      await loop;
      if (own) agent.destroy();
      return report(samples, startedAt, Date.now());
    },
  };
}

function report(samples: Sample[], startedAt: number, endedAt: number): LoadReport {
  const failures: LoadFailure[] = samples
    .filter((s) => !s.ok)
    .map((s) => ({
      time: new Date(s.at).toISOString(),
      ...(s.status !== undefined ? { status: s.status } : {}),
      ...(s.error ? { error: s.error } : {}),
      ...(s.code ? { code: s.code } : {}),
    }));
  const windows: LoadReport['downtime']['windows'] = [];
  let start: number | undefined;
  let count = 0;
  for (const s of samples) {
    if (!s.ok) {
      start ??= s.at;
      count++;
    } else if (start !== undefined) {
      windows.push({
        start: new Date(start).toISOString(),
        end: new Date(s.at).toISOString(),
        durationMs: s.at - start,
        failures: count,
      });
      start = undefined;
      count = 0;
    }
  }
  if (start !== undefined) {
    windows.push({
      start: new Date(start).toISOString(),
      end: new Date(endedAt).toISOString(),
      durationMs: endedAt - start,
      failures: count,
    });
  }
  return {
    total: samples.length,
    ok: samples.length - failures.length,
    failed: failures.length,
    failures,
    downtime: {
      longestMs: windows.reduce((m, w) => Math.max(m, w.durationMs), 0),
      totalMs: windows.reduce((t, w) => t + w.durationMs, 0),
      windows,
    },
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
  };
}
