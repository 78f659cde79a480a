/**
 * The simulated apps and what they call: the Azure OpenAI data plane (keys, Entra tokens, role propagation,
 * local-auth switch), the managed-identity endpoint used by `DefaultAzureCredential` in the app's child process,
 * the front door, restarts, slot swaps, and the load generator measuring the downtime of a restart.
 * Every change goes through the product's SDK clients; the apps are observed through their front door.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AzureOpenAI } from 'openai';
import { startLoad } from '../../simulator';
import { WAIT_MS } from '../support/wait';
import { RG, SITE, type TestSim, eventually, fetchWithCa, frontDoorOf, httpsJson, startTestSimulator } from './support';

const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';
const PROPAGATION_MS = 1_500;
const HOUR = 3_600_000;

let t: TestSim;
let sub: string;
let accountScope: string;
let accountId: string;

interface Health {
  status: string;
  authMode: string;
  requestId?: string;
  deployment?: string;
  error?: { code: string; message: string };
}

const { get, siteUrl, whenUp } = frontDoorOf(() => t);

before(async () => {
  t = await startTestSimulator();
  sub = t.sim.info.subscriptionId;
  accountId = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
  accountScope = accountId.slice(1);
});
after(() => t.close());

describe('data plane', () => {
  test('chat completions with a key through the openai package; unknown key 401; unknown deployment 404', async () => {
    const keys = await t.clientsAs('cutover-worker').cognitive.accounts.listKeys(RG, 'claims-openai');
    const endpoint = `${t.sim.info.armEndpoint}/aoai/claims-openai/`;
    const fetch = fetchWithCa(t.sim.info.caCert);
    const client = new AzureOpenAI({
      endpoint,
      apiKey: keys.key1!,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
      fetch,
    });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Is my claim covered?' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.match(data.choices[0].message.content ?? '', /Is my claim covered\?/);
    assert.ok(response.headers.get('apim-request-id'));
    const wrong = new AzureOpenAI({
      endpoint,
      apiKey: 'f'.repeat(32),
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
      fetch,
    });
    await assert.rejects(wrong.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }), {
      status: 401,
    });
    const noDeployment = new AzureOpenAI({
      endpoint,
      apiKey: keys.key1!,
      apiVersion: '2024-10-21',
      deployment: 'gpt-5',
      maxRetries: 0,
      fetch,
    });
    await assert.rejects(
      noDeployment.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
      {
        status: 404,
        code: 'DeploymentNotFound',
      },
    );
  });

  test('tokens: wrong audience or missing role are refused; a regional endpoint refuses tokens altogether', async () => {
    const cred = t.credentialOf('cutover-worker');
    const armToken = (await cred.getToken('https://management.azure.com/.default'))!.token;
    const aiToken = (await cred.getToken('https://cognitiveservices.azure.com/.default'))!.token;
    const call = (base: string, token: string) =>
      httpsJson(
        `${t.sim.info.armEndpoint}${base}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`,
        t.sim.info.caCert,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
        },
      );
    const wrongAudience = await call('/aoai/claims-openai', armToken);
    assert.equal(wrongAudience.status, 401);
    // The worker holds Cognitive Services Contributor, a control-plane role with no data actions.
    const noRole = await call('/aoai/claims-openai', aiToken);
    assert.equal(noRole.status, 401);
    assert.deepEqual(noRole.body, {
      error: { code: 'PermissionDenied', message: 'Principal does not have access to API/Operation.' },
    });
    const regional = await call('/aoai-regional/westeurope', aiToken);
    assert.equal(regional.status, 401);
  });

  test('keys answer 403 AuthenticationTypeDisabled only once the local-auth switch has propagated, and back', async () => {
    const { cognitive } = t.clientsAs('cutover-worker');
    const { key1 } = await cognitive.accounts.listKeys(RG, 'claims-openai');
    const call = () =>
      httpsJson(
        `${t.sim.info.armEndpoint}/aoai/claims-openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`,
        t.sim.info.caCert,
        {
          method: 'POST',
          headers: { 'api-key': key1!, 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
        },
      );
    // The data plane follows the change once it is `localAuthSwitchMs` old, judged when a key request arrives: an
    // hour while the test checks that keys still work, then 800 ms, which must still have passed when they stop.
    t.sim.control.setDelays({ localAuthSwitchMs: HOUR });
    try {
      const changedAt = Date.now();
      await cognitive.accounts.beginUpdateAndWait(RG, 'claims-openai', { properties: { disableLocalAuth: true } });
      assert.equal((await call()).status, 200, 'keys still work right after the change');
      t.sim.control.setDelays({ localAuthSwitchMs: 800 });
      const refused = await eventually(async () => {
        const r = await call();
        return r.status === 403 ? r : undefined;
      });
      assert.ok(Date.now() - changedAt >= 800);
      assert.deepEqual(refused.body, {
        error: {
          code: 'AuthenticationTypeDisabled',
          message: 'Key based authentication is disabled for this resource.',
        },
      });
      // (The switch back starts from what the data plane answers when it is made, so the hour comes after it.)
      const backAt = Date.now();
      await cognitive.accounts.beginUpdateAndWait(RG, 'claims-openai', { properties: { disableLocalAuth: false } });
      t.sim.control.setDelays({ localAuthSwitchMs: HOUR });
      assert.equal((await call()).status, 403, 'the switch back is delayed too');
      t.sim.control.setDelays({ localAuthSwitchMs: 800 });
      await eventually(async () => ((await call()).status === 200 ? true : undefined));
      assert.ok(Date.now() - backAt >= 800);
    } finally {
      t.sim.control.setDelays({ localAuthSwitchMs: 0 });
    }
  });
});

describe('client apps', () => {
  test('key mode works out of the box', async () => {
    const health = await get<Health>(`${siteUrl()}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.authMode, 'key');
    assert.equal(health.body.deployment, 'gpt-4o-mini');
    assert.match(health.body.requestId ?? '', /^[0-9a-f-]{36}$/);
    const chat = await httpsJson(`${siteUrl()}/chat`, t.sim.info.caCert, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'I had a fender bender' }),
    });
    assert.equal(chat.status, 200);
    assert.match((chat.body as { reply: string }).reply, /fender bender/);
  });

  test('identity mode (DefaultAzureCredential in the app process) works once the role has propagated, not before', async () => {
    const { web, authorization } = t.clientsAs('cutover-worker');
    t.sim.control.setDelays({ propagationMs: PROPAGATION_MS });
    try {
      const site = await web.webApps.update(RG, SITE, { identity: { type: 'SystemAssigned' } });
      const principalId = site.identity!.principalId!;
      const settings = await web.webApps.listApplicationSettings(RG, SITE);
      await web.webApps.updateApplicationSettings(RG, SITE, {
        properties: { ...settings.properties, AZURE_OPENAI_AUTH_MODE: 'identity' },
      });
      await whenUp();
      const before = await get<Health>(`${siteUrl()}/health`);
      assert.equal(before.status, 503);
      assert.equal(before.body.authMode, 'identity');
      assert.equal(before.body.error?.code, 'PermissionDenied');

      // Propagation is judged when the app's call arrives: first an hour (the app is surely polled before it), then
      // PROPAGATION_MS, measured from the assignment's own creation time.
      t.sim.control.setDelays({ propagationMs: HOUR });
      const assignment = await authorization.roleAssignments.create(accountScope, randomUUID(), {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`,
        principalId,
        principalType: 'ServicePrincipal',
      });
      const createdOn = Object.values(t.sim.control.state().roleAssignments).find(
        (ra) => ra.name === assignment.name,
      )?.createdOn;
      assert.ok(createdOn, 'the assignment is in the simulator state');
      const samples: { sent: number; at: number; status: number; code?: string }[] = [];
      const sample = async () => {
        const sent = Date.now();
        const r = await get<Health>(`${siteUrl()}/health`);
        samples.push({ sent, at: Date.now(), status: r.status, ...(r.body.error ? { code: r.body.error.code } : {}) });
        return r;
      };
      for (let i = 0; i < 3; i++) await sample();
      t.sim.control.setDelays({ propagationMs: PROPAGATION_MS });
      const ok = await eventually(
        async () => {
          const r = await sample();
          return r.status === 200 ? r.body : undefined;
        },
        WAIT_MS,
        100,
      );
      assert.equal(ok.authMode, 'identity');
      // Answered before the role could have propagated: refused; sent after it surely had: the 200.
      const early = samples.filter((s) => s.at < createdOn + PROPAGATION_MS);
      assert.ok(early.length >= 3, 'polled before propagation');
      assert.ok(
        early.every((s) => s.status === 503 && s.code === 'PermissionDenied'),
        JSON.stringify(early),
      );
      assert.ok(samples.at(-1)!.at >= createdOn + PROPAGATION_MS, 'not before propagation');

      const log = t.sim.control.requests();
      assert.ok(
        log.some((r) => r.surface === 'msi' && r.status === 200 && r.principal === principalId),
        'the app got its token from the MSI endpoint',
      );
      assert.ok(log.some((r) => r.surface === 'dataplane' && r.status === 200 && r.principal === principalId));
      const probe = await get<Health>(`${siteUrl()}/health/identity`);
      assert.equal(probe.status, 200);
      assert.equal(probe.body.authMode, 'identity');
    } finally {
      t.sim.control.setDelays({ propagationMs: 0 });
    }
  });

  test('the load generator records the downtime of a restart', async () => {
    const { web } = t.clientsAs('cutover-worker');
    // The restart lasts until the test ends it, once the front door has answered the load 503 for over 600 ms: the
    // load generator is the only caller meanwhile, so its longest downtime window spans at least those answers.
    t.sim.control.setDelays({ appRestartMs: HOUR });
    try {
      const loadStartedAt = Date.now();
      const load = startLoad({ url: `${siteUrl()}/health`, intervalMs: 50, ca: t.sim.info.caCert });
      const frontDoor = () =>
        t.sim.control
          .requests()
          .filter(
            (r) =>
              r.surface === 'frontdoor' && r.path.includes(`/sites/${SITE}/`) && Date.parse(r.time) >= loadStartedAt,
          );
      await eventually(async () => (frontDoor().some((r) => r.status === 200) ? true : undefined), WAIT_MS);
      await web.webApps.restart(RG, SITE);
      const refused = await eventually(async () => {
        const r = frontDoor().filter((e) => e.status === 503);
        return r.length >= 2 && Date.parse(r.at(-1)!.time) - Date.parse(r[0].time) >= 600 ? r : undefined;
      }, WAIT_MS);
      const refusedFor = Date.parse(refused.at(-1)!.time) - Date.parse(refused[0].time);
      t.sim.control.setDelays({ appRestartMs: 0 });
      assert.ok(t.sim.control.endWaits() >= 1, 'the app was still restarting');
      const servedAgain = frontDoor().length;
      await eventually(
        async () =>
          frontDoor()
            .slice(servedAgain)
            .some((r) => r.status === 200)
            ? true
            : undefined,
        WAIT_MS,
      );
      await whenUp();
      const report = await load.stop();
      assert.ok(report.failed > 0, 'the restart was visible');
      assert.equal(report.total, report.ok + report.failed);
      // 503 while the worker restarts; 502 for a request the old worker was serving when it stopped.
      assert.ok(
        report.failures.every((f) => f.status === 503 || f.status === 502),
        JSON.stringify(report.failures.slice(0, 3)),
      );
      assert.ok(report.downtime.longestMs >= refusedFor, `downtime ${report.downtime.longestMs} ms`);
      assert.ok(report.downtime.longestMs <= Date.now() - loadStartedAt);
      assert.ok(report.downtime.totalMs >= report.downtime.longestMs);
    } finally {
      t.sim.control.setDelays({ appRestartMs: 0 });
    }
  });
  test('a user-assigned identity is selected by AZURE_CLIENT_ID', async () => {
    const { web, authorization } = t.clientsAs('cutover-worker');
    const uamiId = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-claims-bot`;
    const slot = await web.webApps.updateSlot(RG, SITE, 'staging', {
      identity: { type: 'UserAssigned', userAssignedIdentities: { [uamiId]: {} } },
    });
    const { principalId, clientId } = slot.identity!.userAssignedIdentities![uamiId];
    const probeBefore = await get<Health>(`${siteUrl('staging')}/health/identity`);
    assert.equal(probeBefore.status, 503, 'no system identity on staging and no client id yet');
    await authorization.roleAssignments.create(accountScope, randomUUID(), {
      roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`,
      principalId: principalId!,
      principalType: 'ServicePrincipal',
    });
    const settings = await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging');
    await web.webApps.updateApplicationSettingsSlot(RG, SITE, 'staging', {
      properties: { ...settings.properties, AZURE_OPENAI_AUTH_MODE: 'identity', AZURE_CLIENT_ID: clientId! },
    });
    await whenUp('staging');
    const health = await get<Health>(`${siteUrl('staging')}/health`);
    assert.equal(health.status, 200, JSON.stringify(health.body));
    assert.equal(health.body.authMode, 'identity');
    const msi = t.sim.control.requests().filter((r) => r.surface === 'msi' && r.status === 200);
    assert.equal(msi.at(-1)?.principal, principalId);
  });

  test('code without identity support keeps using the key and fails once the key setting is gone', async () => {
    const { web } = t.clientsAs('cutover-worker');
    const health = await get<Health>(`${siteUrl(undefined, 'legacy-bot')}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.authMode, 'key', 'AZURE_OPENAI_AUTH_MODE=identity is ignored');
    const settings = await web.webApps.listApplicationSettings(RG, 'legacy-bot');
    const { AZURE_OPENAI_API_KEY: _key, ...withoutKey } = settings.properties!;
    await web.webApps.updateApplicationSettings(RG, 'legacy-bot', { properties: withoutKey });
    await whenUp(undefined, 'legacy-bot');
    const broken = await get<Health>(`${siteUrl(undefined, 'legacy-bot')}/health`);
    assert.equal(broken.status, 503);
    assert.equal(broken.body.authMode, 'key');
    assert.equal(broken.body.error?.code, 'ConfigurationMissing');
  });

  test('a slot swap flips which worker answers production', async () => {
    const { web } = t.clientsAs('cutover-worker');
    // Staging runs on a user-assigned identity production does not have: its client id must stay with the slot.
    await web.webApps.updateSlotConfigurationNames(RG, SITE, {
      appSettingNames: ['CLAIMS_ENVIRONMENT', 'AZURE_CLIENT_ID'],
    });
    const prodSettings = await web.webApps.listApplicationSettings(RG, SITE);
    const stagingSettings = await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging');
    await web.webApps.updateApplicationSettings(RG, SITE, {
      properties: { ...prodSettings.properties, APP_VERSION: 'v1' },
    });
    await web.webApps.updateApplicationSettingsSlot(RG, SITE, 'staging', {
      properties: { ...stagingSettings.properties, APP_VERSION: 'v2' },
    });
    const prodBefore = await whenUp();
    const stagingBefore = await whenUp('staging');
    assert.equal(prodBefore.version, 'v1');
    assert.equal(stagingBefore.version, 'v2');
    await web.webApps.swapSlot(RG, SITE, 'staging', { targetSlot: 'production', preserveVnet: true });
    const prodAfter = await whenUp();
    assert.equal(prodAfter.version, 'v2');
    assert.notEqual(prodAfter.instance, prodBefore.instance);
    const stagingAfter = await whenUp('staging');
    assert.equal(stagingAfter.version, 'v1');
    // Identities stay with their slot: production's worker now gets production's system identity.
    const probe = await get<Health>(`${siteUrl()}/health/identity`);
    assert.equal(probe.status, 200, JSON.stringify(probe.body));
    const prodPrincipal = (await web.webApps.get(RG, SITE)).identity?.principalId;
    assert.equal(
      t.sim.control
        .requests()
        .filter((r) => r.surface === 'msi')
        .at(-1)?.principal,
      prodPrincipal,
    );
  });
});
