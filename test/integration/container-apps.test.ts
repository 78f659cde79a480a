/**
 * Azure Container Apps end to end (issue 11, kind 2): the real workflow on the dev server, real activities over the
 * real @azure/arm-appcontainers client, the simulator playing Azure (test/fixtures/scenarios/container-apps.yaml).
 * In place, in single-revision mode: the env change makes a new revision, which replaces the old one. Each final
 * state is compared field by field with the expected after-state (success) or the before-state (rollback): the
 * identity, the secrets (the key's secret stays), the live revision's env, traffic, tags, role assignments, principals
 * and the account's key auth; the revision history is asserted on its own (every write makes a revision).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MigrationPlan } from '../../plan/schema';
import { type LoadReport, startLoad } from '../../simulator';
import { accessAfter, accessFootprint } from '../support/footprint';
import { keyHoldersOf } from '../support/key-holders';
import { httpRequest } from '../../azure/http';
import { type Estate, estatePlan, runMigration, startEstate, SUB } from '../support/estate';
import { WAIT_MS } from '../support/wait';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'container-apps.yaml');
const RG = 'rg-aca';

function plan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-ACA-${app}`,
    target: { kind: 'container-app', resourceGroup: RG, name: app },
    ...overrides,
  });
}

/** The parts of the estate a container app migration may change. */
function footprint(estate: Estate, accountName: string) {
  const s = estate.sim.control.state();
  const apps = Object.values(s.containerApps ?? {})
    .map((app) => {
      const live = Object.values(app.revisions).filter((r) => r.active);
      return {
        name: app.name,
        systemPrincipalId: app.systemPrincipalId ?? null,
        userAssigned: app.userAssigned.map((u) => u.toLowerCase()).sort(),
        secrets: [...app.secrets].sort((a, b) => a.name.localeCompare(b.name)),
        mode: app.configuration.activeRevisionsMode,
        traffic: app.configuration.ingress?.traffic,
        tags: app.tags,
        image: app.template.containers[0].image,
        // The order of env vars means nothing to a container: compared by name.
        liveEnv: live.map((r) =>
          Object.fromEntries(
            (r.template.containers[0].env ?? [])
              .map(
                (v) => [v.name, v.secretRef !== undefined ? { secretRef: v.secretRef } : { value: v.value }] as const,
              )
              .sort(([a], [b]) => a.localeCompare(b)),
          ),
        ),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return { apps, ...accessFootprint(s, accountName) };
}

type Footprint = ReturnType<typeof footprint>;

function appOf(fp: Footprint, name: string) {
  const app = fp.apps.find((a) => a.name === name);
  assert.ok(app, `${name} in the footprint`);
  return app;
}

/**
 * What a successful system-assigned migration of `name` leaves: a system identity (the principal Azure chose), one
 * role assignment for it on the account, the live env without the key's env var and with the identity mode, key
 * auth off; the secret that held the key and everything else as it was.
 */
function expectedAfter(beforeState: Footprint, actual: Footprint, name: string, account: string): Footprint {
  const expected = structuredClone(beforeState);
  const app = appOf(expected, name);
  const principal = appOf(actual, name).systemPrincipalId;
  assert.ok(principal, `${name} has a system-assigned identity`);
  assert.equal(app.systemPrincipalId, null, `${name} had none before`);
  app.systemPrincipalId = principal;
  app.liveEnv = app.liveEnv.map(({ AZURE_OPENAI_API_KEY: _key, ...rest }) =>
    Object.fromEntries(
      Object.entries({ ...rest, AZURE_OPENAI_AUTH_MODE: { value: 'identity' } }).sort(([a], [b]) => a.localeCompare(b)),
    ),
  );
  return { ...expected, ...accessAfter(beforeState, actual, principal, RG, account) };
}

/** Revision names of an app, oldest first, with whether each is active. */
async function revisions(estate: Estate, name: string): Promise<{ name: string; active: boolean }[]> {
  const out: { name: string; active: boolean }[] = [];
  for await (const r of estate.azure.containerApps.containerAppsRevisions.listRevisions(RG, name))
    out.push({ name: r.name!, active: r.active! });
  return out;
}

/** `GET /health` on the app's FQDN until it says which auth mode it runs. */
async function health(estate: Estate, name: string) {
  const app = await estate.azure.containerApps.containerApps.get(RG, name);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await httpRequest(`https://${app.configuration!.ingress!.fqdn!}/health`, {
      timeoutMs: 30_000,
      ca: estate.sim.info.caCert,
    });
    const body = res.json<{ authMode?: string }>() ?? {};
    if (body.authMode || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const keyHolders = (estate: Estate, account: string) => keyHoldersOf(estate, RG, account);

describe('Azure Container Apps migrations against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('container-apps', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  const run = (name: string, p: MigrationPlan) => runMigration(estate, name, p);

  test('in place (single-revision mode): a new revision runs on the identity, the old one is deactivated', async () => {
    const beforeState = footprint(estate, 'aca-openai');
    const result = await run('container-app-in-place', plan('claims-aca', 'aca-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'aca-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'claims-aca', 'aca-openai'));
    const history = await revisions(estate, 'claims-aca');
    assert.equal(history.length, 2, JSON.stringify(history));
    assert.deepEqual(history[0], { name: 'claims-aca--v1', active: false });
    assert.equal(history[1].active, true);
    assert.equal((await health(estate, 'claims-aca')).authMode, 'identity');
  });

  test('a failing smoke test rolls the container app back to the exact before-state', async () => {
    const beforeState = footprint(estate, 'rollback-aca-openai');
    const result = await run(
      'container-app-rollback',
      plan('rollback-aca', 'rollback-aca-openai', {
        budgets: { propagationWait: '10m', downtime: '3s', approvalTimeout: '15m', localAuthSwitch: '10m' },
      }),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /smoke test of rollback-aca did not pass/);
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    assert.deepEqual(footprint(estate, 'rollback-aca-openai'), beforeState);
    // The migrated revision and the restored one: only the restored one runs.
    const history = await revisions(estate, 'rollback-aca');
    assert.equal(history.length, 3, JSON.stringify(history));
    assert.deepEqual(
      history.map((r) => r.active),
      [false, false, true],
    );
    assert.equal((await health(estate, 'rollback-aca')).authMode, 'key', 'it works with its key again');
  });

  test('the key-holder check finds container apps holding a key in a secret, by value or through Key Vault', async () => {
    const appId = (name: string) =>
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.App/containerApps/${name}`;
    const byValue = await keyHolders(estate, 'canary-openai');
    assert.equal(byValue.verdict, 'holders');
    assert.deepEqual(byValue.holders, [
      { resourceId: appId('canary-aca'), kind: 'container-app', settingNames: ['AZURE_OPENAI_API_KEY'] },
    ]);
    const throughVault = await keyHolders(estate, 'kv-aca-openai');
    assert.deepEqual(throughVault.holders, [
      {
        resourceId: appId('kv-aca'),
        kind: 'container-app',
        settingNames: ['AZURE_OPENAI_API_KEY'],
        references: [{ setting: 'AZURE_OPENAI_API_KEY', vault: 'kv-aca', secret: 'aca-openai-key' }],
      },
    ]);
  });

  test('brownfield: a user-assigned identity, another secret, env vars and tags of its own survive', async () => {
    const beforeState = footprint(estate, 'brown-aca-openai');
    const brown = appOf(beforeState, 'brown-aca');
    assert.equal(brown.userAssigned.length, 1);
    const result = await run('container-app-brownfield', plan('brown-aca', 'brown-aca-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'brown-aca-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'brown-aca', 'brown-aca-openai'));
    assert.equal((await health(estate, 'brown-aca')).authMode, 'identity');
  });

  test('in place under load: the new revision takes the traffic once it runs, no request fails', async () => {
    const app = await estate.azure.containerApps.containerApps.get(RG, 'load-aca');
    const load = startLoad({
      url: `https://${app.configuration!.ingress!.fqdn!}/health`,
      intervalMs: 50,
      ca: estate.sim.info.caCert,
    });
    let report: LoadReport | undefined;
    try {
      const result = await run('container-app-in-place-load', plan('load-aca', 'load-aca-openai'));
      assert.equal(result.outcome, 'succeeded', result.reason);
    } finally {
      report = await load.stop();
    }
    assert.ok(report.total > 20, `the load ran throughout (${report.total} requests)`);
    assert.equal(report.failed, 0, JSON.stringify(report.failures.slice(0, 5)));
    assert.equal((await health(estate, 'load-aca')).authMode, 'identity');
  });
});
