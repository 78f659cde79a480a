/**
 * Worker crashes: the worker runs in its own process and is SIGKILLed at every stage boundary, in the middle of
 * each long activity, and during a rollback; a new worker process takes over. The migration must end in the same
 * Azure state as an uninterrupted run — one role assignment per principal, no setting change lost or doubled,
 * the same identity and local-auth state — and a rollback must still restore the exact before-state.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { MigrationPlan } from '../../plan/schema';
import type { MigrationResult } from '../../contracts/model';
import type { StageId } from '../../contracts/model';
import { type Estate, estatePlan, startEstate } from '../support/estate';
import { testEnv } from '../support/env';
import {
  armCounts,
  assignmentsPerPrincipal,
  type AzureState,
  azureState,
  isOp,
  startMigration,
  stateDiff,
  summarize,
  retriedAfterTimeout,
  waitForActivityStarted,
  waitForRequest,
  waitForStageEvent,
  WorkerFleet,
} from '../support/reliability';

const FILE = 'test/reliability/crash.test.ts';
const SETTINGS_WRITE = 'Microsoft.Web/sites/config/appsettings/write';
const SLOT_SETTINGS_WRITE = 'Microsoft.Web/sites/slots/config/appsettings/write';
const SITE_WRITE = 'Microsoft.Web/sites/write';
const ROLE_WRITE = 'Microsoft.Authorization/roleAssignments/write';
const ROLE_DELETE = 'Microsoft.Authorization/roleAssignments/delete';
const ACCOUNT_WRITE = 'Microsoft.CognitiveServices/accounts/write';
const SWAP = 'Microsoft.Web/sites/slots/slotsswap/action';

describe('worker crashes', () => {
  let estate: Estate;
  let fleet: WorkerFleet;
  const baselines: Partial<Record<'in-place' | 'slot-swap', AzureState>> = {};

  before(async () => {
    estate = await startEstate('crash');
    fleet = new WorkerFleet(estate, {
      address: testEnv('temporalAddress'),
      taskQueue: estate.temporal.taskQueue,
      logName: 'crash',
    });
    await fleet.start();
  });
  after(async () => {
    await fleet?.close();
    await estate?.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });

  // In place: the account's only caller, so the key switch happens; slot swap: claims-bot and its standby.
  // The estate's budgets (minutes) outlast any recovery these crashes provoke: each kill costs a heartbeat timeout,
  // the retry backoff and a new worker process, and the downtime budget runs while the settings stage recovers.
  const inPlace = () => estatePlan('inplace-bot', 'inplace-openai');
  const slotSwap = () =>
    estatePlan('claims-bot', 'claims-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } });

  /** An uninterrupted run of the same plan, on the same worker process: the state every crashed run must end in. */
  const accountOf = (kind: 'in-place' | 'slot-swap') => (kind === 'in-place' ? 'inplace-openai' : 'claims-openai');
  async function baseline(kind: 'in-place' | 'slot-swap', plan: MigrationPlan): Promise<AzureState> {
    const cached = baselines[kind];
    if (cached) return cached;
    await estate.sim.control.reset();
    const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, plan);
    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded', result.reason);
    baselines[kind] = azureState(estate.sim, accountOf(kind));
    await estate.sim.control.reset();
    return baselines[kind];
  }

  /** What every run must show whatever happened to its workers. */
  function assertSameAsUninterrupted(
    kind: 'in-place' | 'slot-swap',
    expected: AzureState,
    result: MigrationResult,
  ): string[] {
    const lost = stateDiff(expected, azureState(estate.sim, accountOf(kind)));
    const doubled = Object.entries(assignmentsPerPrincipal(estate.sim)).filter(([, n]) => n !== 1);
    lost.push(...doubled.map(([k, n]) => `${n} role assignments for ${k}`));
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.deepEqual(lost, [], 'the crashed run ends in the state of an uninterrupted run');
    return lost;
  }

  test('SIGKILL at every stage boundary: the next worker finishes in the state of an uninterrupted run', async () => {
    const expected = await baseline('in-place', inPlace());
    // The kill follows the history event of each stage's beginning (its CutoverStage upsert), so no stage can slip
    // by unseen however slow the machine, and lands once a worker runs the stage's next activity. Each stage's first
    // write answers after 1.5 s, so that is usually the write in flight: the retried activity must find it done.
    const slowed = [SITE_WRITE, ROLE_WRITE, SETTINGS_WRITE, ACCOUNT_WRITE];
    for (const operation of slowed) estate.sim.control.addFault({ operation, latencyMs: 1500 });
    const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, inPlace());
    const boundaries: StageId[] = ['identity', 'role', 'propagation', 'settings', 'local-auth'];
    const tried: string[] = [];
    for (const stage of boundaries) {
      await waitForStageEvent(handle, stage);
      const activity = await waitForActivityStarted(handle, `an activity after stage ${stage} began`);
      await fleet.restart();
      tried.push(`boundary:${stage} (${activity})`);
    }
    const result = await handle.result();
    // An activity cut short by a kill is taken over after its heartbeat timeout (10 s), not after the call's
    // start-to-close timeout (minutes): every retried attempt in history follows a heartbeat timeout.
    const retried = retriedAfterTimeout(await handle.fetchHistory());
    assert.ok(retried.length > 0, 'some kill landed while an activity ran');
    assert.deepEqual(
      retried.filter((r) => r.timeout !== 'TIMEOUT_TYPE_HEARTBEAT'),
      [],
      `retried after a heartbeat timeout only: ${JSON.stringify(retried)}`,
    );
    const lost = assertSameAsUninterrupted('in-place', expected, result);
    const counts = armCounts(estate.sim.control.requests());
    assert.equal(counts.ok(SETTINGS_WRITE), 1, 'the settings were written exactly once');
    assert.equal(counts.ok(SITE_WRITE), 1, 'the identity was enabled exactly once');
    assert.equal(counts.ok(ACCOUNT_WRITE), 1, 'local auth was switched exactly once');
    summarize(FILE, {
      scenario: 'stage boundaries (in place)',
      crashPoints: tried,
      faults: slowed.map((o) => `latency 1.5s ${o}`),
      armRequests: counts.total,
      lost,
    });
  });

  test('SIGKILL in the middle of each long activity (propagation, smoke test, swap LRO, local-auth LRO)', async () => {
    const expected = await baseline('slot-swap', slotSwap());
    estate.sim.control.setDelays({ propagationMs: 5000, appRestartMs: 2500, swapMs: 5000, lroMs: 4000 });
    const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, slotSwap());
    const sim = estate.sim;
    const tried: string[] = [];
    // While the role propagates: the identity probe has failed at least once.
    await waitForRequest(sim, (r) => r.surface === 'frontdoor' && r.path.includes('/health/identity'), 'probe');
    await fleet.restart();
    tried.push('mid propagation wait');
    // While the staging slot restarts with its new settings and is smoke-tested.
    await waitForRequest(sim, isOp(SLOT_SETTINGS_WRITE), 'staging settings write');
    await fleet.restart();
    tried.push('mid settings swap / smoke test');
    // While the slot swap LRO runs.
    await waitForRequest(sim, isOp(SWAP), 'slot swap');
    await fleet.restart();
    tried.push('mid slot-swap LRO');
    // While the local-auth account update LRO runs.
    await waitForRequest(sim, isOp(ACCOUNT_WRITE), 'account update');
    await fleet.restart();
    tried.push('mid local-auth LRO');
    const result = await handle.result();
    const lost = assertSameAsUninterrupted('slot-swap', expected, result);
    const counts = armCounts(sim.control.requests());
    // Once before the swap, once more for the standby afterwards (it held the key then).
    assert.equal(counts.ok(SLOT_SETTINGS_WRITE), 2, 'the staging settings were written exactly twice');
    assert.equal(counts.ok(SWAP), 1, 'the slots were swapped exactly once');
    assert.equal(counts.ok(ACCOUNT_WRITE), 1, 'local auth was switched exactly once');
    estate.sim.control.setDelays({ propagationMs: 1500, appRestartMs: 300, swapMs: 0, lroMs: 0 });
    summarize(FILE, { scenario: 'long activities (slot swap)', crashPoints: tried, armRequests: counts.total, lost });
  });

  test('SIGKILL during a rollback: the next worker completes it and the state equals the before-state', async () => {
    const beforeState = azureState(estate.sim, 'legacy-openai');
    // The identity restore (the last compensation) is slow, so the kill lands while compensations run.
    estate.sim.control.addFault({ operation: SITE_WRITE, pathContains: 'legacy-bot', latencyMs: 3000, count: 2 });
    const plan = estatePlan('legacy-bot', 'legacy-openai', { budgets: { downtime: '3s' } });
    const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, plan);
    await waitForRequest(estate.sim, isOp(ROLE_DELETE), 'role assignment deleted');
    await fleet.restart();
    const result = await handle.result();
    assert.equal(result.outcome, 'rolled-back', result.reason);
    const lost = stateDiff(beforeState, azureState(estate.sim, 'legacy-openai'));
    assert.deepEqual(lost, [], 'the rollback restored the exact before-state');
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    const counts = armCounts(estate.sim.control.requests());
    assert.equal(counts.ok(SETTINGS_WRITE), 2, 'settings written once forward and restored once');
    assert.equal(counts.ok(SITE_WRITE), 2, 'identity enabled once and restored once');
    // The kill follows the DELETE's answer, so the activity may not have reported it yet: its retry then finds the
    // assignment gone, which ARM answers 204. Deleted once means one 200.
    assert.equal(
      counts.count((r) => isOp(ROLE_DELETE)(r) && r.status === 200),
      1,
      'the role assignment was deleted once',
    );
    assert.equal(
      counts.count((r) => isOp(ROLE_DELETE)(r) && r.status !== 200 && r.status !== 204),
      0,
    );
    assert.equal(counts.ok(ROLE_WRITE), 1);
    summarize(FILE, {
      scenario: 'rollback (legacy-bot smoke failure)',
      crashPoints: ['mid rollback (identity restore)'],
      faults: ['latency 3s Microsoft.Web/sites/write'],
      armRequests: counts.total,
      lost,
    });
  });
});
