/**
 * Loads during a migration: `startCalls`, a steady load of SDK calls (simulator/loadgen.ts sends plain HTTPS
 * requests; some callers need a client's body and auth, a vector query through @azure/search-documents for one);
 * `assertNoFailedCall`, a migration under either load; `assertKeyThenIdentity`, that the load spanned the switch.
 */
import assert from 'node:assert/strict';
import type { MigrationResult } from '../../contracts/model';
import type { Estate } from './estate';

export interface CallsReport {
  total: number;
  failed: number;
  failures: { time: string; error: string }[];
}

/**
 * `call` every `intervalMs`, one at a time, each failure recorded with its time and error. Nothing is retried here:
 * give the client no retries, so that every failed request counts.
 */
export function startCalls(call: () => Promise<unknown>, intervalMs = 50): { stop(): Promise<CallsReport> } {
  const report: CallsReport = { total: 0, failed: 0, failures: [] };
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      const at = Date.now();
      try {
        await call();
      } catch (err) {
        report.failed++;
        report.failures.push({ time: new Date(at).toISOString(), error: String(err) });
      }
      report.total++;
      const wait = at + intervalMs - Date.now();
      if (wait > 0 && !stopping)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
    }
  })();
  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      return report;
    },
  };
}

/**
 * Asserts the account's data plane answered (200) on a key and on `principal`'s token since request `from` of the
 * simulator's log: a load over that time ran across the switch from the key to the identity.
 */
export function assertKeyThenIdentity(estate: Estate, from: number, account: string, principal: string | undefined) {
  const served = estate.sim.control
    .requests()
    .slice(from)
    .filter((r) => r.surface === 'dataplane' && r.path.includes(`/${account}/`) && r.status === 200);
  assert.ok(
    served.some((r) => !r.principal),
    `${account} answered on its key`,
  );
  assert.ok(principal && served.some((r) => r.principal === principal), `${account} answered on the identity`);
}

/**
 * Runs `migrate` while `load` runs (started just before), then asserts the migration succeeded, the load ran
 * throughout (more than 20 calls) and none of its calls failed.
 */
export async function assertNoFailedCall(
  load: { stop(): Promise<Pick<CallsReport, 'total' | 'failed'> & { failures: readonly object[] }> },
  migrate: () => Promise<MigrationResult>,
): Promise<void> {
  let report;
  try {
    const result = await migrate();
    assert.equal(result.outcome, 'succeeded', result.reason);
  } finally {
    report = await load.stop();
  }
  assert.ok(report.total > 20, `the load ran throughout (${report.total} calls)`);
  assert.equal(report.failed, 0, `${report.failed} of ${report.total}: ${JSON.stringify(report.failures.slice(0, 5))}`);
}
