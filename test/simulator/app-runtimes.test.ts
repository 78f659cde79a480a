/**
 * The two app runtimes side by side: every behaviour the front door, the platform and the data plane show of a
 * simulated app is the same whether its workers are child processes (`process`) or handlers inside the simulator
 * (`in-process`) — settings read at worker start, a managed-identity token for the worker's own identity, key calls
 * (from the site's egress address) and identity calls to Azure OpenAI, the restart's 503 window, a slot swap moving
 * the warmed instance into production, Key Vault references resolved at start, and nothing left running after a
 * scenario load or `close()`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { APP_RUNTIMES, type AppRuntime } from '../../simulator/app-runtime';
import { KV_FIXTURE } from './kv-support';
import { FIXTURE, RG, SITE, type TestSim, eventually, frontDoorOf, httpsJson, startTestSimulator } from './support';

const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';
const HOUR = 3_600_000;

interface Health {
  status: string;
  authMode: string;
  error?: { code: string };
}

/** This process's child processes, read from /proc (running `ps` would add one). */
function childPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function runtimeSuite(runtime: AppRuntime): void {
  describe(`${runtime} runtime`, () => {
    let t: TestSim;
    const { get, siteUrl, whenUp } = frontDoorOf(() => t);

    before(async () => {
      t = await startTestSimulator({ appRuntime: runtime });
    });
    after(() => t?.close());

    test('workers run on the runtime chosen; settings are read at worker start', async () => {
      const apps = Object.values(t.sim.control.state().apps);
      assert.ok(apps.length >= 3);
      assert.ok(apps.every((a) => a.runtime === runtime && a.ready));
      assert.ok(apps.every((a) => (runtime === 'process' ? typeof a.pid === 'number' : a.pid === undefined)));
      const { web } = t.clientsAs('cutover-worker');
      const before = await whenUp();
      const settings = await web.webApps.listApplicationSettings(RG, SITE);
      await web.webApps.updateApplicationSettings(RG, SITE, {
        properties: { ...settings.properties, APP_VERSION: 'v7' },
      });
      const after = await eventually(async () => {
        const r = await whenUp();
        return r.version === 'v7' ? r : undefined;
      });
      assert.notEqual(after.instance, before.instance, 'a settings change starts a new worker');
    });

    test("key call from the site's outbound address, then identity: a token for the worker's own identity", async () => {
      const { web, authorization } = t.clientsAs('cutover-worker');
      const sub = t.sim.info.subscriptionId;
      const account = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
      await t.clientsAs('owner').monitor.diagnosticSettings.createOrUpdate(account.slice(1), 'to-log-claims', {
        workspaceId: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.OperationalInsights/workspaces/log-claims`,
        logs: [{ categoryGroup: 'allLogs', enabled: true }],
      });
      const key = await get<Health>(`${siteUrl()}/health`);
      assert.equal(key.status, 200, JSON.stringify(key.body));
      assert.equal(key.body.authMode, 'key');
      // The call rode the worker's egress token: its row shows the site's outbound address.
      const outbound = (await web.webApps.get(RG, SITE)).outboundIpAddresses;
      const row = t.sim.control.logs('log-claims').at(-1);
      assert.equal(row?.CallerIPAddress, outbound);
      const site = await web.webApps.update(RG, SITE, { identity: { type: 'SystemAssigned' } });
      const principalId = site.identity!.principalId!;
      await authorization.roleAssignments.create(account.slice(1), randomUUID(), {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`,
        principalId,
        principalType: 'ServicePrincipal',
      });
      const settings = await web.webApps.listApplicationSettings(RG, SITE);
      await web.webApps.updateApplicationSettings(RG, SITE, {
        properties: { ...settings.properties, AZURE_OPENAI_AUTH_MODE: 'identity' },
      });
      await eventually(async () => ((await whenUp()).authMode === 'identity' ? true : undefined));
      t.sim.control.clearRequests();
      const identity = await get<Health>(`${siteUrl()}/health`);
      assert.equal(identity.status, 200, JSON.stringify(identity.body));
      assert.equal(identity.body.authMode, 'identity');
      const log = t.sim.control.requests();
      assert.ok(log.some((r) => r.surface === 'msi' && r.status === 200 && r.principal === principalId));
      assert.ok(log.some((r) => r.surface === 'dataplane' && r.status === 200 && r.principal === principalId));
      // Staging has no identity: its worker's header gets no token for production's.
      const staging = await get<Health>(`${siteUrl('staging')}/health/identity`);
      assert.equal(staging.status, 503);
    });

    test('a restart answers 503 until the restart time passes, then a new worker answers', async () => {
      const { web } = t.clientsAs('cutover-worker');
      const before = await whenUp(undefined, 'legacy-bot');
      t.sim.control.setDelays({ appRestartMs: HOUR });
      try {
        await web.webApps.restart(RG, 'legacy-bot');
        const during = await get<{ error: { code: string } }>(`${siteUrl(undefined, 'legacy-bot')}/health`);
        assert.equal(during.status, 503);
        assert.equal(during.body.error.code, 'ServiceUnavailable');
        assert.ok(t.sim.control.endWaits() >= 1);
      } finally {
        t.sim.control.setDelays({ appRestartMs: 0 });
      }
      const after = await whenUp(undefined, 'legacy-bot');
      assert.notEqual(after.instance, before.instance);
      assert.equal((await get<Health>(`${siteUrl(undefined, 'legacy-bot')}/health`)).status, 200);
    });

    test('a slot swap moves the warmed instance into production; identities stay with their slot', async () => {
      const { web } = t.clientsAs('cutover-worker');
      const stagingSettings = await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging');
      await web.webApps.updateApplicationSettingsSlot(RG, SITE, 'staging', {
        properties: { ...stagingSettings.properties, APP_VERSION: 'v8', AZURE_OPENAI_AUTH_MODE: 'identity' },
      });
      await eventually(async () => ((await whenUp('staging')).version === 'v8' ? true : undefined));
      const prodBefore = await whenUp();
      await web.webApps.swapSlot(RG, SITE, 'staging', { targetSlot: 'production', preserveVnet: true });
      const prodAfter = await whenUp();
      assert.equal(prodAfter.version, 'v8');
      assert.notEqual(prodAfter.instance, prodBefore.instance);
      assert.equal((await whenUp('staging')).version, 'v7');
      const prodKey = Object.keys(t.sim.control.state().apps).find((k) => k.endsWith(`/${SITE}|production`));
      assert.equal(t.sim.control.state().apps[prodKey!].instanceId, prodAfter.instance);
      t.sim.control.clearRequests();
      const probe = await get<Health>(`${siteUrl()}/health/identity`);
      assert.equal(probe.status, 200, JSON.stringify(probe.body));
      const prodPrincipal = (await web.webApps.get(RG, SITE)).identity?.principalId;
      const msi = t.sim.control.requests().filter((r) => r.surface === 'msi');
      assert.equal(msi.at(-1)?.principal, prodPrincipal);
    });
  });

  describe(`${runtime} runtime: Key Vault references and close`, () => {
    test('a reference resolves at worker start; a scenario load stops the old workers, close every one', async () => {
      const before = childPids();
      const t = await startTestSimulator({ scenario: KV_FIXTURE, appRuntime: runtime });
      let closed = false;
      try {
        const started = childPids().filter((p) => !before.includes(p));
        if (runtime === 'process') assert.ok(started.length > 0, 'one child per worker');
        else assert.deepEqual(started, [], 'no child process at all');
        const health = await httpsJson(`${t.sim.control.siteUrl('rg-web', 'kv-uri-bot')}/health`, t.sim.info.caCert);
        assert.equal(health.status, 200, JSON.stringify(health.body));
        assert.equal((health.body as Health).authMode, 'key');
        const refs = t.clientsAs('owner').web.webApps.listAppSettingsKeyVaultReferences('rg-web', 'kv-uri-bot');
        const statuses: string[] = [];
        for await (const r of refs) statuses.push(`${r.name}:${r.status}`);
        assert.deepEqual(statuses, ['AZURE_OPENAI_API_KEY:Resolved']);
        // Another estate: the workers of sites it does not have stop.
        await t.sim.control.loadScenario(FIXTURE);
        const serving = Object.keys(t.sim.control.state().apps);
        assert.ok(serving.some((k) => k.includes(`/sites/${SITE}|`)));
        assert.ok(!serving.some((k) => k.includes('/sites/kv-')), serving.join(', '));
        if (runtime === 'process')
          await eventually(async () => (childPids().some((p) => started.includes(p)) ? undefined : true));
        await t.close();
        closed = true;
        assert.deepEqual(
          childPids().filter((p) => !before.includes(p)),
          [],
        );
      } finally {
        if (!closed) await t.close();
      }
    });
  });
}

for (const runtime of APP_RUNTIMES) runtimeSuite(runtime);
