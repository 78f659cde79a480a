/**
 * The ARM governor's arithmetic on a fake clock: token buckets reserved in order, a 429's Retry-After pausing its
 * bucket, ARM's remaining-budget headers lowering it, the classes and scopes requests are counted in, and a wait
 * given up when its request is aborted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import {
  ArmGovernor,
  AZURE_BUDGETS,
  classesOf,
  REFILL_HEADROOM,
  retryAfterMs,
  scopeOf,
  TENANT_SCOPE,
  TokenBucket,
} from '../../azure/governor';
import { loadConfig } from '../../config/env';

const SUB = '33333333-3333-4333-8333-333333333333';
const ARM = 'https://management.azure.com';
const SITE = `${ARM}/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/app`;
const ROLE = `${ARM}/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/0b5e2d3c-1f4a-4b6c-8d7e-9f0a1b2c3d4e?api-version=2022-04-01`;

/** A governor on a fake clock whose sleeps advance the clock (and are recorded). */
function fakeGovernor(options: ConstructorParameters<typeof ArmGovernor>[0] = {}) {
  const clock = { now: 0 };
  const sleeps: number[] = [];
  const governor = new ArmGovernor({
    headroom: 1,
    ...options,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
  });
  return { governor, clock, sleeps };
}

function response(status: number, headers: Record<string, string> = {}): PipelineResponse {
  return {
    status,
    headers: createHttpHeaders(headers),
    request: createPipelineRequest({ url: SITE }),
  };
}

describe('ARM governor', () => {
  test('a bucket grants its burst, then one token per refill interval, in the order asked', () => {
    const b = new TokenBucket({ capacity: 5, refillPerSec: 5 }, 0);
    const waits = Array.from({ length: 8 }, () => b.reserve(0).waitMs);
    assert.deepEqual(waits, [0, 0, 0, 0, 0, 200, 400, 600]);
    // One second later 5 tokens came back, 3 of them already promised.
    assert.equal(b.available(1000), 2);
    assert.equal(b.reserve(1000).waitMs, 0);
    // Never more than its capacity, however long it idles.
    assert.equal(b.available(3_600_000), 5);
    // A reservation given back (its request was aborted) is a token again.
    b.release(b.reserve(3_600_000).ticket, 3_600_000);
    assert.equal(b.available(3_600_000), 5);
  });

  test('a 429 pauses the bucket until its Retry-After, then refills from one token', () => {
    const b = new TokenBucket({ capacity: 10, refillPerSec: 10 }, 0);
    b.throttled(0, 3000);
    assert.equal(b.pausedFor(1000), 2000);
    assert.equal(b.reserve(1000).waitMs, 2000, 'the first request waits out the pause');
    assert.equal(b.reserve(1000).waitMs, 2100, 'the next one a refill interval more');
    assert.equal(b.pausedFor(3000), 0);
    // Requests already waiting when a 429 comes keep their order behind its pause, one per refill interval.
    const q = new TokenBucket({ capacity: 2, refillPerSec: 10 }, 0);
    const [first, second, third, fourth] = Array.from({ length: 4 }, () => q.reserve(0));
    assert.deepEqual([first?.waitMs, second?.waitMs, third?.waitMs, fourth?.waitMs], [0, 0, 100, 200]);
    q.sent(first.ticket);
    q.sent(second.ticket);
    q.throttled(50, 1000);
    assert.equal(q.waitFor(third.ticket, 100), 950, 'the first waiter goes at the end of the pause');
    assert.equal(q.waitFor(fourth.ticket, 100), 1050, 'the next one a refill interval later');
    assert.equal(q.reserve(100).waitMs, 1150, 'a new request queues behind them');
    q.sent(third.ticket);
    assert.equal(q.waitFor(third.ticket, 100), 950, 'sent: only the pause is left');
    // ARM's remaining-budget header lowers the bucket, never raises it.
    const c = new TokenBucket({ capacity: 10, refillPerSec: 10 }, 0);
    c.observeRemaining(0, 3);
    assert.equal(c.available(0), 3);
    c.observeRemaining(0, 8);
    assert.equal(c.available(0), 3);
  });

  test('Retry-After in seconds, as a date, or in ms', () => {
    const h = (o: Record<string, string>) => createHttpHeaders(o);
    assert.equal(retryAfterMs(h({ 'retry-after': '7' }), 0), 7000);
    assert.equal(retryAfterMs(h({ 'retry-after-ms': '250', 'retry-after': '7' }), 0), 250);
    assert.equal(retryAfterMs(h({ 'x-ms-retry-after-ms': '1500' }), 0), 1500);
    const now = Date.parse('2026-12-02T12:00:00Z');
    assert.equal(retryAfterMs(h({ 'retry-after': 'Wed, 02 Dec 2026 12:00:05 GMT' }), now), 5000);
    assert.equal(retryAfterMs(h({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(retryAfterMs(h({}), now), undefined);
  });

  test('requests are counted per subscription and ARM class; role-assignment changes also in their own class', () => {
    assert.deepEqual(classesOf('GET', SITE), ['reads']);
    assert.deepEqual(classesOf('HEAD', SITE), ['reads']);
    assert.deepEqual(classesOf('POST', `${SITE}/config/appsettings/list`), ['writes']);
    assert.deepEqual(classesOf('PATCH', SITE), ['writes']);
    assert.deepEqual(classesOf('DELETE', SITE), ['deletes']);
    assert.deepEqual(classesOf('PUT', ROLE), ['writes', 'roleAssignments']);
    assert.deepEqual(classesOf('DELETE', ROLE), ['deletes', 'roleAssignments']);
    assert.deepEqual(classesOf('GET', ROLE), ['reads']);
    assert.equal(scopeOf(SITE.toUpperCase().replace('HTTPS://MANAGEMENT.AZURE.COM', ARM)), SUB);
    // arm-authorization sends a doubled slash when a scope starts with one.
    assert.equal(scopeOf(`${ARM}//subscriptions/${SUB}/providers/x`), SUB);
    assert.equal(scopeOf(`${ARM}/subscriptions?api-version=2022-12-01`), TENANT_SCOPE);
    assert.equal(scopeOf(`${ARM}/providers/Microsoft.Authorization/operations`), TENANT_SCOPE);
  });

  test("defaults are Azure's buckets, burst and refill less the headroom; role assignments stricter than writes", () => {
    const stats = new ArmGovernor().stats();
    assert.deepEqual(stats.buckets, []);
    const { governor } = fakeGovernor({ headroom: undefined });
    void governor.acquire(SUB, ['writes', 'roleAssignments']);
    const byClass = new Map(governor.stats().buckets.map((b) => [b.class, b]));
    assert.equal(byClass.get('writes')?.capacity, Math.floor(AZURE_BUDGETS.writes.capacity * REFILL_HEADROOM));
    assert.equal(byClass.get('writes')?.refillPerSec, AZURE_BUDGETS.writes.refillPerSec * REFILL_HEADROOM);
    assert.ok(AZURE_BUDGETS.roleAssignments.capacity < AZURE_BUDGETS.writes.capacity);
    assert.ok(AZURE_BUDGETS.roleAssignments.refillPerSec < AZURE_BUDGETS.writes.refillPerSec);
    assert.equal(
      byClass.get('roleAssignments')?.tokens,
      Math.floor(AZURE_BUDGETS.roleAssignments.capacity * REFILL_HEADROOM) - 1,
    );
  });

  test('the policy waits for a token, pauses on a 429 for its Retry-After, and counts per class', async () => {
    const { governor, sleeps } = fakeGovernor({ budgets: { writes: { capacity: 2, refillPerSec: 2 } } });
    const policy = governor.policy();
    const answers = [response(200), response(200), response(429, { 'retry-after': '4' }), response(200)];
    const sent: string[] = [];
    const post = () =>
      policy.sendRequest(createPipelineRequest({ url: `${SITE}/config/appsettings/list`, method: 'POST' }), (r) => {
        sent.push(r.method);
        return Promise.resolve(answers.shift() ?? response(200));
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post()).status);
    assert.deepEqual(statuses, [200, 200, 429, 200]);
    // Two from the burst, the third after a refill interval (500 ms), the fourth after the 429's 4 s.
    assert.deepEqual(sleeps, [500, 4000]);
    const writes = governor.stats().classes.writes;
    assert.deepEqual(
      { requests: writes.requests, waits: writes.waits, waitedMs: writes.waitedMs, throttled: writes.throttled },
      { requests: 4, waits: 2, waitedMs: 4500, throttled: 1 },
    );
    assert.equal(governor.stats().classes.reads.requests, 0);
    // Another subscription's bucket is its own: no wait there.
    await policy.sendRequest(createPipelineRequest({ url: SITE.replace(SUB, 'another'), method: 'POST' }), async () =>
      response(200, { 'x-ms-ratelimit-remaining-subscription-writes': '0' }),
    );
    assert.equal(sleeps.length, 2);
    const other = governor.stats().buckets.find((b) => b.scope === 'another');
    assert.equal(other?.tokens, 0, "ARM's remaining-budget header lowered the bucket");
  });

  test('a request aborted while it waits gives up its token and is never sent', async () => {
    const governor = new ArmGovernor({ budgets: { deletes: { capacity: 1, refillPerSec: 0.01 } } });
    await governor.acquire(SUB, ['deletes']);
    const controller = new AbortController();
    const waiting = governor.acquire(SUB, ['deletes'], controller.signal);
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(waiting, { name: 'AbortError' });
    const [deletes] = governor.stats().buckets;
    assert.equal(deletes?.requests, 1, 'the aborted request was not counted as sent');
    assert.equal(deletes?.tokens, 0, 'its reserved token was given back');
  });

  test("CUTOVER_ARM_BUDGETS sets budgets per class and field; the rest stay Azure's", () => {
    const env = (v: string) => loadConfig({ HOME: '/nonexistent', CUTOVER_ARM_BUDGETS: v }).azure.armBudgets;
    const budgets = env('{"writes": {"capacity": 50}, "roleAssignments": {"capacity": 4, "refillPerSec": 0.5}}');
    assert.deepEqual(budgets, { writes: { capacity: 50 }, roleAssignments: { capacity: 4, refillPerSec: 0.5 } });
    assert.deepEqual(loadConfig({ HOME: '/nonexistent' }).azure.armBudgets, {});
    const { governor } = fakeGovernor({ budgets });
    void governor.acquire(SUB, ['reads']);
    void governor.acquire(SUB, ['writes', 'roleAssignments']);
    const got = Object.fromEntries(governor.stats().buckets.map((b) => [b.class, [b.capacity, b.refillPerSec]]));
    assert.deepEqual(got, {
      reads: [AZURE_BUDGETS.reads.capacity, AZURE_BUDGETS.reads.refillPerSec],
      writes: [50, AZURE_BUDGETS.writes.refillPerSec],
      roleAssignments: [4, 0.5],
    });
    assert.throws(() => env('{"writez": {}}'), /CUTOVER_ARM_BUDGETS names an unknown class "writez"/);
    assert.throws(() => env('{"reads": {"capacity": 0}}'), /"reads.capacity" must be a positive number/);
    assert.throws(() => env('{"reads": {"burst": 3}}'), /unknown field "burst"/);
    assert.throws(() => env('not json'), /CUTOVER_ARM_BUDGETS is not JSON/);
  });
});
