/**
 * The CLI on Machine Learning workspace connections, as a user runs it (a subprocess against the simulator's
 * estate, test/fixtures/scenarios/ml-connections.yaml): `plan show` of a `target.kind: ml-connection` plan, changing
 * nothing; a plan with no endpoint to smoke-test through the connection refused before anything changes; and
 * `inventory` naming the connections that hold the key.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { InventoryResult } from '../../cli/commands/inventory';
import type { PlanReport } from '../../cli/commands/plan';
import { armChangesSince, assertUserError, cliEstate, showPassingPlan } from '../support/cli';
import { TEST_PLAN_TIMING, estatePlanFields, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'ml-connections.yaml');
const RG = 'rg-ml';

describe('cutover on Machine Learning workspace connections', () => {
  const env = cliEstate('cli-ml-connections', 'ml-connections', SCENARIO);
  const connectionPlan = (target: string, account: string, baseUrl?: string) =>
    estatePlanFields(target.split('/')[0], account, {
      changeTicket: `CHG-CLI-${target.replace('/', '-')}`,
      target: { kind: 'ml-connection', resourceGroup: RG, name: target },
      settings: { remove: ['credentials.key'], set: { authType: 'AAD' } },
      smokeTest: { ...TEST_PLAN_TIMING.smokeTest, ...(baseUrl ? { baseUrl } : {}) },
    });

  test('plan show of an ml-connection plan names the connection and the workspace identity, and changes nothing', async () => {
    const from = env.estate.sim.control.requests().length;
    const baseUrl = `${env.estate.sim.info.armEndpoint}/mlworkspaces/ws-claims/connections/aoai/deployments/gpt-4o-mini`;
    const { file, stdout } = await showPassingPlan(
      env,
      'ws-claims',
      connectionPlan('ws-claims/aoai', 'ml-openai', baseUrl),
    );
    assert.match(stdout, new RegExp(`Workflow id: cutover/ml-connection/${SUB}/${RG}/ws-claims/aoai`));
    assert.match(
      stdout,
      /^ {2}1\. Identity: enable the system-assigned identity on connection ws-claims\/aoai \(now the workspace: None\)/m,
    );
    assert.match(
      stdout,
      /^ {2}4\. Settings: remove credentials\.key; set authType=AAD on connection ws-claims\/aoai in place/m,
    );
    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    assert.equal(report.valid, true);
    assert.equal(report.plan?.target.kind, 'ml-connection');
    const connection = report.diff?.find((d) => d.resource === 'connection ws-claims/aoai');
    assert.ok(connection, JSON.stringify(report.diff?.map((d) => d.resource)));
    assert.deepEqual(
      connection.changes.find((c) => c.what === 'credentials.key'),
      { what: 'credentials.key', before: 'account key (key1)', after: 'removed' },
      'the key is named as which account key it is, never shown',
    );
    const keys = await env.estate.azure.cognitive.accounts.listKeys(RG, 'ml-openai');
    for (const k of [keys.key1!, keys.key2!]) assert.ok(!JSON.stringify(report).includes(k) && !stdout.includes(k));
    assert.deepEqual(armChangesSince(env.estate, from), []);
  });

  test('plan show without an endpoint that calls through the connection: a hosting problem, nothing changed', async () => {
    const file = env.cli.writePlan('ml-no-base-url', connectionPlan('ws-claims/aoai', 'ml-openai'));
    const from = env.estate.sim.control.requests().length;
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(
      text.stdout,
      /✗ \[hosting\] connection ws-claims\/aoai answers no requests of its own: the smoke test needs an endpoint that calls through it — set smokeTest\.baseUrl/,
    );
    assert.deepEqual(armChangesSince(env.estate, from), []);
  });

  test('plan show of a connection that does not exist, or with the default App Service settings: refused, nothing changed', async () => {
    const baseUrl = `${env.estate.sim.info.armEndpoint}/mlworkspaces/ws-claims/connections/aoai/deployments/gpt-4o-mini`;
    const missing = env.cli.writePlan('ml-missing', connectionPlan('ws-claims/missing', 'ml-openai', baseUrl));
    const defaults = estatePlanFields('ws-claims', 'ml-openai', {
      changeTicket: 'CHG-CLI-ml-defaults',
      target: { kind: 'ml-connection', resourceGroup: RG, name: 'ws-claims/aoai' },
      smokeTest: { ...TEST_PLAN_TIMING.smokeTest, baseUrl },
    });
    const from = env.estate.sim.control.requests().length;
    const gone = await env.cli.run('plan', 'show', missing);
    assertUserError(gone, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(gone.stdout, /✗ \[app\] reading app ws-claims\/missing: 404 UserError — check the name/);
    const wrong = await env.cli.run('plan', 'show', env.cli.writePlan('ml-defaults', defaults));
    assertUserError(wrong, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(wrong.stdout, /✗ \[settings\] .*AZURE_OPENAI_API_KEY/);
    assert.deepEqual(armChangesSince(env.estate, from), []);
  });

  test('inventory finds the connections holding the key, with their kind', async () => {
    const args = ['inventory', '--account', 'holder-ml-openai', '--resource-group', RG, '--subscription', SUB];
    const inv = await env.cli.json<InventoryResult>(...args);
    assert.deepEqual(
      inv.keyCallers.map((c) => [c.siteResourceId.split('/workspaces/').pop(), c.kind]),
      [['ws-holder/connections/aoai-holder', 'ml-connection']],
    );
    const text = await env.cli.run(...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^\s*ml-connection\s+\S+\/workspaces\/ws-holder\/connections\/aoai-holder\s+credentials\.key\s*$/m,
    );
  });
});
