/**
 * The CLI on container apps, as a user runs it (a subprocess against the simulator's Container Apps estate,
 * test/fixtures/scenarios/container-apps.yaml): `plan show` of a `target.kind: container-app` plan in Container
 * Apps' words (revision, traffic, secret), changing nothing; in place refused on a multiple-revision app whose
 * traffic is pinned; a traffic-shift plan in revisions and traffic steps; and `inventory` naming container apps that hold the key
 * in a secret, by value or through Key Vault.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { InventoryResult } from '../../cli/commands/inventory';
import type { PlanReport } from '../../cli/commands/plan';
import { armChangesSince, assertUserError, cliEstate, showPassingPlan } from '../support/cli';
import { estatePlanFields, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'container-apps.yaml');
const RG = 'rg-aca';

const containerAppPlan = (app: string, account: string) =>
  estatePlanFields(app, account, {
    changeTicket: `CHG-CLI-${app}`,
    target: { kind: 'container-app', resourceGroup: RG, name: app },
  });

describe('cutover on container apps', () => {
  const env = cliEstate('cli-container-apps', 'container-apps', SCENARIO);

  test('plan show of a container-app plan describes each stage in Container Apps’ words and changes nothing', async () => {
    const from = env.estate.sim.control.requests().length;
    const { file, stdout } = await showPassingPlan(env, 'claims-aca', containerAppPlan('claims-aca', 'aca-openai'));
    assert.match(stdout, new RegExp(`Workflow id: cutover/container-app/${SUB}/${RG}/claims-aca`));
    assert.match(
      stdout,
      /^ {2}1\. Identity: enable the system-assigned identity on container app claims-aca \(now the app: None\)/m,
    );
    assert.match(
      stdout,
      /on container app claims-aca in place \(a new revision with the identity env vars takes the traffic once it runs, the old revision is deactivated; the secret holding the key stays until the key switch, then is removed\)/,
    );
    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    assert.equal(report.valid, true);
    assert.equal(report.plan?.target.kind, 'container-app');
    const app = report.diff?.find((d) => d.resource === 'container app claims-aca');
    assert.ok(app, JSON.stringify(report.diff?.map((d) => d.resource)));
    assert.deepEqual(
      app.changes.find((c) => c.what === 'revision'),
      {
        what: 'revision',
        before: 'the live revision, with the key',
        after: 'a new revision of the env vars above, taking the traffic once it runs; the old one deactivated',
      },
    );
    assert.deepEqual(armChangesSince(env.estate, from), []);
  });

  test('plan show in place on a multiple-revision app whose traffic is pinned: a hosting problem, nothing changed', async () => {
    await env.estate.azure.containerApps.containerApps.beginUpdateAndWait(
      RG,
      'canary-aca',
      {
        location: 'eastus',
        configuration: { ingress: { traffic: [{ revisionName: 'canary-aca--blue', weight: 100 }] } },
      },
      { updateIntervalInMs: 50 },
    );
    const file = env.cli.writePlan('canary-pinned', containerAppPlan('canary-aca', 'canary-openai'));
    const from = env.estate.sim.control.requests().length;
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(
      text.stdout,
      /✗ \[hosting\] container app canary-aca is in multiple-revision mode with traffic pinned to revisions \(canary-aca--blue 100 %\): in place, its new revision would get no traffic — send all traffic to the latest revision/,
    );
    assert.deepEqual(armChangesSince(env.estate, from), []);
  });

  test('plan show of a traffic shift (multiple-revision app) speaks of revisions, traffic steps and the secret', async () => {
    const fields = {
      ...containerAppPlan('canary-aca', 'canary-openai'),
      strategy: { type: 'traffic-shift', steps: [10, 100] },
    };
    const { file, stdout } = await showPassingPlan(env, 'canary-shift', fields);
    assert.match(
      stdout,
      /in a new revision of container app canary-aca at 0 % traffic, smoke-test \/health on the revision's own FQDN, then shift traffic to it in steps of 10 %, 100 % with a smoke test at each/,
    );
    assert.match(
      stdout,
      /then deactivate the old revision\(s\) and remove the secret that held the key \(a rollback restores it/,
    );
    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    const app = report.diff?.find((d) => d.resource === 'container app canary-aca');
    assert.deepEqual(
      app?.changes.filter((c) => ['revision', 'traffic', 'secret'].includes(c.what)).map((c) => c.what),
      ['revision', 'traffic', 'secret'],
    );
    assert.match(app.changes.find((c) => c.what === 'traffic')!.after, /^the new revision at 10 %, 100 %/);
  });

  test('inventory finds container apps holding the key in a secret, with their kind', async () => {
    for (const [account, app] of [
      ['canary-openai', 'canary-aca'],
      ['kv-aca-openai', 'kv-aca'],
    ]) {
      const args = ['inventory', '--account', account, '--resource-group', RG, '--subscription', SUB];
      const inv = await env.cli.json<InventoryResult>(...args);
      assert.deepEqual(
        inv.keyCallers.map((c) => [c.siteResourceId.split('/providers/Microsoft.App/containerApps/').pop(), c.kind]),
        [[app, 'container-app']],
      );
      const text = await env.cli.run(...args);
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`^\\s*container-app\\s+\\S+/containerApps/${app}\\s+AZURE_OPENAI_API_KEY\\s*$`, 'm'),
      );
    }
  });
});
