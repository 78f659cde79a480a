/**
 * One account, many callers. Key auth is a switch of the account, so its updates are serialised (the account's
 * lock) and a run owns only the switch it made: ten migrations of ten apps on one account, started together, all
 * succeed and exactly one account update disables local auth; a run that finds the switch made by another and
 * then fails never switches keys back on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as path from 'node:path';
import { type MigrationPlan, targetOf } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { approveUpdate, skipCompensationUpdate } from '../../workflows/migration/messages';
import { type Estate, estatePlan, startEstate } from '../support/estate';
import { reportSummary, waitForProgress } from './support';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'shared-account.yaml');

function plan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-SHARED-${app}`,
    target: { kind: 'app-service', resourceGroup: 'rg-shared', name: app },
    localAuth: { ifOtherCallers: 'wait', recheckInterval: '1s' },
    ...overrides,
  });
}

/** Every PATCH of the account that reached Azure, by the value of disableLocalAuth it asked for. */
function accountUpdates(estate: Estate, account: string) {
  return estate.sim.control
    .requests()
    .filter((r) => r.surface === 'arm' && r.method === 'PATCH' && r.path.endsWith(`/accounts/${account}`));
}

describe('migrations of many apps on one account', () => {
  let estate: Estate;
  let release = () => {};
  let worker: Promise<void> | undefined;
  const figures: Record<string, unknown> = {};
  before(async () => {
    estate = await startEstate('shared-account', SCENARIO);
    const stop = new Promise<void>((r) => (release = r));
    worker = estate.temporal.withWorker(estate.activities(), () => stop, { maxConcurrentActivityTaskExecutions: 20 });
  });
  after(async () => {
    release();
    await worker;
    reportSummary('shared account', `${JSON.stringify(figures)}`, {
      file: 'test/reliability/shared-account.test.ts',
      lost: [],
    });
    await estate.close();
  });

  const start = (p: MigrationPlan) =>
    estate.temporal.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: `${migrationWorkflowId(p)}/${Date.now()}`,
      args: [{ plan: p, initiatedBy: 'alice' }],
    });

  test('ten migrations started together all succeed, and exactly one account update disables local auth', async () => {
    const apps = Array.from({ length: 10 }, (_, i) => `ten-${String(i + 1).padStart(2, '0')}`);
    const handles = await Promise.all(apps.map((app) => start(plan(app, 'ten-openai'))));
    const results = await Promise.all(handles.map((h) => h.result()));
    for (const r of results) assert.equal(r.outcome, 'succeeded', `${targetOf(r.evidence.plan).name}: ${r.reason}`);
    const updates = accountUpdates(estate, 'ten-openai');
    figures.tenMigrations = { succeeded: results.length, accountUpdates: updates.length };
    assert.equal(updates.length, 1, `one account update, got ${updates.map((u) => u.status).join(', ')}`);
    assert.equal(updates[0].status < 300, true);
    const owners = results.filter((r) => r.evidence.compensations.some((c) => c.kind === 'enable-local-auth'));
    assert.equal(owners.length, 1, 'exactly one run owns the switch');
    assert.ok(results.every((r) => r.evidence.localAuth.after === true));
    const account = await estate.azure.cognitive.accounts.get('rg-shared', 'ten-openai');
    assert.equal(account.properties?.disableLocalAuth, true);
  });

  test('a run that found the switch made by another and then failed does not switch keys back on', async () => {
    const approvals = { beforeSettingsSwap: false, beforeDisableLocalAuth: true };
    const a = await start(plan('duo-a', 'duo-openai', { approvals }));
    // b's key check is to give up (the fault below is permanent), so its switch budget is short; nothing else is.
    const budgets = { propagationWait: '10m', downtime: '10m', approvalTimeout: '15m', localAuthSwitch: '5s' };
    const b = await start(plan('duo-b', 'duo-openai', { approvals, budgets }));
    await waitForProgress(a, (p) => p.pendingGate?.gate === 'local-auth');
    await waitForProgress(b, (p) => p.pendingGate?.gate === 'local-auth');
    await a.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
    assert.equal((await a.result()).outcome, 'succeeded');
    // Something fails for b after the switch: its key check never sees a refusal.
    estate.sim.control.addFault({ pathContains: '/aoai/duo-openai/', status: 500, probability: 1 });
    await b.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
    // Its rollback cannot bring its key setting back (the account refuses keys now): an operator accepts that.
    const blocked = await waitForProgress(b, (p) => p.blocked !== undefined, 'b’s rollback blocked');
    assert.match(blocked.blocked!.error, /no longer accepts keys/);
    estate.sim.control.clearFaults();
    await b.executeUpdate(skipCompensationUpdate, {
      args: [{ by: 'oncall', reason: 'the app runs on its identity; keys are off for the whole account' }],
    });
    const rb = await b.result();
    assert.equal(rb.outcome, 'rollback-incomplete');
    assert.ok(!rb.evidence.compensations.some((c) => c.kind === 'enable-local-auth'), 'b never owned the switch');
    const updates = accountUpdates(estate, 'duo-openai');
    figures.sequenced = { accountUpdates: updates.length };
    assert.equal(updates.length, 1, 'only a’s switch reached the account');
    const account = await estate.azure.cognitive.accounts.get('rg-shared', 'duo-openai');
    assert.equal(account.properties?.disableLocalAuth, true, 'a’s switch stands');
  });
});
