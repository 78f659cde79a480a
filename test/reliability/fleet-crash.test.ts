/**
 * Worker crashes under a fleet: the worker runs in its own process and is SIGKILLed while a wave's children run and
 * again while the fleet switches an account's keys off; a new worker process takes over. The fleet must end as an
 * uninterrupted one would: every caller on its identity with one role assignment, keys off, switched exactly once.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FleetProgress, fleetWorkflowId } from '../../contracts/fleet';
import { parseFleetPlan } from '../../plan/fleet';
import { migrateFleet } from '../../workflows';
import { fleetProgressQuery } from '../../workflows/fleet/messages';
import { type Estate, startEstate, TENANT, TEST_FLEET_DEFAULTS } from '../support/estate';
import { testEnv } from '../support/env';
import {
  armCounts,
  assignmentsPerPrincipal,
  isOp,
  summarize,
  waitForRequest,
  WorkerFleet,
} from '../support/reliability';
import { pollUntil } from '../support/wait';

const FILE = 'test/reliability/fleet-crash.test.ts';
const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'fleet.yaml');
const SUB_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const ACCOUNT_WRITE = 'Microsoft.CognitiveServices/accounts/write';
const THETA = ['theta-01', 'theta-02', 'theta-03', 'theta-04', 'theta-05', 'theta-06'];

describe('worker crashes under a fleet', () => {
  let estate: Estate;
  let workers: WorkerFleet;

  before(async () => {
    estate = await startEstate('fleet-crash', SCENARIO);
    workers = new WorkerFleet(estate, {
      address: testEnv('temporalAddress'),
      taskQueue: estate.temporal.taskQueue,
      logName: 'fleet-crash',
    });
    await workers.start();
  });
  after(async () => {
    await workers?.close();
    await estate?.close();
  });

  test('SIGKILL during a wave and during the key switch: the fleet ends as an uninterrupted one', async () => {
    // The switch answers after 1.5 s, so the second kill lands while it is in flight.
    estate.sim.control.addFault({ operation: ACCOUNT_WRITE, latencyMs: 1500 });
    const plan = parseFleetPlan({
      kind: 'fleet',
      changeTicket: `CHG-FLEET-CRASH-${Date.now()}`,
      tenantId: TENANT,
      defaults: { ...TEST_FLEET_DEFAULTS },
      accounts: [
        {
          name: 'theta-openai',
          subscriptionId: SUB_A,
          resourceGroup: 'rg-fleet-a',
          deployment: 'gpt-4o-mini',
          keySwitch: { approval: false, quietPeriod: '0s' },
        },
      ],
      callers: THETA.map((name) => ({ name })),
      waves: [
        { name: 'canary', callers: ['theta-01'], concurrency: 1 },
        { name: 'rest', rest: true, concurrency: 3 },
      ],
    });
    const handle = await estate.temporal.client.workflow.start(migrateFleet, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: fleetWorkflowId(plan.changeTicket),
      args: [{ plan, initiatedBy: 'alice' }],
    });
    const when = (what: string, pred: (p: FleetProgress) => boolean) =>
      pollUntil(
        async () => {
          const p = await handle.query(fleetProgressQuery).catch(() => undefined);
          if (p && p.outcome !== 'running') throw new Error(`${what}: the fleet ended first (${p.outcome})`);
          return p && pred(p) ? p : undefined;
        },
        what,
        { intervalMs: 100 },
      );
    const tried: string[] = [];
    const during = await when('children of the second wave running', (p) => (p.waves[1]?.running ?? 0) >= 2);
    await workers.restart();
    tried.push(`wave rest (${during.waves[1].running} children running)`);
    await waitForRequest(estate.sim, isOp(ACCOUNT_WRITE), 'the account update of the key switch');
    await workers.restart();
    tried.push('key switch (account update in flight)');

    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded', result.reason);
    const [theta] = result.evidence.accounts;
    assert.equal(theta.state, 'off', theta.reason);
    assert.deepEqual(
      theta.callers.map((c) => c.state),
      THETA.map(() => 'succeeded'),
    );
    const lost: string[] = [];
    const doubled = Object.entries(assignmentsPerPrincipal(estate.sim)).filter(([, n]) => n !== 1);
    lost.push(...doubled.map(([k, n]) => `${n} role assignments for ${k}`));
    const counts = armCounts(estate.sim.control.requests());
    if (counts.ok(ACCOUNT_WRITE) !== 1) lost.push(`${counts.ok(ACCOUNT_WRITE)} key switches instead of 1`);
    assert.deepEqual(lost, [], 'every caller has one role assignment; keys were switched off');
    const account = await estate.azure.cognitive.accounts.get('rg-fleet-a', 'theta-openai');
    assert.equal(account.properties?.disableLocalAuth, true);
    summarize(FILE, {
      scenario: 'fleet: a wave and a key switch',
      crashPoints: tried,
      armRequests: counts.total,
      lost,
    });
  });
});
