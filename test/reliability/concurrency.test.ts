/**
 * Concurrency and blast radius, each story on its own account of the hostile estate so the stories run side by
 * side: one migration per app at a time (the workflow id, FAIL on conflict like `cutover start`), two apps on one
 * account at once, and local auth left alone while another app still holds the account key — `skip` (the other
 * app keeps working), `fail` (roll back), `wait` (proceed once the other app stops using the key).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { MigrationPlan } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { rejectUpdate } from '../../workflows/migration/messages';
import type { MigrationResult } from '../../contracts/model';
import type { Estate } from '../support/estate';
import {
  appHealth,
  footprint,
  HOSTILE_RG,
  hostileClients,
  hostilePlan,
  reportSummary,
  startHostileEstate,
  waitForProgress,
} from './support';

const SITES = [
  'solo-bot',
  'pair-a',
  'pair-b',
  'skip-bot',
  'skip-bystander',
  'fail-bot',
  'fail-bystander',
  'wait-bot',
  'wait-bystander',
];

describe('concurrency and blast radius', { concurrency: true }, () => {
  let estate: Estate;
  const stories: string[] = [];
  const broken: string[] = [];
  let migrations = 0;

  // One worker for every story (they run at once): a worker per test would leave its sticky workflows behind.
  let release = () => {};
  let worker: Promise<void> | undefined;
  before(async () => {
    estate = await startHostileEstate('concurrency', SITES);
    const stop = new Promise<void>((r) => (release = r));
    worker = estate.temporal.withWorker(estate.activities(), () => stop);
  });
  after(async () => {
    release();
    await worker;
    const line = `${stories.length} stories, ${migrations} migrations, ${broken.length} bystanders broken`;
    reportSummary('concurrency', line, {
      file: 'test/reliability/concurrency.test.ts',
      scenario: stories.join(', '),
      lost: broken,
    });
    await estate.close();
  });

  /** Starts a migration under the id `cutover start` uses, refusing a second one like it does. */
  function start(plan: MigrationPlan) {
    migrations++;
    return estate.temporal.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: migrationWorkflowId(plan),
      args: [{ plan, initiatedBy: 'alice' }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  }
  const run = <T>(fn: () => Promise<T>) => fn();

  /** A bystander must still answer with its key. */
  async function assertBystanderWorks(name: string) {
    const health = await appHealth(estate, name);
    if (health.status !== 200 || health.body.authMode !== 'key') broken.push(`${name}: ${JSON.stringify(health)}`);
    assert.equal(health.status, 200, `${name} still works: ${JSON.stringify(health.body)}`);
    assert.equal(health.body.authMode, 'key');
  }

  test('a second migration of the same app is refused while the first runs, and allowed once it ended', async () => {
    stories.push('same app twice');
    const plan = hostilePlan('solo-bot', 'solo-openai', {
      approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false },
    });
    await run(async () => {
      const first = await start(plan);
      await waitForProgress(first, (p) => p.pendingGate?.gate === 'settings');
      await assert.rejects(start(plan), WorkflowExecutionAlreadyStartedError);
      migrations--; // refused: it never ran
      await first.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'second try' }] });
      assert.equal((await first.result()).outcome, 'rolled-back');
      const second = await start(hostilePlan('solo-bot', 'solo-openai'));
      const result = await second.result();
      assert.equal(result.outcome, 'succeeded', result.reason);
      assert.notEqual(second.firstExecutionRunId, first.firstExecutionRunId);
    });
    assert.equal((await appHealth(estate, 'solo-bot')).body.authMode, 'identity');
  });

  test('two apps on the same account migrate side by side and both succeed', async () => {
    stories.push('two apps, one account');
    const results = await run(async () => {
      // Each holds the key until it has moved: with `wait`, each waits for the other, and then one switches.
      const waitForEachOther = { localAuth: { ifOtherCallers: 'wait', recheckInterval: '1s' } };
      const handles = await Promise.all([
        start(hostilePlan('pair-a', 'pair-openai', waitForEachOther)),
        start(hostilePlan('pair-b', 'pair-openai', waitForEachOther)),
      ]);
      return Promise.all(handles.map((h) => h.result()));
    });
    for (const r of results) assert.equal(r.outcome, 'succeeded', r.reason);
    for (const app of ['pair-a', 'pair-b']) {
      const health = await appHealth(estate, app);
      assert.equal(health.status, 200);
      assert.equal(health.body.authMode, 'identity', app);
    }
    // Local auth ends disabled, switched by exactly one of them (under the account's lock).
    const account = await hostileClients(estate).cognitive.accounts.get(HOSTILE_RG, 'pair-openai');
    assert.equal(account.properties?.disableLocalAuth, true);
    assert.ok(results.every((r) => r.evidence.localAuth.after === true));
    const owners = results.filter((r) => r.evidence.compensations.some((c) => c.kind === 'enable-local-auth'));
    assert.equal(owners.length, 1, 'one of them owns the switch');
    const roles = footprint(estate.sim, [], 'pair-openai') as { roleAssignments: string[] };
    assert.equal(roles.roleAssignments.length, 2, 'one assignment per app identity');
  });

  test('skip (the default): local auth stays on while another app holds the key, which keeps working', async () => {
    stories.push('other caller: skip');
    const result: MigrationResult = await run(async () =>
      (await start(hostilePlan('skip-bot', 'skip-openai'))).result(),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(result.evidence.plan.localAuth.ifOtherCallers, 'skip');
    assert.match(result.evidence.localAuth.skippedBecause ?? '', /skip-bystander \(AZURE_OPENAI_API_KEY\)/);
    assert.equal(result.evidence.localAuth.after, false);
    assert.equal(result.evidence.stages.find((s) => s.id === 'local-auth')?.status, 'skipped');
    const account = await hostileClients(estate).cognitive.accounts.get(HOSTILE_RG, 'skip-openai');
    assert.equal(account.properties?.disableLocalAuth, false, 'local auth still enabled');
    assert.equal((await appHealth(estate, 'skip-bot')).body.authMode, 'identity');
    await assertBystanderWorks('skip-bystander');
  });

  test('fail: another app holding the key stops the migration in preflight, before any change', async () => {
    stories.push('other caller: fail');
    const beforeState = footprint(estate.sim, ['fail-bot', 'fail-bystander'], 'fail-openai');
    const result = await run(async () =>
      (await start(hostilePlan('fail-bot', 'fail-openai', { localAuth: { ifOtherCallers: 'fail' } }))).result(),
    );
    assert.equal(result.outcome, 'preflight-failed');
    const problem = result.evidence.preflightProblems?.find((p) => p.check === 'key-holders');
    assert.match(problem?.message ?? '', /other callers still hold the key: fail-bystander/);
    assert.deepEqual(result.evidence.compensations, [], 'nothing to undo: nothing changed');
    assert.deepEqual(footprint(estate.sim, ['fail-bot', 'fail-bystander'], 'fail-openai'), beforeState);
    assert.equal((await appHealth(estate, 'fail-bot')).body.authMode, 'key', 'the app was never touched');
    await assertBystanderWorks('fail-bystander');
  });

  test('wait: local auth waits for the other app, and proceeds once it stops using the key', async () => {
    stories.push('other caller: wait');
    const clients = hostileClients(estate);
    const result = await run(async () => {
      const handle = await start(
        hostilePlan('wait-bot', 'wait-openai', { localAuth: { ifOtherCallers: 'wait', recheckInterval: '2s' } }),
      );
      const waiting = await waitForProgress(handle, (p) => /other callers still hold the key/.test(p.waitingFor ?? ''));
      assert.match(waiting.waitingFor ?? '', /wait-bystander/);
      assert.equal(waiting.stage, 'key-holders');
      let account = await clients.cognitive.accounts.get(HOSTILE_RG, 'wait-openai');
      assert.equal(account.properties?.disableLocalAuth, false, 'nothing disabled while it waits');
      await assertBystanderWorks('wait-bystander');
      // The bystander's owner moves it off the key (through the SDK, as they would).
      const settings = (await clients.web.webApps.listApplicationSettings(HOSTILE_RG, 'wait-bystander')).properties!;
      delete settings.AZURE_OPENAI_API_KEY;
      await clients.web.webApps.updateApplicationSettings(HOSTILE_RG, 'wait-bystander', { properties: settings });
      account = await clients.cognitive.accounts.get(HOSTILE_RG, 'wait-openai');
      assert.equal(account.properties?.disableLocalAuth, false);
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(result.evidence.localAuth.after, true);
    assert.equal(result.evidence.localAuth.skippedBecause, undefined);
    assert.equal(result.evidence.stages.find((s) => s.id === 'local-auth')?.status, 'done');
    const account = await clients.cognitive.accounts.get(HOSTILE_RG, 'wait-openai');
    assert.equal(account.properties?.disableLocalAuth, true);
  });
});
