/**
 * Key auth is a switch of the account: the callers a key switch breaks are the ones nobody listed. Each story has a
 * bystander the migration does not know about — in another subscription, holding the key through a Key Vault
 * reference (both App Service syntaxes), behind a reference the worker cannot read, in a subscription it cannot
 * read whole — and asserts that after the migration the bystander still answers with its key, or that the
 * migration refused to switch keys and said why. The stories share one estate and one worker and run side by side.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as path from 'node:path';
import type { MigrationPlan } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationResult } from '../../contracts/model';
import { createAzureClients } from '../../azure/clients';
import { appHealth, type Estate, estatePlan, startEstate } from '../support/estate';
import { armWrites, reportSummary, waitForProgress } from './support';

const SCENARIOS = path.join(__dirname, '..', 'fixtures', 'scenarios');
const SUB_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const SUB_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const SUB_C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

function plan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-KH-${app}`,
    target: { kind: 'app-service', resourceGroup: 'rg-kh', name: app },
    ...overrides,
  });
}

/** A bystander's health through the front door, once it answers (a recycling app answers 503 for a moment). */
const health = appHealth;

const stories: string[] = [];
const broken: string[] = [];

async function assertStillOnKey(estate: Estate, rg: string, name: string) {
  const h = await health(estate, rg, name);
  if (h.status !== 200 || h.body.authMode !== 'key') broken.push(`${name}: ${JSON.stringify(h)}`);
  assert.equal(h.status, 200, `${name} still works: ${JSON.stringify(h.body)}`);
  assert.equal(h.body.authMode, 'key');
}

function run(estate: Estate, p: MigrationPlan) {
  return estate.temporal.client.workflow.start(migrateToManagedIdentity, {
    taskQueue: estate.temporal.taskQueue,
    workflowId: `${migrationWorkflowId(p)}/${Date.now()}`,
    args: [{ plan: p, initiatedBy: 'alice' }],
  });
}

describe('the key-holder check finds the callers nobody listed', { concurrency: true }, () => {
  let estate: Estate;
  let release = () => {};
  let worker: Promise<void> | undefined;
  before(async () => {
    estate = await startEstate('key-holders', path.join(SCENARIOS, 'key-holders.yaml'));
    const stop = new Promise<void>((r) => (release = r));
    worker = estate.temporal.withWorker(estate.activities(), () => stop);
  });
  after(async () => {
    release();
    await worker;
    await estate.close();
  });

  test('a caller in another subscription: keys stay on, and it keeps answering with its key', async () => {
    stories.push('other subscription');
    const result: MigrationResult = await (await run(estate, plan('xsub-bot', 'xsub-openai'))).result();
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(result.evidence.localAuth.after, false);
    assert.match(result.evidence.localAuth.skippedBecause ?? '', new RegExp(`xsub-bystander in subscription ${SUB_B}`));
    const scanned = result.evidence.localAuth.keyHolders?.scopes
      .filter((s) => s.status === 'scanned')
      .map((s) => s.scope);
    assert.deepEqual(
      scanned?.sort(),
      [`/subscriptions/${SUB_A}`, `/subscriptions/${SUB_B}`],
      'both subscriptions scanned',
    );
    const account = await estate.azure.cognitive.accounts.get('rg-kh', 'xsub-openai');
    assert.equal(account.properties?.disableLocalAuth, false);
    await assertStillOnKey(estate, 'rg-partners', 'xsub-bystander');
    assert.equal((await health(estate, 'rg-kh', 'xsub-bot')).body.authMode, 'identity');
  });

  test('Key Vault references (both syntaxes) hold the key: the switch waits for them, then goes ahead', async () => {
    stories.push('Key Vault references');
    const handle = await run(
      estate,
      plan('kv-bot', 'kv-openai', { localAuth: { ifOtherCallers: 'wait', recheckInterval: '1s' } }),
    );
    const waiting = await waitForProgress(handle, (p) => /kv-name-bystander/.test(p.waitingFor ?? ''));
    assert.match(waiting.waitingFor ?? '', /kv-uri-bystander \(AZURE_OPENAI_API_KEY through Key Vault\)/);
    assert.match(waiting.waitingFor ?? '', /kv-name-bystander \(AZURE_OPENAI_API_KEY through Key Vault\)/);
    assert.deepEqual(
      waiting.keyHolders?.holders.flatMap((h) => h.references ?? []).map((r) => `${r.setting}→${r.secret}`),
      ['AZURE_OPENAI_API_KEY→kv-openai-key', 'AZURE_OPENAI_API_KEY→kv-openai-key'],
    );
    await assertStillOnKey(estate, 'rg-kh', 'kv-uri-bystander');
    await assertStillOnKey(estate, 'rg-kh', 'kv-name-bystander');
    const account = await estate.azure.cognitive.accounts.get('rg-kh', 'kv-openai');
    assert.equal(account.properties?.disableLocalAuth, false, 'nothing switched while they hold the key');
    // Their owners retire the references (through the SDK, as they would).
    const { web } = createAzureClients(estate.credential, SUB_A, estate.endpoints);
    for (const name of ['kv-uri-bystander', 'kv-name-bystander']) {
      const settings = (await web.webApps.listApplicationSettings('rg-kh', name)).properties!;
      delete settings.AZURE_OPENAI_API_KEY;
      await web.webApps.updateApplicationSettings('rg-kh', name, { properties: settings });
    }
    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(result.evidence.localAuth.after, true);
    assert.equal(result.evidence.localAuth.keyHolders?.verdict, 'clear');
  });

  test('a reference the worker cannot read is unverifiable: with fail, preflight stops before any change', async () => {
    stories.push('unreadable Key Vault reference');
    const result = await (
      await run(estate, plan('locked-bot', 'locked-openai', { localAuth: { ifOtherCallers: 'fail' } }))
    ).result();
    assert.equal(result.outcome, 'preflight-failed');
    const problem = result.evidence.preflightProblems?.find((p) => p.check === 'key-holders');
    assert.ok(problem, JSON.stringify(result.evidence.preflightProblems));
    assert.match(problem.message, /cannot prove nobody else holds the key: locked-bystander/);
    assert.match(problem.message, /kv-locked.*may not read it/);
    const writes = armWrites(estate.sim).filter((r) => /locked-(bot|openai|bystander)/.test(r.path));
    assert.deepEqual(writes, [], 'nothing was written');
    await assertStillOnKey(estate, 'rg-kh', 'locked-bystander');
  });
});

describe('a subscription the worker cannot read whole makes the check inconclusive', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('key-holders-unreadable', path.join(SCENARIOS, 'key-holders-unreadable.yaml'));
  });
  after(async () => {
    reportSummary('key holders', `${stories.length + 1} stories, ${broken.length} bystanders broken`, {
      file: 'test/reliability/key-holders.test.ts',
      scenario: [...stories, 'unreadable subscription'].join(', '),
      lost: broken,
    });
    await estate.close();
  });

  test('keys stay on, the evidence names the scope it could not read, and the hidden caller keeps working', async () => {
    const result = await estate.temporal.withWorker(estate.activities(), async () =>
      (await run(estate, plan('scope-bot', 'scope-openai'))).result(),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    const scan = result.evidence.localAuth.keyHolders;
    assert.equal(scan?.verdict, 'inconclusive');
    const unreadable = scan?.scopes.find((s) => s.status === 'unreadable');
    assert.equal(unreadable?.scope, `/subscriptions/${SUB_C}`);
    assert.match(unreadable?.reason ?? '', /403/);
    assert.match(
      result.evidence.localAuth.skippedBecause ?? '',
      new RegExp(`/subscriptions/${SUB_C} could not be read`),
    );
    assert.equal(
      (await estate.azure.cognitive.accounts.get('rg-kh', 'scope-openai')).properties?.disableLocalAuth,
      false,
    );
    const hidden = await health(estate, 'rg-hidden', 'hidden-bystander');
    assert.equal(hidden.status, 200);
    assert.equal(hidden.body.authMode, 'key');
  });
});
