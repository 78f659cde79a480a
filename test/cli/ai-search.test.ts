/**
 * The CLI on AI Search services, as a user runs it (a subprocess against the simulator's AI Search estate,
 * test/fixtures/scenarios/ai-search.yaml): `plan show` of a `target.kind: ai-search` plan in AI Search's words,
 * changing nothing (neither on ARM nor on the search data plane); preflight refusing, before anything changes, a
 * plan that cannot say which key to restore, one that removes another account's key and one that asks for an
 * identity probe; and `inventory` naming the search service whose skill and vectorizer hold the key.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { InventoryResult } from '../../cli/commands/inventory';
import type { PlanReport } from '../../cli/commands/plan';
import { armChangesSince, assertUserError, cliEstate, showPassingPlan } from '../support/cli';
import { type Estate, estatePlanFields, SUB, TEST_PLAN_TIMING } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'ai-search.yaml');
const RG = 'rg-search';

const searchPlan = (service: string, account: string, target: Record<string, unknown> = {}, remove?: string[]) =>
  estatePlanFields(service, account, {
    changeTicket: `CHG-CLI-${service}`,
    target: { kind: 'ai-search', resourceGroup: RG, name: service, accountKey: 'key1', ...target },
    account: { name: account, deployment: 'text-embedding-3-small' },
    settings: {
      remove: remove ?? [`skillset:${service}-skills:embed:apiKey`, `index:${service}-index:aoai:apiKey`],
      set: {},
    },
    smokeTest: { ...TEST_PLAN_TIMING.smokeTest, path: '/health', identityProbePath: 'none' },
  });

/** Writes to the search data plane (PUT, POST, DELETE) since request `from`. */
const searchWritesSince = (estate: Estate, from: number) =>
  estate.sim.control
    .requests()
    .slice(from)
    .filter((r) => r.surface === 'search' && r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);

describe('cutover on AI Search services', () => {
  const env = cliEstate('cli-ai-search', 'ai-search', SCENARIO);

  test('plan show of an ai-search plan describes each stage in AI Search’s words and changes nothing', async () => {
    const from = env.estate.sim.control.requests().length;
    const { file, stdout } = await showPassingPlan(env, 'kh-search', searchPlan('kh-search', 'kh-openai'));
    assert.match(stdout, new RegExp(`Workflow id: cutover/ai-search/${SUB}/${RG}/kh-search`));
    assert.match(
      stdout,
      /Identity: enable the system-assigned identity on search service kh-search \(now the service: UserAssigned\)/,
    );
    assert.match(
      stdout,
      /Settings: remove skillset:kh-search-skills:embed:apiKey, index:kh-search-index:aoai:apiKey on search service/,
    );
    assert.match(stdout, /skillset:kh-search-skills:embed:apiKey\s+account key \(key1\) → removed/);
    assert.doesNotMatch(stdout, /revision/, 'a search service has no revisions');
    assert.match(stdout, /each changed skillset and index is written back \(no restart\)/);
    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    assert.equal(report.valid, true);
    assert.equal(report.plan?.target.kind, 'ai-search');
    assert.deepEqual(armChangesSince(env.estate, from), []);
    assert.deepEqual(searchWritesSince(env.estate, from), []);
  });

  test('plan show refuses, before anything changes, what a search service cannot do', async () => {
    const fields = searchPlan('kh-search', 'kh-openai', { accountKey: undefined }, [
      'skillset:kh-search-skills:embed:apiKey',
      'index:kh-search-index:other:apiKey',
    ]);
    (fields.smokeTest as Record<string, unknown>).identityProbePath = '/probe';
    const file = env.cli.writePlan('kh-search-bad', fields);
    const from = env.estate.sim.control.requests().length;
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(text.stdout, /a search service has no identity probe at \/probe: its probe is \/health\/identity/);
    assert.match(text.stdout, /cannot tell which key of kh-openai to put back on rollback — give target\.accountKey/);
    assert.match(text.stdout, /has no setting index:kh-search-index:other:apiKey to remove/);
    assert.deepEqual(armChangesSince(env.estate, from), []);
    assert.deepEqual(searchWritesSince(env.estate, from), []);
  });

  test('plan show refuses removing the key of a caller of another account', async () => {
    const file = env.cli.writePlan(
      'brown-other-key',
      searchPlan('brown-search', 'brown-search-openai', {}, ['skillset:brown-search-skills:embedOther:apiKey']),
    );
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(
      text.stdout,
      /skillset:brown-search-skills:embedOther:apiKey is the key of \S+other-openai\/?, not of brown-search-openai/,
    );
  });

  test('inventory finds the search service whose skill and vectorizer hold the key, with its kind', async () => {
    const args = ['inventory', '--account', 'kh-openai', '--resource-group', RG, '--subscription', SUB];
    const inv = await env.cli.json<InventoryResult>(...args);
    assert.deepEqual(
      inv.keyCallers.map((c) => [c.siteResourceId.split('/').pop(), c.kind, c.settingNames]),
      [['kh-search', 'ai-search', ['skillset:kh-search-skills:embed:apiKey', 'index:kh-search-index:aoai:apiKey']]],
    );
    const text = await env.cli.run(...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^\s*ai-search\s+\S+\/searchServices\/kh-search\s+skillset:kh-search-skills:embed:apiKey/m,
    );
  });
});
