/**
 * Azure faults, injected by the simulator into the real SDK clients' traffic. Transient ones (429 with
 * Retry-After, 500, 503, slow answers) on every ARM operation a migration uses are absorbed — SDK retries inside an
 * activity, Temporal's retries around it — with a bounded number of requests; permanent ones (400, 403, 404 and a
 * long-running operation that ends Failed) fail fast with a typed, non-retryable failure and end in a clean
 * rollback (the exact before-state) or a clear preflight error.
 */
import { forgetRoleDefinitions } from '../../azure/role-definitions';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import type { FaultSpec } from '../../simulator/knobs';
import type { MigrationPlan } from '../../plan/schema';
import { FailureType } from '../../contracts/failures';
import type { MigrationResult } from '../../contracts/model';
import { type Estate, estatePlan, startEstate, UAMI_ID } from '../support/estate';
import {
  activityFailures,
  armCounts,
  azureState,
  isOp,
  startMigration,
  stateDiff,
  summarize,
} from '../support/reliability';

const FILE = 'test/reliability/faults.test.ts';
const ACCOUNT = 'claims-openai';

describe('Azure faults', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('faults');
  });
  after(async () => {
    await estate?.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });

  async function run(
    plan: MigrationPlan,
  ): Promise<{ result: MigrationResult; history: temporal.api.history.v1.IHistory }> {
    return estate.temporal.withWorker(estate.activities(), async () => {
      const handle = await startMigration(estate.temporal.client, estate.temporal.taskQueue, plan);
      const result = await handle.result();
      return { result, history: await handle.fetchHistory() };
    });
  }
  const describeFault = (f: FaultSpec) =>
    `${f.lroFail ? 'LRO Failed' : (f.status ?? `latency ${f.latencyMs}ms`)}${f.code ? ` ${f.code}` : ''} ${f.operation}`;

  test('transient faults on every ARM operation are absorbed, with a bounded number of requests', async () => {
    // Slot swap with a user-assigned identity and local auth: every ARM operation the workflow's forward path uses.
    const plan = estatePlan('claims-bot', ACCOUNT, {
      identity: { type: 'user-assigned', resourceId: UAMI_ID },
      strategy: { type: 'slot-swap', stagingSlot: 'staging' },
    });
    const clean = await run(plan);
    assert.equal(clean.result.outcome, 'succeeded', clean.result.reason);
    const expected = azureState(estate.sim, ACCOUNT);
    const cleanLog = estate.sim.control.requests();
    const operations = [
      // What the run does, not what it is refused (this estate's worker may not list container apps: a 403).
      ...new Set(cleanLog.filter((r) => r.surface === 'arm' && r.operation && r.status < 400).map((r) => r.operation!)),
    ];
    assert.ok(operations.length >= 15, `the run used ${operations.length} ARM operations`);

    await estate.sim.control.reset();
    // The faulted run reads what a fresh worker reads: built-in role definitions are cached per worker process.
    forgetRoleDefinitions();
    const faults: FaultSpec[] = [];
    // Each operation: a 429 with Retry-After, then a 500 or a 503 (alternately), and a slow answer.
    operations.forEach((operation, i) =>
      faults.push(
        { operation, status: 429, retryAfterSec: 1 },
        { operation, status: i % 2 === 0 ? 500 : 503 },
        { operation, latencyMs: 300 },
      ),
    );
    // One operation keeps failing past the SDK's 3 retries: Temporal's activity retry must carry it.
    const ROLE_WRITE = 'Microsoft.Authorization/roleAssignments/write';
    faults.push({ operation: ROLE_WRITE, status: 503, count: 3 });
    for (const f of faults) estate.sim.control.addFault(f);

    const faulted = await run(plan);
    assert.equal(faulted.result.outcome, 'succeeded', faulted.result.reason);
    assert.deepEqual(estate.sim.control.state().faults, [], 'every injected fault fired');
    const lost = stateDiff(expected, azureState(estate.sim, ACCOUNT));
    assert.deepEqual(lost, [], 'the faulted run ends in the state of a clean run');

    const before = armCounts(cleanLog);
    const afterFaults = armCounts(estate.sim.control.requests());
    const failing = faults.filter((f) => f.status !== undefined).reduce((n, f) => n + (f.count ?? 1), 0);
    // Each failed answer costs exactly one more request; LRO status polls vary a little with timing.
    assert.ok(
      afterFaults.total <= before.total + failing + 6,
      `${afterFaults.total} requests with faults vs ${before.total} without (+${failing} failed answers)`,
    );
    assert.equal(
      afterFaults.count(isOp(ROLE_WRITE)),
      before.count(isOp(ROLE_WRITE)) + 5,
      'role write: 4 SDK attempts, then one Temporal retry that meets one more 503',
    );
    const throttled = new Set(
      estate.sim.control
        .requests()
        .filter((r) => r.surface === 'arm' && r.status === 429)
        .map((r) => r.operation),
    );
    assert.deepEqual(
      operations.filter((o) => !throttled.has(o)),
      [],
      'every operation met its 429 (and was asked again)',
    );
    assert.equal(afterFaults.status(429), operations.length);
    summarize(FILE, {
      scenario: 'transient faults on every operation',
      faults: faults.map(describeFault),
      armRequests: before.total + afterFaults.total,
      lost,
    });
  });

  /** A run that must fail fast and roll back to the exact before-state. */
  async function expectRollback(scenario: string, plan: MigrationPlan, fault: FaultSpec, failedActivity: string) {
    const beforeState = azureState(estate.sim, ACCOUNT);
    estate.sim.control.addFault(fault);
    const { result, history } = await run(plan);
    assert.equal(result.outcome, 'rolled-back', result.reason);
    const lost = stateDiff(beforeState, azureState(estate.sim, ACCOUNT));
    assert.deepEqual(lost, [], 'the rollback restored the exact before-state');
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    const failures = activityFailures(history);
    assert.equal(failures.length, 1, JSON.stringify(failures));
    assert.equal(failures[0].activity, failedActivity);
    assert.equal(failures[0].nonRetryable, true, 'a permanent fault is not retried');
    assert.equal(failures[0].attempts, 1, 'one attempt: it failed fast');
    const counts = armCounts(estate.sim.control.requests());
    summarize(FILE, { scenario, faults: [describeFault(fault)], armRequests: counts.total, lost });
    return { result, failure: failures[0], counts };
  }

  test('403 AuthorizationFailed on the role assignment fails fast and rolls back', async () => {
    const fault = {
      operation: 'Microsoft.Authorization/roleAssignments/write',
      status: 403,
      code: 'AuthorizationFailed',
      message: 'The client does not have authorization to perform action.',
    };
    const { result, failure, counts } = await expectRollback(
      '403 on role assignment',
      estatePlan('claims-bot', ACCOUNT),
      fault,
      'assignRoles',
    );
    assert.equal(failure.type, FailureType.AzureRequestRejected);
    assert.match(result.reason ?? '', /403 AuthorizationFailed/);
    assert.equal(counts.count(isOp(fault.operation)), 1, 'the SDK did not retry a 403 either');
  });

  test('400 on the settings write fails fast and rolls back', async () => {
    const fault = { operation: 'Microsoft.Web/sites/config/appsettings/write', status: 400, code: 'BadRequest' };
    const { failure, counts } = await expectRollback(
      '400 on settings write',
      estatePlan('claims-bot', ACCOUNT),
      fault,
      'updateSettings',
    );
    assert.equal(failure.type, FailureType.AzureRequestRejected);
    assert.equal(counts.count(isOp(fault.operation)), 1);
  });

  test('a slot swap whose LRO ends Failed fails fast and rolls back', async () => {
    const fault = {
      operation: 'Microsoft.Web/sites/slots/slotsswap/action',
      lroFail: true,
      code: 'SwapFailed',
      message: 'Cannot swap slots: the site is busy.',
    };
    const { failure } = await expectRollback(
      'slot swap LRO Failed',
      estatePlan('claims-bot', ACCOUNT, { strategy: { type: 'slot-swap', stagingSlot: 'staging' } }),
      fault,
      'swapSlots',
    );
    assert.ok(
      failure.type === FailureType.AzureOperationFailed || failure.type === FailureType.AzureRequestRejected,
      `typed failure, got ${failure.type}`,
    );
  });

  test('an account update whose LRO ends Failed fails fast and rolls back', async () => {
    const fault = {
      operation: 'Microsoft.CognitiveServices/accounts/write',
      lroFail: true,
      code: 'RequestDisallowedByPolicy',
      message: 'Resource was disallowed by policy.',
    };
    const { failure } = await expectRollback(
      'account update LRO Failed',
      // The account's only caller: its key switch always happens.
      estatePlan('inplace-bot', 'inplace-openai'),
      fault,
      'setLocalAuth',
    );
    assert.equal(failure.type, FailureType.AzureOperationFailed);
  });

  test('404 on the app in preflight is a clear preflight error, and nothing is written', async () => {
    const beforeState = azureState(estate.sim, ACCOUNT);
    const fault = {
      operation: 'Microsoft.Web/sites/read',
      method: 'GET',
      pathContains: '/sites/claims-bot?',
      status: 404,
      code: 'ResourceNotFound',
    };
    estate.sim.control.addFault(fault);
    const { result } = await run(estatePlan('claims-bot', ACCOUNT));
    assert.equal(result.outcome, 'preflight-failed', result.reason);
    assert.ok(
      result.evidence.preflightProblems?.some((p) => /404 ResourceNotFound/.test(p.message) && p.hint),
      JSON.stringify(result.evidence.preflightProblems),
    );
    const counts = armCounts(estate.sim.control.requests());
    assert.equal(
      counts.count((r) => ['PUT', 'PATCH', 'DELETE'].includes(r.method)),
      0,
      'no write reached Azure',
    );
    const lost = stateDiff(beforeState, azureState(estate.sim, ACCOUNT));
    assert.deepEqual(lost, []);
    summarize(FILE, {
      scenario: '404 on the app (preflight)',
      faults: [describeFault(fault)],
      armRequests: counts.total,
      lost,
    });
  });
});
