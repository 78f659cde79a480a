/**
 * Azure Functions in the simulator (issue 11, kind 1), through the real @azure/arm-appservice client: App Service
 * plans with their SKUs, function apps on them, the slot limits of each SKU, host keys that settings changes and
 * restarts leave alone, and the cold start of consumption plans.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestSim, httpsJson, startTestSimulator } from './support';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'functions.yaml');
const RG = 'rg-functions';

let t: TestSim;
const web = () => t.clientsAs('cutover-worker').web;

before(async () => {
  t = await startTestSimulator({ scenario: SCENARIO });
});
after(() => t.close());

/** Requests `GET /` until it answers 200; returns how long that first 200 took. */
async function firstAnswerMs(name: string): Promise<number> {
  const url = `${t.sim.control.siteUrl(RG, name)}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const started = Date.now();
    const r = await httpsJson(url, t.sim.info.caCert);
    if (r.status === 200) return Date.now() - started;
    assert.equal(r.status, 503, `while restarting: ${JSON.stringify(r.body)}`);
    if (Date.now() > deadline) assert.fail(`${name} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('App Service plans and function apps', () => {
  test('each site names its plan; the plan answers its SKU and tier', async () => {
    const cases = [
      ['claims-func', 'consumption-plan', 'Y1', 'Dynamic'],
      ['flex-func', 'flex-plan', 'FC1', 'FlexConsumption'],
      ['premium-func', 'premium-plan', 'EP1', 'ElasticPremium'],
      ['web-bot', 'web-bot-plan', 'S1', 'Standard'],
    ] as const;
    for (const [site, planName, sku, tier] of cases) {
      const s = await web().webApps.get(RG, site);
      assert.equal(s.serverFarmId?.split('/').pop(), planName, site);
      assert.equal(s.kind, site === 'web-bot' ? 'app,linux' : 'functionapp,linux');
      const farm = await web().appServicePlans.get(RG, planName);
      assert.equal(farm.sku?.name, sku);
      assert.equal(farm.sku?.tier, tier);
    }
    await assert.rejects(web().appServicePlans.get(RG, 'no-such-plan'), (e: { statusCode?: number }) => {
      assert.equal(e.statusCode, 404);
      return true;
    });
  });

  test('slots: Consumption allows one staging slot, Flex Consumption none, Elastic Premium several', async () => {
    const create = (site: string, slot: string) =>
      web().webApps.createOrUpdateSlot(RG, site, slot, { location: 'eastus', kind: 'functionapp,linux' });
    const created = await create('claims-func', 'staging');
    assert.equal(created.name, 'claims-func/staging');
    assert.equal((await web().webApps.getSlot(RG, 'claims-func', 'staging')).kind, 'functionapp,linux');
    for (const [site, tier] of [
      ['claims-func', 'Dynamic'],
      ['flex-func', 'FlexConsumption'],
    ] as const) {
      await assert.rejects(create(site, 'canary'), (e: { statusCode?: number; code?: string; message?: string }) => {
        assert.equal(e.statusCode, 409);
        assert.equal(e.code, 'Conflict');
        assert.equal(
          e.message,
          `Cannot complete the operation because the site will exceed the number of slots allowed for the '${tier}' SKU.`,
        );
        return true;
      });
    }
    const names: string[] = [];
    for await (const s of web().webApps.listSlots(RG, 'flex-func')) names.push(s.name ?? '');
    assert.deepEqual(names, [], 'the refused slot was not created');
    await create('premium-func', 'canary');
    const premium: string[] = [];
    for await (const s of web().webApps.listSlots(RG, 'premium-func')) premium.push(s.name ?? '');
    assert.deepEqual(premium.sort(), ['premium-func/canary', 'premium-func/staging']);
  });

  test('host keys: a function app’s, unchanged by a settings change and a restart; a web app has none', async () => {
    const before = await web().webApps.listHostKeys(RG, 'claims-func');
    assert.match(before.masterKey ?? '', /^[A-Za-z0-9_-]{40,}$/);
    assert.match(before.functionKeys?.default ?? '', /^[A-Za-z0-9_-]{40,}$/);
    assert.notEqual(before.masterKey, before.functionKeys?.default);
    const other = await web().webApps.listHostKeys(RG, 'rollback-func');
    assert.notEqual(other.masterKey, before.masterKey, 'each app has its own');
    const staging = await web().webApps.listHostKeysSlot(RG, 'premium-func', 'staging');
    assert.notEqual(staging.masterKey, (await web().webApps.listHostKeys(RG, 'premium-func')).masterKey);

    const settings = await web().webApps.listApplicationSettings(RG, 'claims-func');
    await web().webApps.updateApplicationSettings(RG, 'claims-func', {
      properties: { ...settings.properties, EXTRA: 'x' },
    });
    await web().webApps.restart(RG, 'claims-func');
    assert.deepEqual(await web().webApps.listHostKeys(RG, 'claims-func'), before);
    assert.ok(t.sim.control.secrets().includes(before.masterKey!), 'host keys count as secrets');

    await assert.rejects(web().webApps.listHostKeys(RG, 'web-bot'), (e: { statusCode?: number }) => {
      assert.equal(e.statusCode, 400);
      return true;
    });
  });

  test('cold start: the first request after a restart waits on Consumption, not on Elastic Premium', async () => {
    const COLD = 1_500;
    t.sim.control.setDelays({ coldStartMs: COLD });
    try {
      await web().webApps.restart(RG, 'claims-func');
      const first = await firstAnswerMs('claims-func');
      assert.ok(first >= COLD, `first request after the restart took ${first} ms, less than the cold start`);
      const second = await firstAnswerMs('claims-func');
      assert.ok(second < COLD, `the second request took ${second} ms: warm workers do not wait`);

      await web().webApps.restart(RG, 'premium-func');
      const premium = await firstAnswerMs('premium-func');
      assert.ok(premium < COLD, `Elastic Premium keeps warm workers, yet its first request took ${premium} ms`);
    } finally {
      t.sim.control.setDelays({ coldStartMs: 0 });
    }
  });
});
