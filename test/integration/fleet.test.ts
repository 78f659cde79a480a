/**
 * Fleets end to end against the simulator (test/fixtures/scenarios/fleet.yaml): child migrations in waves on a worker
 * of real activities, the key switch made once per account by the fleet. A fleet of 19 callers on 3 shared accounts in
 * 2 subscriptions ends with every account's keys off; a failing canary stops the fleet before its second wave; an
 * account with a key caller nobody listed keeps its keys on and says why; continue-as-new keeps the fleet's records.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { createAzureClients } from '../../azure/clients';
import { type FleetEvidence, type FleetResult, fleetWorkflowId } from '../../contracts/fleet';
import { parseFleetPlan } from '../../plan/fleet';
import { migrateFleet } from '../../workflows';
import { abortFleetUpdate, approveFleetUpdate, fleetProgressQuery } from '../../workflows/fleet/messages';
import { appHealth, type Estate, footprint, startEstate, TENANT, TEST_FLEET_DEFAULTS } from '../support/estate';
import { saveHistory } from '../support/histories';
import { pollUntil } from '../support/wait';

const FLEET = path.join(__dirname, '..', 'fixtures', 'scenarios', 'fleet.yaml');
const SUB_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const SUB_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const RG_A = 'rg-fleet-a';
const RG_B = 'rg-fleet-b';

const account = (name: string, sub = SUB_A, rg = RG_A, keySwitch: Record<string, unknown> = {}) => ({
  name,
  subscriptionId: sub,
  resourceGroup: rg,
  deployment: 'gpt-4o-mini',
  keySwitch: { approval: false, quietPeriod: '0s', ...keySwitch },
});

/** A fleet plan document over the fleet estate (short polls, generous budgets; see estatePlanFields). */
function fleetDocument(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'fleet',
    changeTicket: `CHG-FLEET-${Date.now()}`,
    tenantId: TENANT,
    defaults: { ...TEST_FLEET_DEFAULTS },
    approvals: { fourEyes: true, timeout: '15m' },
    ...fields,
  };
}

describe('fleets against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('fleet', FLEET);
  });
  after(async () => {
    await estate.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });

  const clientsOf = (sub: string) => createAzureClients(estate.credential, sub, estate.endpoints);
  const localAuthOff = async (sub: string, rg: string, name: string) =>
    (await clientsOf(sub).cognitive.accounts.get(rg, name)).properties?.disableLocalAuth === true;
  const settingsOf = async (sub: string, rg: string, name: string) =>
    (await clientsOf(sub).web.webApps.listApplicationSettings(rg, name)).properties ?? {};

  async function runFleet(
    name: string,
    document: Record<string, unknown>,
    during?: (handle: WorkflowHandle<typeof migrateFleet>) => Promise<void>,
  ): Promise<FleetResult> {
    const plan = parseFleetPlan(document);
    return estate.temporal.withWorker(estate.activities(), async () => {
      const handle = await estate.temporal.client.workflow.start(migrateFleet, {
        taskQueue: estate.temporal.taskQueue,
        workflowId: fleetWorkflowId(plan.changeTicket),
        args: [{ plan, initiatedBy: 'alice' }],
      });
      // A failed assertion meanwhile ends the fleet, so that the worker can stop, and is what the test reports.
      let failedDuring: unknown;
      const duringDone = during?.(handle).catch(async (err: unknown) => {
        failedDuring = err;
        await handle.terminate('the test failed').catch(() => undefined);
      });
      const result = await handle.result().catch(async (err: unknown) => {
        await duringDone;
        throw (failedDuring ?? err) as Error;
      });
      await duringDone;
      if (failedDuring) throw failedDuring as Error;
      await saveHistory(name, await handle.fetchHistory());
      return result;
    });
  }

  test('a fleet of 19 callers on 3 shared accounts in 2 subscriptions switches every account’s keys off', async () => {
    const alpha = Array.from({ length: 8 }, (_, i) => `alpha-${String(i + 1).padStart(2, '0')}`);
    const beta = Array.from({ length: 6 }, (_, i) => `beta-${String(i + 1).padStart(2, '0')}`);
    const gamma = Array.from({ length: 4 }, (_, i) => `gamma-${String(i + 1).padStart(2, '0')}`);
    const document = fleetDocument({
      accounts: [
        account('alpha-openai'),
        account('beta-openai'),
        // The gamma account's switch waits for a second person.
        account('gamma-openai', SUB_B, RG_B, { approval: true }),
      ],
      callers: [
        ...alpha.map((n) => ({
          name: n,
          account: 'alpha-openai',
          // alpha-08 has a staging slot: swapped, and its standby moved off the key too.
          ...(n === 'alpha-08' ? { plan: { strategy: { type: 'slot-swap', stagingSlot: 'staging' } } } : {}),
        })),
        { name: 'gamma-alpha', account: 'alpha-openai', subscriptionId: SUB_B, resourceGroup: RG_B },
        ...beta.map((n) => ({ name: n, account: 'beta-openai' })),
        ...gamma.map((n) => ({ name: n, account: 'gamma-openai', subscriptionId: SUB_B, resourceGroup: RG_B })),
      ],
      waves: [
        { name: 'canary', callers: ['alpha-01'], concurrency: 1 },
        { name: 'rest', rest: true, concurrency: 6, failureThreshold: { maxFailurePercent: 10 } },
      ],
    });
    let peakRunning = 0;
    const result = await runFleet('fleet-19-callers', document, async (handle) => {
      const p = await pollUntil(
        async () => {
          const progress = await handle.query(fleetProgressQuery).catch(() => undefined);
          peakRunning = Math.max(peakRunning, ...(progress?.waves.map((w) => w.running) ?? [0]));
          return progress?.pendingGate || progress?.outcome !== 'running' ? progress : undefined;
        },
        'the gate of the gamma account',
        { intervalMs: 50 },
      );
      assert.equal(p.pendingGate?.gate, 'keys-2', JSON.stringify(p.stages));
      await assert.rejects(
        handle.executeUpdate(approveFleetUpdate, {
          args: ['alice'],
        }),
        (err: Error) => /four-eyes rule: alice started this fleet/.test(String(err.cause)),
      );
      await handle.executeUpdate(approveFleetUpdate, {
        args: [{ approver: 'bob', comment: 'all callers moved' }],
      });
    });
    assert.equal(result.outcome, 'succeeded', result.reason);
    const evidence = result.evidence;
    assert.deepEqual(
      evidence.accounts.map((a) => [a.name, a.state, a.callers.length]),
      [
        ['alpha-openai', 'off', 9],
        ['beta-openai', 'off', 6],
        ['gamma-openai', 'off', 4],
      ],
    );
    assert.ok(peakRunning <= 6, `the window holds at most 6 children (saw ${peakRunning})`);
    for (const a of evidence.accounts) {
      assert.equal(a.keyHolders?.verdict, 'clear', `${a.name}: nobody else holds its key`);
      for (const c of a.callers) {
        assert.equal(c.state, 'succeeded', `${c.id}: ${c.reason ?? ''}`);
        assert.match(c.principalId ?? '', /^[0-9a-f-]{36}$/, `${c.id} has its identity`);
        assert.match(c.roleAssignmentId ?? '', /roleAssignments\//, `${c.id} has its role assignment`);
        assert.ok(c.evidencePath && existsSync(c.evidencePath), `${c.id}'s own evidence`);
      }
    }
    assert.ok(await localAuthOff(SUB_A, RG_A, 'alpha-openai'));
    assert.ok(await localAuthOff(SUB_A, RG_A, 'beta-openai'));
    assert.ok(await localAuthOff(SUB_B, RG_B, 'gamma-openai'));
    // Every caller on its identity, without the key setting; the accounts nobody migrated are untouched.
    for (const [sub, rg, name] of [
      ...[...alpha, ...beta].map((n) => [SUB_A, RG_A, n] as const),
      ...[...gamma, 'gamma-alpha'].map((n) => [SUB_B, RG_B, n] as const),
    ]) {
      const settings = await settingsOf(sub, rg, name);
      assert.equal(settings.AZURE_OPENAI_API_KEY, undefined, `${name} holds no key`);
      assert.equal(settings.AZURE_OPENAI_AUTH_MODE, 'identity', `${name} is switched`);
    }
    assert.equal((await appHealth(estate, RG_B, 'gamma-alpha')).body.authMode, 'identity');
    assert.equal((await appHealth(estate, RG_A, 'alpha-08')).body.authMode, 'identity');
    assert.equal(await localAuthOff(SUB_A, RG_A, 'delta-openai'), false);
    assert.deepEqual(
      evidence.approvals.map((a) => [a.gate, a.decision, a.by]),
      [['keys-2', 'approved', 'bob']],
    );
    assert.ok(result.evidencePath && existsSync(result.evidencePath));
    const written = JSON.parse(readFileSync(result.evidencePath, 'utf8')) as FleetEvidence;
    assert.equal(written.schema, 'cutover.fleet-evidence/v1');
  });

  test('a failing canary stops the fleet before its second wave; the canary rolls back, keys stay on', async () => {
    const result = await runFleet(
      'fleet-failing-canary',
      fleetDocument({
        accounts: [account('delta-openai')],
        callers: [
          // Its code ignores the identity settings: the smoke test cannot pass, so a short budget.
          { name: 'delta-01', plan: { budgets: { downtime: '3s' } } },
          ...['delta-02', 'delta-03', 'delta-04'].map((name) => ({ name })),
        ],
        waves: [
          { name: 'canary', callers: ['delta-01'], concurrency: 1 },
          { name: 'rest', rest: true, concurrency: 3 },
        ],
      }),
    );
    assert.equal(result.outcome, 'stopped');
    assert.match(result.reason ?? '', /wave canary: 1 caller failed, the wave tolerates 0/);
    const [delta] = result.evidence.accounts;
    assert.deepEqual(
      delta.callers.map((c) => [c.id, c.state]),
      [
        ['delta-01', 'rolled-back'],
        ['delta-02', 'not-started'],
        ['delta-03', 'not-started'],
        ['delta-04', 'not-started'],
      ],
    );
    assert.equal(delta.state, 'kept-on');
    assert.match(delta.reason ?? '', /4 of 4 callers did not move/);
    assert.equal(await localAuthOff(SUB_A, RG_A, 'delta-openai'), false);
    // The canary's settings are back as they were; the callers of the next wave were never touched.
    assert.ok((await settingsOf(SUB_A, RG_A, 'delta-01')).AZURE_OPENAI_API_KEY, 'the canary has its key back');
    assert.equal((await settingsOf(SUB_A, RG_A, 'delta-01')).AZURE_OPENAI_AUTH_MODE, undefined);
    const untouched = await clientsOf(SUB_A).web.webApps.get(RG_A, 'delta-02');
    assert.equal(untouched.identity?.type ?? 'None', 'None');
  });

  test('a wave stops at one failure more than its threshold: started callers finish, the rest never start', async () => {
    // delta-01's code ignores the identity settings; delta-03's plan smoke-tests a path its app does not serve.
    const failing = { budgets: { downtime: '3s' } };
    const result = await runFleet(
      'fleet-threshold',
      fleetDocument({
        accounts: [account('delta-openai')],
        callers: [
          { name: 'delta-01', plan: failing },
          { name: 'delta-02' },
          { name: 'delta-03', plan: { ...failing, smokeTest: { interval: '250ms', path: '/health/missing' } } },
          { name: 'delta-04' },
        ],
        waves: [{ name: 'all', rest: true, concurrency: 1, failureThreshold: { maxFailures: 1 } }],
      }),
    );
    assert.equal(result.outcome, 'stopped');
    assert.match(result.reason ?? '', /wave all: 2 callers failed, the wave tolerates 1/);
    const [delta] = result.evidence.accounts;
    assert.deepEqual(
      delta.callers.map((c) => [c.id, c.state]),
      [
        ['delta-01', 'rolled-back'],
        ['delta-02', 'succeeded'],
        ['delta-03', 'rolled-back'],
        ['delta-04', 'not-started'],
      ],
    );
    assert.equal(delta.state, 'kept-on');
    assert.equal(await localAuthOff(SUB_A, RG_A, 'delta-openai'), false);
    assert.equal((await settingsOf(SUB_A, RG_A, 'delta-02')).AZURE_OPENAI_AUTH_MODE, 'identity', 'the success stays');
    assert.ok((await settingsOf(SUB_A, RG_A, 'delta-03')).AZURE_OPENAI_API_KEY, 'a failure has its key back');
    const untouched = await clientsOf(SUB_A).web.webApps.get(RG_A, 'delta-04');
    assert.equal(untouched.identity?.type ?? 'None', 'None');
  });

  test('onStop roll-back-wave: an abort during the bake rolls back the whole wave, its moved callers too', async () => {
    const beforeState = footprint(estate, 'delta-openai');
    const callers = ['delta-02', 'delta-03', 'delta-04'];
    const result = await runFleet(
      'fleet-wave-rollback',
      fleetDocument({
        accounts: [account('delta-openai')],
        callers: callers.map((name) => ({ name })),
        waves: [{ name: 'all', rest: true, concurrency: 3, bake: '1h' }],
        onStop: 'roll-back-wave',
      }),
      async (handle) => {
        // Every caller moved, none ended: held until the wave's end, which the bake puts an hour away.
        await pollUntil(
          async () => {
            const p = await handle.query(fleetProgressQuery).catch(() => undefined);
            return p?.callers.every((c) => c.state === 'held') && /baking/.test(p.waitingFor ?? '') ? p : undefined;
          },
          'every caller held, the wave baking',
          { intervalMs: 100 },
        );
        const moved = footprint(estate, 'delta-openai');
        assert.notDeepEqual(moved, beforeState, 'the held callers are on their identities');
        await handle.executeUpdate(abortFleetUpdate, { args: [{ by: 'bob', reason: 'error rate up in wave all' }] });
      },
    );
    assert.equal(result.outcome, 'stopped');
    assert.match(result.reason ?? '', /aborted by bob: error rate up in wave all/);
    const [delta] = result.evidence.accounts;
    assert.deepEqual(
      delta.callers.map((c) => [c.id, c.state]),
      callers.map((id) => [id, 'rolled-back']),
    );
    for (const c of delta.callers) assert.match(c.reason ?? '', /rolled back with wave all: aborted by bob/);
    // Each child's evidence: the stage it was held in keeps what it recorded, and says how the hold ended.
    const childEvidence = JSON.parse(readFileSync(delta.callers[0].evidencePath!, 'utf8')) as {
      stages: { id: string; detail?: string }[];
    };
    const heldIn = childEvidence.stages.find((st) => / rolled back with wave all$/.test(st.detail ?? ''));
    assert.ok(heldIn && heldIn.detail!.split('; ').length >= 2, JSON.stringify(childEvidence.stages));
    // A held child's own history, for the replay test: the hold, the fleet's answer, the rollback.
    const child = estate.temporal.client.workflow.getHandle(delta.callers[0].workflowId!, delta.callers[0].runId);
    await saveHistory('fleet-wave-rollback-child', await child.fetchHistory());
    assert.equal(delta.state, 'kept-on');
    // Field by field as before the fleet: settings and their keys, identities, role assignments, the account.
    assert.deepEqual(footprint(estate, 'delta-openai'), beforeState);
    const wave = result.evidence.stages.find((s) => s.id === 'wave-0');
    assert.equal(wave?.status, 'failed');
    assert.match(wave?.detail ?? '', /0 of 3 moved, 3 failed \(the wave rolled back: aborted by bob/);
  });

  test('an account with a key caller nobody listed keeps its keys on and says why', async () => {
    const call = await estate.sim.control.callAccount({
      account: 'eps-openai',
      key: 1,
      ip: '203.0.113.7',
      userAgent: 'research-notebook/1.0',
    });
    assert.equal(call.status, 200, 'the notebook calls with the key');
    const document = fleetDocument({
      accounts: [account('eps-openai', SUB_A, RG_A, { quietPeriod: '1h' })],
      callers: [{ name: 'eps-01' }, { name: 'eps-02' }],
      waves: [{ name: 'all', rest: true, concurrency: 2 }],
    });
    (document.defaults as Record<string, unknown>).observability = { logIngestionDelay: '2s', metricsDelay: '0s' };
    const result = await runFleet('fleet-straggler', document);
    assert.equal(result.outcome, 'succeeded', result.reason);
    const [eps] = result.evidence.accounts;
    assert.deepEqual(
      eps.callers.map((c) => c.state),
      ['succeeded', 'succeeded'],
    );
    assert.equal(eps.state, 'kept-on');
    assert.match(eps.reason ?? '', /unknown caller at 203\.0\.113\.7 \(research-notebook\/1\.0\): 1 key call/);
    assert.equal(eps.keyUsage?.verdict, 'key-calls');
    assert.equal(await localAuthOff(SUB_A, RG_A, 'eps-openai'), false, 'keys stay on');
  });

  test('a key switch whose proof fails is switched back on that account alone; its callers stay moved', async () => {
    // The data plane follows the switch after a minute, and the proof may wait 2 s: keys are never seen refused.
    estate.sim.control.setDelays({ localAuthSwitchMs: 60_000 });
    const document = fleetDocument({
      accounts: [account('eps-openai')],
      callers: [{ name: 'eps-01' }, { name: 'eps-02' }],
      waves: [{ name: 'all', rest: true, concurrency: 2 }],
    });
    const defaults = document.defaults as { budgets: Record<string, string> };
    defaults.budgets = { ...defaults.budgets, localAuthSwitch: '2s' };
    const result = await runFleet('fleet-switch-back', document);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /the key switch failed on eps-openai/);
    const [eps] = result.evidence.accounts;
    assert.equal(eps.state, 'switched-back', eps.reason);
    assert.deepEqual(
      eps.callers.map((c) => c.state),
      ['succeeded', 'succeeded'],
    );
    assert.equal(await localAuthOff(SUB_A, RG_A, 'eps-openai'), false, 'key auth is back on');
    assert.equal(
      (await settingsOf(SUB_A, RG_A, 'eps-01')).AZURE_OPENAI_AUTH_MODE,
      'identity',
      'the callers stay moved',
    );
  });

  test('continue-as-new between waves keeps every record, the gates and their decisions', async () => {
    const result = await runFleet(
      'fleet-continue-as-new',
      fleetDocument({
        accounts: [account('delta-openai')],
        callers: [{ name: 'delta-02' }, { name: 'delta-03' }],
        waves: [
          { name: 'first', callers: ['delta-02'], concurrency: 1 },
          { name: 'second', callers: ['delta-03'], concurrency: 1, approval: true },
        ],
        continueAsNewAfterEvents: 1,
      }),
      async (handle) => {
        await pollUntil(
          async () => {
            const p = await handle.query(fleetProgressQuery).catch(() => undefined);
            return p?.pendingGate?.gate === 'wave-1' ? p : undefined;
          },
          'the gate of the second wave, after continue-as-new',
          { intervalMs: 50 },
        );
        // The handle follows the chain: the update reaches the run that continued.
        await handle.executeUpdate(approveFleetUpdate, {
          args: ['bob'],
        });
      },
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    const [delta] = result.evidence.accounts;
    assert.deepEqual(
      delta.callers.map((c) => [c.id, c.state]),
      [
        ['delta-02', 'succeeded'],
        ['delta-03', 'succeeded'],
      ],
    );
    // delta-01 and delta-04 still hold the key: the inventory keeps it on.
    assert.equal(delta.state, 'kept-on');
    assert.match(delta.reason ?? '', /delta-01/);
    assert.deepEqual(
      result.evidence.approvals.map((a) => [a.gate, a.by]),
      [['wave-1', 'bob']],
    );
    assert.equal(
      result.evidence.stages.find((s) => s.id === 'wave-0')?.status,
      'done',
      'the first run’s stages carried',
    );
    assert.ok(result.evidence.runs >= 2, `the fleet continued as new (${result.evidence.runs} runs)`);
  });
});
