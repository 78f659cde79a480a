/**
 * The ARM governor in front of real SDK clients, against the simulator's enforced token buckets over HTTPS: a burst
 * of concurrent writes (app-settings lists: POST actions, which ARM counts as writes) through one subscription. Left
 * to the SDK's retries alone the burst draws 429s; governed at the simulator's budget it draws none, the governor
 * queueing what the bucket cannot take; governed at Azure's (larger) budget, it sees each 429 and waits it out.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';
import { readableSubscriptions } from '../../azure/access';
import { createAzureClients } from '../../azure/clients';
import { createAzureContext } from '../../azure/context';
import { ArmGovernor, sharedGovernor, TENANT_SCOPE } from '../../azure/governor';
import { RG, SITE, simulatorForFile } from '../simulator/support';

const BURST = 40;
const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';
const WRITES = { capacity: 5, refillPerSec: 5 };

describe('ARM governor against the simulator', () => {
  const s = simulatorForFile();

  beforeEach(() => {
    // Enforced, small write buckets, emptied of earlier tests' spending (setting throttling clears the buckets).
    s.t.sim.control.setThrottling({ enabled: true, writes: WRITES });
  });

  /** Fires the burst through clients built with this governor (`null`: none); counts the simulator's answers. */
  async function burst(governor: ArmGovernor | null) {
    const { web } = createAzureClients(s.t.credentialOf('owner'), s.sub, s.t.endpoints, { governor });
    // A read first: the token and a connection are there before the writes (reads have their own bucket).
    await web.webApps.get(RG, SITE);
    const from = s.t.sim.control.requests().length;
    const results = await Promise.allSettled(
      Array.from({ length: BURST }, () => web.webApps.listApplicationSettings(RG, SITE)),
    );
    const writes = s.t.sim.control
      .requests()
      .slice(from)
      .filter((r) => r.surface === 'arm' && r.method === 'POST');
    return {
      succeeded: results.filter((r) => r.status === 'fulfilled').length,
      answered429: writes.filter((r) => r.status === 429).length,
      sent: writes.length,
    };
  }

  test('ungoverned, a burst of writes draws 429s from the token bucket', async () => {
    const r = await burst(null);
    console.log(`ungoverned: ${BURST} writes, ${r.sent} sent, ${r.answered429} × 429, ${r.succeeded} succeeded`);
    assert.ok(r.answered429 > 0, 'the bucket throttled the burst');
    assert.equal(r.sent, r.answered429 + r.succeeded, 'every 429 was a request sent again or given up');
  });

  test('governed at the same budget, the same burst draws no 429, the governor queueing it', async () => {
    const governor = new ArmGovernor({ budgets: { writes: WRITES } });
    const r = await burst(governor);
    const { writes, reads } = governor.stats().classes;
    console.log(
      `governed: ${BURST} writes, ${r.answered429} × 429, ${writes.waits} waited (${Math.round(writes.waitedMs)} ms in all)`,
    );
    assert.equal(r.answered429, 0);
    assert.equal(r.succeeded, BURST);
    assert.equal(writes.requests, BURST);
    assert.equal(writes.throttled, 0);
    // Most of the burst waited for a token: all but about one bucketful (how many went at once depends on when the
    // requests reached the governor on the real clock, so only the lower bound is the governor's doing).
    assert.ok(writes.waits >= BURST - 2 * WRITES.capacity && writes.waits <= BURST, `${writes.waits} waits`);
    assert.equal(reads.requests, 1);
  });

  test("governed at Azure's larger budget, it sees every 429 and holds the bucket back until Retry-After", async () => {
    const ungoverned = await burst(null);
    s.t.sim.control.setThrottling({ enabled: true, writes: WRITES });
    const governor = new ArmGovernor();
    const r = await burst(governor);
    const { writes } = governor.stats().classes;
    console.log(
      `Azure budget: ${r.answered429} × 429 governed vs ${ungoverned.answered429} ungoverned; ${writes.waits} waited`,
    );
    assert.ok(r.answered429 > 0, "the simulator's bucket is smaller than the governor's");
    // Placed per retry: the governor saw every attempt and every 429 the simulator answered.
    assert.equal(writes.throttled, r.answered429);
    assert.equal(writes.requests, r.sent);
    assert.ok(writes.waits > 0, 'retries waited for the paused bucket');
    assert.ok(r.answered429 < ungoverned.answered429, 'fewer 429s than the SDK retries alone draw');
  });

  test("the Azure layer's clients wait on the process's one governor: subscription, tenant and role-assignment buckets", async () => {
    const before = sharedGovernor().stats().classes;
    // Two contexts, as two migrations in one worker: both spend the one shared governor's budget.
    const contexts = [1, 2].map(() =>
      createAzureContext({ credential: s.t.credentialOf('owner'), endpoints: s.t.endpoints }),
    );
    for (const ctx of contexts) await ctx.clients(s.sub).web.webApps.get(RG, SITE);
    assert.deepEqual(await readableSubscriptions(contexts[0]), [s.sub]);
    const scope = `subscriptions/${s.sub}/resourceGroups/${RG}`;
    const name = randomUUID();
    const { authorization } = contexts[1].clients(s.sub);
    await authorization.roleAssignments.create(scope, name, {
      roleDefinitionId: `/subscriptions/${s.sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`,
      principalId: randomUUID(),
      principalType: 'ServicePrincipal',
    });
    await authorization.roleAssignments.delete(scope, name);
    const after = sharedGovernor().stats();
    const spent = (c: keyof typeof before) => after.classes[c].requests - before[c].requests;
    assert.equal(spent('reads'), 3, 'two site reads and the subscriptions list');
    assert.equal(spent('writes'), 1);
    assert.equal(spent('deletes'), 1);
    assert.equal(spent('roleAssignments'), 2, 'the assignment and its removal, also in their own bucket');
    const tenant = after.buckets.find((b) => b.scope === TENANT_SCOPE && b.class === 'reads');
    assert.equal(tenant?.requests, 1, 'the subscriptions list is tenant-level');
    const sub = after.buckets.find((b) => b.scope === s.sub.toLowerCase() && b.class === 'reads');
    assert.ok(sub && sub.requests >= 2, 'the two site reads went through the subscription bucket');
  });
});
