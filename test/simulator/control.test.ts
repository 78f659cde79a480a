/**
 * Faults, throttling, delays and the control API: the SDK's retry policies absorb what Azure's would (a 500, a 429
 * with Retry-After), injected LRO failures surface as Failed operations, the request log counts the retries, and
 * the control API works over HTTP as in process. No secret is ever written to the simulator's log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FIXTURE, RG, SITE, type TestSim, failure, httpsJson, startTestSimulator } from './support';

let t: TestSim;
const logLines: string[] = [];

before(async () => {
  t = await startTestSimulator({ log: (l) => logLines.push(l) });
});
after(() => t.close());

describe('faults', () => {
  test("an injected 500 is absorbed by the SDK's retry policy; the request log shows the retry", async () => {
    t.sim.control.clearRequests();
    t.sim.control.addFault({ operation: 'Microsoft.Web/sites/config/appsettings/write', status: 500, count: 1 });
    const { web } = t.clientsAs('cutover-worker');
    const settings = await web.webApps.listApplicationSettings(RG, SITE);
    await web.webApps.updateApplicationSettings(RG, SITE, { properties: settings.properties! });
    const writes = t.sim.control
      .requests()
      .filter((r) => r.operation === 'Microsoft.Web/sites/config/appsettings/write');
    assert.deepEqual(
      writes.map((r) => r.status),
      [500, 200],
    );
    assert.equal(writes[0].code, 'InternalServerError');
    assert.equal(t.sim.control.state().faults.length, 0, 'a count-1 fault is spent');
  });

  test('a fault matched by method and path answers its status, code and message', async () => {
    t.sim.control.addFault({
      method: 'POST',
      pathContains: '/listKeys',
      status: 409,
      code: 'ScopeLocked',
      message: 'The scope is locked.',
    });
    const err = await failure(t.clientsAs('cutover-worker').cognitive.accounts.listKeys(RG, 'claims-openai'));
    assert.equal(err.statusCode, 409);
    assert.equal(err.code, 'ScopeLocked');
    assert.equal(err.message, 'The scope is locked.');
  });

  test('added latency', async () => {
    t.sim.control.addFault({ operation: 'Microsoft.Web/sites/read', latencyMs: 300 });
    const started = Date.now();
    await t.clientsAs('cutover-worker').web.webApps.get(RG, SITE);
    assert.ok(Date.now() - started >= 300);
  });

  test('an account update whose LRO ends Failed leaves the account unchanged and provisioningState Failed', async () => {
    t.sim.control.addFault({
      operation: 'Microsoft.CognitiveServices/accounts/write',
      lroFail: true,
      code: 'InternalError',
      message: 'Update failed.',
    });
    const { cognitive } = t.clientsAs('cutover-worker');
    const err = await failure(
      cognitive.accounts.beginUpdateAndWait(RG, 'claims-openai', { properties: { disableLocalAuth: true } }),
    );
    // core-lro reports a Failed operation as a plain Error carrying the operation's error code and message.
    assert.match(err.message, /The long-running operation has failed\. InternalError\. Update failed\./);
    const account = await cognitive.accounts.get(RG, 'claims-openai');
    assert.equal(account.properties?.provisioningState, 'Failed');
    assert.equal(account.properties?.disableLocalAuth, false);
    const fixed = await cognitive.accounts.beginUpdateAndWait(RG, 'claims-openai', {
      properties: { disableLocalAuth: false },
    });
    assert.equal(fixed.properties?.provisioningState, 'Succeeded');
  });

  test('a swap whose LRO fails does not swap', async () => {
    t.sim.control.addFault({
      operation: 'Microsoft.Web/sites/slots/slotsswap/action',
      lroFail: true,
      status: 409,
      code: 'SwapFailed',
      message: 'Warm-up failed.',
    });
    const { web } = t.clientsAs('cutover-worker');
    const before = (await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging')).properties;
    const err = await failure(
      web.webApps.swapSlot(RG, SITE, 'staging', { targetSlot: 'production', preserveVnet: true }),
    );
    assert.equal(err.statusCode, 409);
    assert.equal(err.code, 'SwapFailed');
    assert.deepEqual((await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging')).properties, before);
  });
});

describe('throttling', () => {
  test('429 with Retry-After: the SDK waits and succeeds; remaining budget on every response', async () => {
    t.sim.control.setThrottling({ enabled: true, reads: { capacity: 2, refillPerSec: 1 } });
    try {
      t.sim.control.clearRequests();
      const { cognitive } = t.clientsAs('cutover-worker');
      const remaining: (string | undefined)[] = [];
      const onResponse = (r: { headers: { get(n: string): string | undefined } }) =>
        remaining.push(r.headers.get('x-ms-ratelimit-remaining-subscription-reads'));
      const started = Date.now();
      for (let i = 0; i < 3; i++) await cognitive.accounts.get(RG, 'claims-openai', { onResponse });
      assert.ok(Date.now() - started >= 900, 'the third read waited for a token');
      const reads = t.sim.control.requests().filter((r) => r.operation === 'Microsoft.CognitiveServices/accounts/read');
      assert.deepEqual(
        reads.map((r) => r.status),
        [200, 200, 429, 200],
      );
      assert.equal(reads[2].code, 'TooManyRequests');
      assert.deepEqual(remaining, ['1', '0', '0']);
    } finally {
      t.sim.control.setThrottling({ enabled: false, reads: { capacity: 250, refillPerSec: 25 } });
    }
  });
});

describe('control API over HTTP', () => {
  const control = (p: string, init: { method?: string; body?: string } = {}) =>
    httpsJson(`${t.sim.info.controlUrl}${p}`, t.sim.info.caCert, {
      ...init,
      headers: { 'content-type': 'application/json' },
    });

  test('state, delays, faults, requests, credentials, site URL', async () => {
    const state = await control('/state');
    assert.equal(state.status, 200);
    assert.ok((state.body as { subscriptions: Record<string, unknown> }).subscriptions[t.sim.info.subscriptionId]);
    const delays = await control('/delays', { method: 'PUT', body: JSON.stringify({ propagationMs: 1234 }) });
    assert.equal((delays.body as { propagationMs: number }).propagationMs, 1234);
    assert.equal(t.sim.control.state().delays.propagationMs, 1234);
    await control('/delays', { method: 'PUT', body: JSON.stringify({ propagationMs: 0 }) });
    const bad = await control('/delays', { method: 'PUT', body: JSON.stringify({ nope: 1 }) });
    assert.equal(bad.status, 400);
    const fault = await control('/faults', {
      method: 'POST',
      body: JSON.stringify({ pathContains: '/nowhere', status: 503 }),
    });
    assert.equal(fault.status, 201);
    assert.equal((await control('/faults')).body instanceof Array, true);
    assert.equal((await control('/faults', { method: 'DELETE' })).status, 204);
    assert.deepEqual(t.sim.control.state().faults, []);
    const requests = await control('/requests');
    assert.ok(Array.isArray(requests.body) && requests.body.length > 0);
    const creds = await control('/credentials/cutover-worker');
    assert.deepEqual(creds.body, t.sim.control.credentials('cutover-worker'));
    const url = await control(`/site-url?resourceGroup=${RG}&name=${SITE}&slot=staging`);
    assert.equal((url.body as { url: string }).url, `${t.sim.info.armEndpoint}/sites/${SITE}/slots/staging`);
  });

  test('reset returns to the loaded scenario; a scenario can be loaded from YAML', async () => {
    const { web } = t.clientsAs('cutover-worker');
    await web.webApps.updateApplicationSettings(RG, SITE, { properties: { ONLY: 'this' } });
    assert.equal((await control('/reset', { method: 'POST' })).status, 200);
    assert.equal((await web.webApps.listApplicationSettings(RG, SITE)).properties?.CLAIMS_DB_NAME, 'claims');

    const yaml = [
      'tenants: [{ name: t1, id: 55555555-5555-4555-8555-555555555555 }]',
      'principals: [{ name: ops }]',
      'subscriptions:',
      '  - id: 66666666-6666-4666-8666-666666666666',
      '    resourceGroups: [{ name: rg-x, sites: [{ name: tiny-app }] }]',
      'roleAssignments: [{ principal: ops, role: Reader, scope: { resourceGroup: rg-x } }]',
    ].join('\n');
    const loaded = await httpsJson(`${t.sim.info.controlUrl}/scenario`, t.sim.info.caCert, {
      method: 'POST',
      body: yaml,
    });
    assert.equal(loaded.status, 200, JSON.stringify(loaded.body));
    assert.equal(t.sim.info.subscriptionId, '66666666-6666-4666-8666-666666666666');
    assert.ok(t.sim.control.credentials('ops').clientSecret);
    const invalid = await httpsJson(`${t.sim.info.controlUrl}/scenario`, t.sim.info.caCert, {
      method: 'POST',
      body: 'tenants: []\nsubscriptions: []',
    });
    assert.equal(invalid.status, 400);
    assert.match((invalid.body as { error: { message: string } }).error.message, /tenants/);
    await t.sim.control.loadScenario(FIXTURE);
  });
});

describe('secrets', () => {
  test('secrets() lists keys, client secrets, issued tokens and identity headers; none ever reaches the log', async () => {
    const { web, cognitive } = t.clientsAs('cutover-worker');
    await web.webApps.get(RG, SITE);
    await cognitive.accounts.listKeys(RG, 'claims-openai');
    await httpsJson(`${t.sim.control.siteUrl(RG, SITE)}/health`, t.sim.info.caCert);
    const secrets = t.sim.control.secrets();
    const state = t.sim.control.state();
    const account = Object.values(state.accounts).find((a) => a.name === 'claims-openai')!;
    assert.ok(secrets.includes(account.key1) && secrets.includes(account.key2));
    assert.ok(secrets.includes(t.sim.control.credentials('cutover-worker').clientSecret));
    assert.ok(
      secrets.some((s) => s.split('.').length === 3),
      'issued access tokens',
    );
    assert.ok(secrets.length >= 8);
    assert.ok(logLines.length > 20, 'the log was exercised');
    const text = logLines.join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret reached the log');
  });
});
