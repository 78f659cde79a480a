/**
 * Azure Container Apps in multiple-revision mode, `strategy: traffic-shift` (issue 11, kind 2): the real workflow
 * on the dev server, real activities over the real @azure/arm-appcontainers client, the simulator playing Azure
 * (test/fixtures/scenarios/container-app-traffic.yaml). A new revision at 0 %, smoke-tested on its own FQDN, takes
 * the traffic in steps; the old revisions run until the end, then are deactivated, and the secret that held the key
 * is removed after the key switch. Each final state is compared field by field with the expected after-state
 * (success) or the before-state (rollback); revisions and their traffic weights are asserted on their own.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PreflightProblem } from '../../contracts/model';
import type { MigrationPlan } from '../../plan/schema';
import {
  appOf,
  assertNoFailedRequest,
  expectedAfter,
  type Footprint,
  footprint,
  health,
  RG,
} from '../support/container-apps';
import { type Estate, estatePlan, runMigration, startEstate } from '../support/estate';
import { waitForProgress } from '../support/progress';
import { rejectUpdate } from '../../workflows/migration/messages';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'container-app-traffic.yaml');

function plan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-SHIFT-${app}`,
    target: { kind: 'container-app', resourceGroup: RG, name: app },
    strategy: { type: 'traffic-shift', steps: [10, 50, 100] },
    ...overrides,
  });
}

/** Every revision of an app, oldest first: name, whether active, its share of the app's traffic. */
async function revisionsOf(estate: Estate, name: string) {
  const out: { name: string; active: boolean; weight: number }[] = [];
  for await (const r of estate.azure.containerApps.containerAppsRevisions.listRevisions(RG, name))
    out.push({ name: r.name!, active: r.active!, weight: r.trafficWeight ?? 0 });
  return out;
}

/** Through the real SDK, as an operator would: a traffic table (and optionally a new revision first). */
async function prepare(estate: Estate, name: string, traffic: object[], suffix?: string) {
  const apps = estate.azure.containerApps.containerApps;
  const app = await apps.get(RG, name);
  await apps.beginUpdateAndWait(
    RG,
    name,
    {
      location: app.location,
      ...(suffix ? { template: { ...app.template, revisionSuffix: suffix } } : {}),
      configuration: { ingress: { ...app.configuration!.ingress, traffic } },
    },
    { updateIntervalInMs: 100 },
  );
}

/** The expected after-state, the app running one revision (the new one) with all the traffic as `traffic`. */
function expectedShifted(beforeState: Footprint, actual: Footprint, name: string, account: string, traffic: unknown) {
  const expected = expectedAfter(beforeState, actual, name, account);
  const app = appOf(expected, name);
  app.liveEnv = app.liveEnv.slice(0, 1);
  app.traffic = traffic as typeof app.traffic;
  return expected;
}

describe('container app traffic shift against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('container-app-traffic', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  const run = (name: string, p: MigrationPlan) => runMigration(estate, name, p);

  test('a new revision at 0 % takes the traffic in steps; the old one is retired, the key secret removed', async () => {
    const beforeState = footprint(estate, 'shift-openai');
    assert.deepEqual(appOf(beforeState, 'shift-aca').traffic, [{ latestRevision: true, weight: 100 }]);
    const keys = await estate.azure.cognitive.accounts.listKeys(RG, 'shift-openai');
    const from = estate.sim.control.requests().length;
    const result = await run('container-app-traffic-shift', plan('shift-aca', 'shift-openai'));
    // Writes of the app: the identity, the revision at 0 %, one traffic write a step, the secret's removal.
    const patches = estate.sim.control
      .requests()
      .slice(from)
      .filter((q) => q.method === 'PATCH' && /\/containerApps\/shift-aca$/i.test(q.path.split('?')[0]));
    assert.equal(patches.length, 1 + 1 + 3 + 1, JSON.stringify(patches.map((q) => q.path)));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'shift-openai');
    // It followed its latest revision before, and does again: the new revision is the latest.
    assert.deepEqual(
      actual,
      expectedShifted(beforeState, actual, 'shift-aca', 'shift-openai', [{ latestRevision: true, weight: 100 }]),
    );
    const history = await revisionsOf(estate, 'shift-aca');
    assert.equal(history.length, 2, JSON.stringify(history));
    assert.deepEqual(history[0], { name: 'shift-aca--blue', active: false, weight: 0 });
    assert.match(history[1].name, /^shift-aca--cutover-[a-z0-9]+$/);
    assert.deepEqual({ ...history[1], name: '' }, { name: '', active: true, weight: 100 });
    // The new revision was smoke-tested on its own FQDN, then the app at each step.
    const targets = result.evidence.smokeTests.map((s) => s.target);
    assert.ok(
      targets.some((t) => t.includes(`/containerapps/${history[1].name}/`)),
      JSON.stringify(targets),
    );
    assert.ok(
      targets.some((t) => t.includes('/containerapps/shift-aca/')),
      JSON.stringify(targets),
    );
    assert.deepEqual(
      result.evidence.compensations.map((c) => c.kind),
      [
        'restore-identity',
        'delete-role-assignment',
        'set-revisions-active',
        'restore-traffic',
        'set-revisions-active',
        'restore-secret',
        'enable-local-auth',
      ],
    );
    const evidence = JSON.stringify(result.evidence);
    for (const key of [keys.key1!, keys.key2!]) assert.ok(!evidence.includes(key), 'no key value in the evidence');
    assert.equal((await health(estate, 'shift-aca')).authMode, 'identity');
  });

  test('a failing smoke test of the new revision rolls back to the exact before-state', async () => {
    await prepare(estate, 'shift-rollback-aca', [{ revisionName: 'shift-rollback-aca--blue', weight: 100 }]);
    const beforeState = footprint(estate, 'shift-rollback-openai');
    const result = await run(
      'container-app-traffic-rollback',
      plan('shift-rollback-aca', 'shift-rollback-openai', {
        budgets: { propagationWait: '10m', downtime: '3s', approvalTimeout: '15m', localAuthSwitch: '10m' },
      }),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(
      result.reason ?? '',
      /smoke test of revision shift-rollback-aca--cutover-\S+ \(0 % traffic\) did not pass/,
    );
    assert.ok(
      result.evidence.compensations.every((c) => c.status === 'done'),
      JSON.stringify(result.evidence.compensations),
    );
    assert.deepEqual(footprint(estate, 'shift-rollback-openai'), beforeState);
    const history = await revisionsOf(estate, 'shift-rollback-aca');
    assert.equal(history.length, 2, JSON.stringify(history));
    assert.deepEqual(history[0], { name: 'shift-rollback-aca--blue', active: true, weight: 100 });
    assert.deepEqual({ ...history[1], name: '' }, { name: '', active: false, weight: 0 });
    assert.equal((await health(estate, 'shift-rollback-aca')).authMode, 'key', 'it works with its key again');
  });

  test('rejected at the key-switch gate after the whole shift: traffic, revisions and env back as they were', async () => {
    await prepare(estate, 'shift-reject-aca', [{ revisionName: 'shift-reject-aca--blue', weight: 100 }]);
    const beforeState = footprint(estate, 'shift-reject-openai');
    const result = await runMigration(
      estate,
      'container-app-traffic-rejected',
      plan('shift-reject-aca', 'shift-reject-openai', {
        approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: true },
      }),
      async (handle) => {
        await waitForProgress(handle, (p) => p.pendingGate?.gate === 'local-auth');
        // All the traffic is on the new revision by now; the old one still runs.
        const now = await revisionsOf(estate, 'shift-reject-aca');
        assert.deepEqual(
          now.map((r) => [r.active, r.weight]),
          [
            [true, 0],
            [true, 100],
          ],
        );
        await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'not this week' }] });
      },
    );
    assert.equal(result.outcome, 'rolled-back', result.reason);
    assert.ok(
      result.evidence.compensations.every((c) => c.status === 'done'),
      JSON.stringify(result.evidence.compensations),
    );
    assert.deepEqual(footprint(estate, 'shift-reject-openai'), beforeState);
    const history = await revisionsOf(estate, 'shift-reject-aca');
    assert.deepEqual(history[0], { name: 'shift-reject-aca--blue', active: true, weight: 100 });
    assert.deepEqual({ ...history[1], name: '' }, { name: '', active: false, weight: 0 });
    assert.equal((await health(estate, 'shift-reject-aca')).authMode, 'key');
  });

  test('a failure after the key switch: the removed secret is restored (its key read again), all else undone', async () => {
    await prepare(estate, 'shift-late-aca', [{ revisionName: 'shift-late-aca--blue', weight: 100 }]);
    const beforeState = footprint(estate, 'shift-late-openai');
    const result = await runMigration(
      estate,
      'container-app-traffic-late-failure',
      plan('shift-late-aca', 'shift-late-openai', {
        // An analysis after the key switch that cannot pass: it fails, or (no data) opens a gate that is rejected.
        observability: { logIngestionDelay: '0s', metricsDelay: '0s' },
        analysis: {
          after: ['key-switch'],
          interval: '1s',
          count: 1,
          metrics: [{ name: 'account-5xx', successCondition: 'result < 0', failureCondition: 'result >= 0' }],
        },
      }),
      async (handle) => {
        const p = await waitForProgress(
          handle,
          (x) => x.pendingGate?.gate === 'key-analysis' || x.outcome !== 'running' || x.stage === 'rollback',
        );
        if (p.pendingGate?.gate === 'key-analysis')
          await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'no' }] });
      },
    );
    assert.equal(result.outcome, 'rolled-back', result.reason);
    const steps = result.evidence.compensations;
    assert.ok(
      steps.every((c) => c.status === 'done'),
      JSON.stringify(steps),
    );
    // Key auth back on first, then the secret (the account gives its keys again only then), then the revisions.
    const order = steps.map((c) => c.kind);
    assert.ok(order.indexOf('restore-secret') >= 0, JSON.stringify(order));
    assert.equal(order.indexOf('restore-secret'), order.indexOf('enable-local-auth') - 1, JSON.stringify(order));
    assert.match(
      steps[order.indexOf('restore-secret')].description,
      /restore secret openai-key of shift-late-aca \(key1 of shift-late-openai\)/,
    );
    // Secrets compared with their values: the key is back as it was.
    assert.deepEqual(footprint(estate, 'shift-late-openai'), beforeState);
    const history = await revisionsOf(estate, 'shift-late-aca');
    assert.deepEqual(history[0], { name: 'shift-late-aca--blue', active: true, weight: 100 });
    assert.deepEqual({ ...history[1], name: '' }, { name: '', active: false, weight: 0 });
    assert.equal((await health(estate, 'shift-late-aca')).authMode, 'key');
  });

  test('brownfield: a second revision at 20 %, a secret, env vars and tags of its own', async () => {
    await prepare(
      estate,
      'shift-brown-aca',
      [
        { revisionName: 'shift-brown-aca--blue', weight: 80 },
        { revisionName: 'shift-brown-aca--green', weight: 20 },
      ],
      'green',
    );
    const beforeState = footprint(estate, 'shift-brown-openai');
    assert.equal(appOf(beforeState, 'shift-brown-aca').liveEnv.length, 2);
    const result = await run(
      'container-app-traffic-brownfield',
      plan('shift-brown-aca', 'shift-brown-openai', { strategy: { type: 'traffic-shift', steps: [50, 100] } }),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    const history = await revisionsOf(estate, 'shift-brown-aca');
    const made = history[2]?.name;
    const actual = footprint(estate, 'shift-brown-openai');
    assert.deepEqual(
      actual,
      expectedShifted(beforeState, actual, 'shift-brown-aca', 'shift-brown-openai', [
        { revisionName: made, weight: 100 },
      ]),
    );
    assert.deepEqual(
      appOf(actual, 'shift-brown-aca').secrets.map((s) => s.name),
      ['storage-connection'],
    );
    assert.deepEqual(history, [
      { name: 'shift-brown-aca--blue', active: false, weight: 0 },
      { name: 'shift-brown-aca--green', active: false, weight: 0 },
      { name: made, active: true, weight: 100 },
    ]);
    assert.equal((await health(estate, 'shift-brown-aca')).authMode, 'identity');
  });

  test('under load: every request answered while the traffic moves in steps', async () => {
    await assertNoFailedRequest(estate, 'shift-load-aca', () =>
      run('container-app-traffic-load', plan('shift-load-aca', 'shift-load-openai')),
    );
  });

  test('a traffic shift of an app in single-revision mode is refused before anything changes', async () => {
    const beforeState = footprint(estate, 'shift-single-openai');
    const result = await run('container-app-traffic-single', plan('shift-single-aca', 'shift-single-openai'));
    assert.equal(result.outcome, 'preflight-failed');
    const problems = (result.evidence.preflightProblems ?? []) as PreflightProblem[];
    assert.ok(
      problems.some((p) =>
        /shift-single-aca is in single-revision mode: a traffic shift needs two revisions/.test(p.message),
      ),
      JSON.stringify(problems),
    );
    assert.deepEqual(footprint(estate, 'shift-single-openai'), beforeState);
  });
});
