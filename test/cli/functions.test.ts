/**
 * The CLI on function apps, as a user runs it (a subprocess against the simulator's Functions estate,
 * test/fixtures/scenarios/functions.yaml): `plan show` of a `target.kind: function-app` plan in Functions' words,
 * a slot swap on a Flex Consumption plan refused by preflight with nothing changed, and `inventory` naming each key
 * holder's kind.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { InventoryResult } from '../../cli/commands/inventory';
import type { PlanReport } from '../../cli/commands/plan';
import { armChangesSince, assertUserError, cliEstate, showPassingPlan } from '../support/cli';
import { estatePlanFields, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'functions.yaml');
const RG = 'rg-functions';

const functionPlan = (app: string, account: string, overrides: Record<string, unknown> = {}) =>
  estatePlanFields(app, account, {
    changeTicket: `CHG-CLI-${app}`,
    target: { kind: 'function-app', resourceGroup: RG, name: app },
    ...overrides,
  });

describe('cutover on function apps', () => {
  const env = cliEstate('cli-functions', 'functions', SCENARIO);

  test('plan show of a function-app plan describes each stage in Functions’ words and changes nothing', async () => {
    const { file, stdout } = await showPassingPlan(
      env,
      'consumption',
      functionPlan('claims-func', 'consumption-openai'),
    );
    const text = { stdout };
    assert.match(text.stdout, new RegExp(`Workflow id: cutover/function-app/${SUB}/${RG}/claims-func`));
    assert.match(text.stdout, /^ {2}1\. Identity: enable the system-assigned identity on function app claims-func /m);
    assert.match(
      text.stdout,
      /on function app claims-func in place \(the Functions host restarts \(a cold start on a Consumption plan\); its host keys and function keys stay as they are\)/,
    );
    assert.match(text.stdout, /plan consumption-plan \(Y1, Consumption\) starts cold/);

    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    assert.equal(report.valid, true);
    assert.equal(report.plan?.target.kind, 'function-app');
    assert.ok(
      report.diff?.some((d) => d.resource === 'function app claims-func (production)'),
      JSON.stringify(report.diff?.map((d) => d.resource)),
    );
  });

  test('plan show of a slot swap on Flex Consumption: a hosting problem, exit 1, nothing changed', async () => {
    const file = env.cli.writePlan(
      'flex-swap',
      functionPlan('flex-func', 'flex-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } }),
    );
    const from = env.estate.sim.control.requests().length;
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(
      text.stdout,
      /✗ \[hosting\] plan flex-plan \(FC1, Flex Consumption\) has no deployment slots: a slot swap cannot run on it — use strategy in-place/,
    );
    assert.deepEqual(armChangesSince(env.estate, from), []);
  });

  test('plan show of a function-app plan naming a web app tells which kind to give', async () => {
    const file = env.cli.writePlan('wrong-kind', functionPlan('web-bot', 'premium-openai'));
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\)/);
    assert.match(
      text.stdout,
      /✗ \[app\] web-bot is of Azure kind app,linux, not a function app — give target.kind: app-service/,
    );
  });

  test('inventory finds function apps (and their slots) holding the key, with a KIND column', async () => {
    const args = ['inventory', '--account', 'premium-openai', '--resource-group', RG, '--subscription', SUB];
    const inv = await env.cli.json<InventoryResult>(...args);
    assert.deepEqual(
      inv.keyCallers.map((c) => [c.siteResourceId.split('/providers/Microsoft.Web/sites/').pop(), c.kind]).sort(),
      [
        ['premium-func', 'function-app'],
        ['premium-func/slots/staging', 'function-app'],
      ],
    );
    const text = await env.cli.run(...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^\s*KIND\s+APP\s+SETTINGS\s*$/m);
    assert.match(text.stdout, /^\s*function-app\s+\S+\/sites\/premium-func\s+AZURE_OPENAI_API_KEY\s*$/m);
  });
});
