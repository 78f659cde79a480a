/**
 * ARM throttling and a slow data plane. With the simulator's per-subscription token buckets enforced and small, a
 * migration still completes, honours every 429's Retry-After and never turns into a retry storm. A role that is
 * slow to reach the data plane is waited out within `budgets.propagationWait`; beyond it, the migration rolls back.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { MigrationPlan } from '../../plan/schema';
import type { MigrationResult } from '../../contracts/model';
import { type Estate, estatePlan, startEstate } from '../support/estate';
import type { RequestLogEntry } from '../../simulator';
import { armCounts, azureState, startMigration, stateDiff, summarize } from '../support/reliability';
import { pollUntil } from '../support/wait';

const FILE = 'test/reliability/throttling.test.ts';
// The integration estate's app that is its account's only caller, so the key switch always happens.
const APP = 'inplace-bot';
const ACCOUNT = 'inplace-openai';

describe('throttling and slow propagation', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('throttling');
  });
  after(async () => {
    await estate?.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });

  function run(plan: MigrationPlan): Promise<MigrationResult> {
    return estate.temporal.withWorker(estate.activities(), async () => {
      const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, plan);
      return handle.result();
    });
  }

  test('with small ARM token buckets the migration completes without a retry storm, honouring Retry-After', async () => {
    const plan = estatePlan(APP, ACCOUNT);
    const clean = await run(plan);
    assert.equal(clean.outcome, 'succeeded', clean.reason);
    const expected = azureState(estate.sim, ACCOUNT);
    const unthrottled = armCounts(estate.sim.control.requests());

    await estate.sim.control.reset();
    // Small enough to throttle however slowly a loaded machine sends: the preflight alone reads more than 3 times,
    // back to back, faster than once a second.
    const buckets = {
      reads: { capacity: 3, refillPerSec: 1 },
      writes: { capacity: 2, refillPerSec: 1 },
      deletes: { capacity: 2, refillPerSec: 1 },
    };
    estate.sim.control.setThrottling({ enabled: true, ...buckets });
    const result = await run(plan);
    estate.sim.control.setThrottling({ enabled: false });
    assert.equal(result.outcome, 'succeeded', result.reason);
    const lost = stateDiff(expected, azureState(estate.sim, ACCOUNT));
    assert.deepEqual(lost, [], 'the throttled run ends in the state of an unthrottled one');

    const log = estate.sim.control.requests().filter((r) => r.surface === 'arm');
    const throttled = armCounts(log);
    const answered429 = throttled.status(429);
    assert.ok(answered429 > 0, 'the buckets were small enough to throttle');
    // No storm: every throttled request is retried once it may be, so the only extra requests are the 429s.
    assert.ok(
      throttled.total - answered429 <= unthrottled.total + 4,
      `${throttled.total - answered429} successful requests vs ${unthrottled.total} unthrottled`,
    );
    assert.ok(answered429 <= unthrottled.total, `${answered429} 429s for ${unthrottled.total} requests`);
    // Honoured: the retry of a throttled request comes no sooner than its Retry-After (≥ 1 s here).
    const early: string[] = [];
    log.forEach((r, i) => {
      if (r.status !== 429) return;
      const next = log.slice(i + 1).find((n) => n.method === r.method && n.path === r.path);
      const gap = next ? Date.parse(next.time) - Date.parse(r.time) : Infinity;
      if (gap < 900) early.push(`${r.method} ${r.path} retried after ${gap} ms`);
    });
    assert.deepEqual(early, [], 'every 429 was waited out');
    summarize(FILE, {
      scenario: `throttling (${answered429} × 429)`,
      faults: Array.from({ length: answered429 }, () => '429 TooManyRequests (token bucket)'),
      armRequests: unthrottled.total + throttled.total,
      lost,
    });
  });

  test('a slow role propagation is waited out within the budget', async () => {
    // The role reaches the data plane only once the identity probe has failed three times (the workflow polled on
    // instead of giving up), not after a fixed delay a loaded machine might outrun. The budget (the estate's,
    // minutes) is not what this is about.
    estate.sim.control.setDelays({ propagationMs: 24 * 3600_000 });
    const failedProbe = (r: RequestLogEntry) =>
      r.surface === 'frontdoor' && r.path.includes('/health/identity') && r.status !== 200;
    const result = await estate.temporal.withWorker(estate.activities(), async () => {
      const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, estatePlan(APP, ACCOUNT));
      await pollUntil(
        async () => (estate.sim.control.requests().filter(failedProbe).length >= 3 ? true : undefined),
        'three failed identity probes',
      );
      estate.sim.control.setDelays({ propagationMs: 0 });
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded', result.reason);
    const probes = estate.sim.control
      .requests()
      .filter((r) => r.surface === 'frontdoor' && r.path.includes('/health/identity'));
    const firstPass = probes.findIndex((r) => r.status === 200);
    assert.ok(firstPass >= 3, `the probe failed before it passed: ${probes.map((r) => r.status).join(',')}`);
    const state = azureState(estate.sim, ACCOUNT);
    assert.equal(state.account.disableLocalAuth, true);
    assert.equal(state.roleAssignments.filter((ra) => ra.startsWith('/subscriptions/') && ra.includes(APP)).length, 1);
    const counts = armCounts(estate.sim.control.requests());
    summarize(FILE, {
      scenario: 'propagation after 3 failed probes, within the budget',
      faults: ['propagation held until 3 probes failed'],
      armRequests: counts.total,
      lost: [],
    });
  });

  test('a propagation slower than the budget rolls back to the exact before-state', async () => {
    const beforeState = azureState(estate.sim, ACCOUNT);
    estate.sim.control.setDelays({ propagationMs: 24 * 3600_000 });
    const result = await run(estatePlan(APP, ACCOUNT, { budgets: { propagationWait: '4s' } }));
    assert.equal(result.outcome, 'rolled-back', result.reason);
    assert.match(result.reason ?? '', /identity probe of inplace-bot did not pass within 4s/);
    const lost = stateDiff(beforeState, azureState(estate.sim, ACCOUNT));
    assert.deepEqual(lost, [], 'the rollback restored the exact before-state');
    const counts = armCounts(estate.sim.control.requests());
    summarize(FILE, {
      scenario: 'propagation of a day beyond a 4 s budget',
      faults: ['propagation delay 24h'],
      armRequests: counts.total,
      lost,
    });
  });
});
