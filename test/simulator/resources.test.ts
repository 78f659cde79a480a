/**
 * The resources as Azure answers them, through the real SDK clients (and the SDK pipeline for the roots the SDK
 * models drop): sites of several kinds with App Service's property roots, `siteConfig` null on GET site but filled
 * by `GET …/config/web`, `slotSwapStatus` after a swap, `PatchResourceNotFound`; accounts of the three kinds with
 * the properties Azure always fills, their endpoints and what their data plane serves; and the window in which the
 * data plane answers keys both ways after a local-auth switch.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { AzureOpenAI } from 'openai';
import { KINDS_AND_LISTS, RG, failure, fetchWithCa, simulatorForFile } from './support';

const sim = simulatorForFile({ scenario: KINDS_AND_LISTS });

async function rawGet(urlPath: string) {
  const res = await sim.t
    .clientsAs('owner')
    .cognitive.sendRequest(createPipelineRequest({ url: `${sim.t.sim.info.armEndpoint}${urlPath}` }));
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(res.bodyAsText ?? 'null') as { kind: string; properties: Record<string, unknown> },
  };
}
const sitePath = (name: string, rg = RG) =>
  `/subscriptions/${sim.sub}/resourceGroups/${rg}/providers/Microsoft.Web/sites/${name}?api-version=2025-05-01`;

describe('sites', () => {
  test('kind, App Service roots and keyVaultReferenceIdentity, per kind', async () => {
    const { web } = sim.t.clientsAs('owner');
    const bot = await web.webApps.get(RG, 'lists-bot');
    assert.equal(bot.kind, 'app,linux');
    assert.equal(bot.reserved, true);
    assert.equal(bot.keyVaultReferenceIdentity, 'SystemAssigned');
    assert.equal(bot.publicNetworkAccess, 'Enabled');
    assert.equal((await web.webApps.get(RG, 'lists-func')).kind, 'functionapp,linux');
    const win = await web.webApps.get('rg-other', 'lists-win');
    assert.equal(win.kind, 'app');
    assert.equal(win.reserved, false);
    const raw = await rawGet(sitePath('lists-bot'));
    const p = raw.body.properties;
    assert.equal(p.webSpace, 'rg-claims-westeuropewebspace-Linux');
    assert.match(String(p.selfLink), /\/webspaces\/rg-claims-westeuropewebspace-Linux\/sites\/lists-bot$/);
    assert.equal(p.inboundIpAddress, '127.0.0.1');
    assert.equal(typeof p.outboundIpAddresses, 'string');
    assert.equal(p.targetSwapSlot, null);
    assert.equal(p.slotSwapStatus, null);
    assert.ok(Object.keys(p).length >= 100, `${Object.keys(p).length} property roots`);
    const slot = await rawGet(sitePath('lists-bot').replace('?', '/slots/canary?'));
    assert.equal(slot.body.properties.name, 'lists-bot(canary)');
    assert.equal(slot.body.kind, 'app,linux');
  });

  test('GET site answers siteConfig mostly null; config/web answers the values, for sites and slots', async () => {
    const { web } = sim.t.clientsAs('owner');
    const site = await web.webApps.get(RG, 'lists-bot');
    assert.equal(site.siteConfig?.alwaysOn, true);
    assert.equal(site.siteConfig?.numberOfWorkers, 1);
    assert.equal(site.siteConfig?.linuxFxVersion, 'NODE|20-lts');
    assert.equal(site.siteConfig?.minTlsVersion, null);
    assert.equal(site.siteConfig?.ftpsState, null);
    assert.equal(site.siteConfig?.defaultDocuments, null);
    const config = await web.webApps.getConfiguration(RG, 'lists-bot');
    assert.equal(config.name, 'web');
    assert.equal(config.type, 'Microsoft.Web/sites/config');
    assert.equal(config.minTlsVersion, '1.2');
    assert.equal(config.ftpsState, 'Disabled');
    assert.equal(config.linuxFxVersion, 'NODE|20-lts');
    assert.ok(config.defaultDocuments?.length);
    const slotConfig = await web.webApps.getConfigurationSlot(RG, 'lists-bot', 'staging');
    assert.equal(slotConfig.type, 'Microsoft.Web/sites/slots/config');
    assert.equal(
      slotConfig.id,
      `/subscriptions/${sim.sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/lists-bot/slots/staging/config/web`,
    );
    const denied = await failure(sim.t.clientsAs('reader').web.webApps.getConfiguration('rg-other', 'lists-win'));
    assert.equal(denied.statusCode, 403);
  });

  test('slotSwapStatus after a swap, on both slots', async () => {
    const { web } = sim.t.clientsAs('owner');
    await web.webApps.swapSlot(RG, 'lists-bot', 'qa', { targetSlot: 'production', preserveVnet: true });
    for (const s of [await web.webApps.get(RG, 'lists-bot'), await web.webApps.getSlot(RG, 'lists-bot', 'qa')]) {
      assert.equal(s.slotSwapStatus?.sourceSlotName, 'qa');
      assert.equal(s.slotSwapStatus?.destinationSlotName, 'production');
      assert.ok(s.slotSwapStatus?.timestampUtc instanceof Date);
    }
  });

  test('a PATCH of a missing site, slot or account is 404 PatchResourceNotFound', async () => {
    const { web, cognitive } = sim.t.clientsAs('owner');
    const site = await failure(web.webApps.update(RG, 'no-such-site', { identity: { type: 'None' } }));
    assert.equal(site.statusCode, 404);
    assert.equal(site.code, 'PatchResourceNotFound');
    const slot = await failure(web.webApps.updateSlot(RG, 'lists-bot', 'nope', { identity: { type: 'None' } }));
    assert.equal(slot.code, 'PatchResourceNotFound');
    const account = await failure(cognitive.accounts.beginUpdateAndWait(RG, 'no-such-account', { tags: {} }));
    assert.equal(account.statusCode, 404);
    assert.equal(account.code, 'PatchResourceNotFound');
    assert.equal((await failure(web.webApps.get(RG, 'no-such-site'))).code, 'ResourceNotFound');
  });
});

describe('accounts', () => {
  test('GET carries what Azure always fills, and the ETag header', async () => {
    const { cognitive } = sim.t.clientsAs('owner');
    let etag: string | undefined;
    const a = await cognitive.accounts.get(RG, 'claims-openai', { onResponse: (r) => (etag = r.headers.get('etag')) });
    assert.equal(a.kind, 'OpenAI');
    assert.equal(a.sku?.name, 'S0');
    assert.equal(a.identity?.type, 'None');
    assert.ok(a.systemData?.createdAt instanceof Date);
    assert.ok(a.etag && a.etag === etag, 'ETag header equals the body etag');
    const p = a.properties!;
    assert.match(p.internalId ?? '', /^[0-9a-f]{32}$/);
    assert.match(p.dateCreated ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(p.isMigrated, false);
    assert.deepEqual(p.privateEndpointConnections, []);
    assert.equal(p.publicNetworkAccess, 'Enabled');
    assert.equal(p.networkAcls?.defaultAction, 'Allow');
    assert.ok(p.capabilities?.some((c) => c.name === 'VirtualNetworks'));
    assert.ok(p.callRateLimit?.rules?.length);
    assert.equal(p.endpoints?.['OpenAI Language Model Instance API'], p.endpoint);
  });

  test('an AIServices account has its own endpoint and the OpenAI one, and serves chat completions on both', async () => {
    const { cognitive } = sim.t.clientsAs('owner');
    const a = await cognitive.accounts.get(RG, 'claims-foundry');
    assert.equal(a.kind, 'AIServices');
    const own = a.properties!.endpoint!;
    const openai = a.properties!.endpoints!['OpenAI Language Model Instance API'];
    assert.equal(own, `${sim.t.sim.info.armEndpoint}/cog/claims-foundry/`);
    assert.equal(openai, `${sim.t.sim.info.armEndpoint}/aoai/claims-foundry/`);
    assert.equal(a.properties!.endpoints!['AI Foundry API'], own);
    const { key1 } = await cognitive.accounts.listKeys(RG, 'claims-foundry');
    for (const endpoint of [own, openai]) {
      const client = new AzureOpenAI({
        endpoint,
        apiKey: key1!,
        apiVersion: '2024-10-21',
        deployment: 'gpt-4o-mini',
        maxRetries: 0,
        fetch: fetchWithCa(sim.t.sim.info.caCert),
      });
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(r.object, 'chat.completion');
    }
  });

  test('a CognitiveServices (multi-service) account has no OpenAI endpoint and serves no chat completions', async () => {
    const { cognitive } = sim.t.clientsAs('owner');
    const a = await cognitive.accounts.get(RG, 'claims-multi');
    assert.equal(a.kind, 'CognitiveServices');
    assert.equal(a.properties!.endpoints!['OpenAI Language Model Instance API'], undefined);
    assert.equal(a.properties!.endpoint, `${sim.t.sim.info.armEndpoint}/cog/claims-multi/`);
    const { key1 } = await cognitive.accounts.listKeys(RG, 'claims-multi');
    for (const prefix of ['cog', 'aoai']) {
      const client = new AzureOpenAI({
        endpoint: `${sim.t.sim.info.armEndpoint}/${prefix}/claims-multi/`,
        apiKey: key1!,
        apiVersion: '2024-10-21',
        deployment: 'gpt-4o-mini',
        maxRetries: 0,
        fetch: fetchWithCa(sim.t.sim.info.caCert),
      });
      const err = await failure(
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      );
      assert.equal((err as { status?: number }).status, 404);
    }
  });
});

describe('data plane consistency window', () => {
  test('after the switch delay, keys get either answer for the window, both ways, then only the new one', async () => {
    const { cognitive } = sim.t.clientsAs('owner');
    const { key1 } = await cognitive.accounts.listKeys(RG, 'claims-openai');
    const client = new AzureOpenAI({
      endpoint: `${sim.t.sim.info.armEndpoint}/aoai/claims-openai/`,
      apiKey: key1!,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
      fetch: fetchWithCa(sim.t.sim.info.caCert),
    });
    const status = async () => {
      try {
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
        return 200;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    const sample = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await status());
      return out;
    };
    // Which phase a key request falls in is decided by the delays at the moment it arrives, so the test moves the
    // phases over the change instead of racing a clock: a switch delay of an hour (before it), then none with a
    // window of an hour (inside it), then neither (after it).
    const HOUR = 3_600_000;
    try {
      for (const [disable, before, after] of [
        [true, 200, 403],
        [false, 403, 200],
      ] as const) {
        // (A change starts from what the data plane answers when it is made, so the delays move after it.)
        await cognitive.accounts.beginUpdateAndWait(RG, 'claims-openai', { properties: { disableLocalAuth: disable } });
        sim.t.sim.control.setDelays({ localAuthSwitchMs: HOUR, localAuthConsistencyWindowMs: HOUR });
        assert.deepEqual(await sample(3), [before, before, before], 'before the switch delay');
        sim.t.sim.control.setDelays({ localAuthSwitchMs: 0 });
        const mixed = await sample(24);
        assert.ok(
          mixed.includes(before) && mixed.includes(after),
          `both answers inside the window: ${mixed.join(',')}`,
        );
        assert.ok(mixed.every((s) => s === before || s === after));
        sim.t.sim.control.setDelays({ localAuthConsistencyWindowMs: 0 });
        assert.deepEqual(await sample(5), [after, after, after, after, after], 'after the window');
      }
    } finally {
      sim.t.sim.control.setDelays({ localAuthSwitchMs: 0, localAuthConsistencyWindowMs: 0 });
    }
  });
});
