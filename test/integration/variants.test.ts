/**
 * The migration against each variant of Azure's answers the simulator models (issue 10): an account update answered
 * at once (200) or as an operation (202 + Azure-AsyncOperation), lists that come one item a page (every list the
 * tool reads follows nextLink), an AIServices (Foundry) account, which serves Azure OpenAI too, and a
 * CognitiveServices account, which preflight refuses before anything changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as path from 'node:path';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationResult, PreflightProblem } from '../../contracts/model';
import type { MigrationPlan } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { type Estate, estatePlan, startEstate } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'variants.yaml');
const RG = 'rg-variants';

function plan(app: string, account: string): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-VARIANT-${app}`,
    target: { kind: 'app-service', resourceGroup: RG, name: app },
  });
}

/** The account PATCHes that reached Azure, with their answers. */
function accountUpdates(estate: Estate, account: string) {
  return estate.sim.control
    .requests()
    .filter((r) => r.surface === 'arm' && r.method === 'PATCH' && r.path.endsWith(`/accounts/${account}`));
}

describe('the migration against each variant of Azure’s answers', () => {
  let estate: Estate;
  let release = () => {};
  let worker: Promise<void> | undefined;
  before(async () => {
    estate = await startEstate('variants', SCENARIO);
    const stop = new Promise<void>((r) => (release = r));
    worker = estate.temporal.withWorker(estate.activities(), () => stop);
  });
  after(async () => {
    release();
    await worker;
    await estate.close();
  });

  async function migrate(p: MigrationPlan): Promise<MigrationResult> {
    const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: `${migrationWorkflowId(p)}/${Date.now()}`,
      args: [{ plan: p, initiatedBy: 'alice' }],
    });
    return handle.result();
  }

  async function keysRefused(account: string): Promise<boolean> {
    const a = await estate.azure.cognitive.accounts.get(RG, account);
    return a.properties?.disableLocalAuth === true;
  }

  test('an account update Azure answers at once (200, Succeeded)', async () => {
    estate.sim.control.setBehavior({ accountUpdateMode: 'sync' });
    try {
      const r = await migrate(plan('sync-bot', 'sync-openai'));
      assert.equal(r.outcome, 'succeeded', r.reason);
      const updates = accountUpdates(estate, 'sync-openai');
      assert.deepEqual(
        updates.map((u) => u.status),
        [200],
        'one update, answered synchronously',
      );
      assert.equal(await keysRefused('sync-openai'), true);
      assert.equal(r.evidence.localAuth.after, true);
    } finally {
      estate.sim.control.setBehavior({ accountUpdateMode: 'async' });
    }
  });

  test('an account update Azure answers as an operation (202 + Azure-AsyncOperation)', async () => {
    const r = await migrate(plan('async-bot', 'async-openai'));
    assert.equal(r.outcome, 'succeeded', r.reason);
    assert.deepEqual(
      accountUpdates(estate, 'async-openai').map((u) => u.status),
      [202],
      'one update, answered asynchronously',
    );
    assert.equal(await keysRefused('async-openai'), true);
  });

  test('lists one item a page: the key-holder check still finds a caller on a later page', async () => {
    estate.sim.control.setPaging({ pageSize: 1 });
    try {
      const r = await migrate(plan('paged-bot', 'paged-openai'));
      assert.equal(r.outcome, 'succeeded', r.reason);
      const scan = r.evidence.localAuth.keyHolders;
      assert.ok(scan, 'the evidence holds the key-holder check');
      assert.deepEqual(
        scan.holders.map((h) => h.resourceId.split('/').pop()),
        ['paged-bystander'],
        'the bystander listed after three pages of other apps',
      );
      assert.equal(r.evidence.localAuth.after, false, 'keys stay on for the bystander');
      assert.match(r.evidence.localAuth.skippedBecause ?? '', /paged-bystander/);
      assert.equal(await keysRefused('paged-openai'), false);
      assert.equal(accountUpdates(estate, 'paged-openai').length, 0);
      // Eight apps in the subscription, one a page: the app list was read page after page, to its end.
      const appListPages = estate.sim.control
        .requests()
        .filter(
          (q) => q.surface === 'arm' && q.method === 'GET' && /\/providers\/Microsoft\.Web\/sites$/i.test(q.path),
        );
      assert.ok(appListPages.length >= 8, `the tool followed nextLink (${appListPages.length} pages of apps read)`);
    } finally {
      estate.sim.control.setPaging({ pageSize: 100 });
    }
  });

  test('an AIServices (Foundry) account is migrated like an OpenAI one', async () => {
    const r = await migrate(plan('foundry-bot', 'foundry-hub'));
    assert.equal(r.outcome, 'succeeded', r.reason);
    assert.equal(await keysRefused('foundry-hub'), true);
  });

  test('a CognitiveServices account is refused by preflight, before anything changes', async () => {
    const before = estate.sim.control.requests().length;
    const r = await migrate(plan('vision-bot', 'vision-only'));
    assert.equal(r.outcome, 'preflight-failed');
    const problems = (r.evidence.preflightProblems ?? []) as PreflightProblem[];
    assert.ok(
      problems.some(
        (p) => p.check === 'account' && /of kind CognitiveServices, not an Azure OpenAI account/.test(p.message),
      ),
      JSON.stringify(problems),
    );
    const writes = estate.sim.control
      .requests()
      .slice(before)
      .filter((q) => q.surface === 'arm' && q.method !== 'GET' && !q.path.includes('/listKeys'));
    assert.deepEqual(writes, [], 'no write reached Azure');
  });
});
