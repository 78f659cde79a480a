/**
 * Account updates as Azure answers them, through `@azure/arm-cognitiveservices`: the LRO (202 +
 * `Azure-AsyncOperation` at the provider's `operationResults`, api-version 2017-04-18) or the synchronous 200, chosen
 * by `behavior.accountUpdateMode` or forced per request by a fault, and ARM's 409 `RequestConflict` for an update
 * racing one still in progress.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { RG, type TestSim, eventually, failure, startTestSimulator } from './support';

let t: TestSim;
let accountUrl: string;

before(async () => {
  t = await startTestSimulator();
  accountUrl = `${t.sim.info.armEndpoint}/subscriptions/${t.sim.info.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
});
after(() => t.close());

const cognitive = () => t.clientsAs('cutover-worker').cognitive;
/** A PATCH (or GET) on the wire, through the SDK's authenticated pipeline. */
const raw = async (method: 'PATCH' | 'GET', url: string, body?: unknown) => {
  const res = await cognitive().sendRequest(
    createPipelineRequest({ url, method, ...(body ? { body: JSON.stringify(body) } : {}) }),
  );
  return {
    status: res.status,
    headers: res.headers.toJSON(),
    body: res.bodyAsText ? (JSON.parse(res.bodyAsText) as Record<string, unknown>) : {},
  };
};
const HOUR = 3_600_000;
const withApi = (url: string) => `${url}?api-version=2025-06-01`;
const state = async () => (await cognitive().accounts.get(RG, 'claims-openai')).properties?.provisioningState;

describe('account updates', () => {
  test('async (default): 202, Azure-AsyncOperation at operationResults with the provider api-version, Accepted → Updating → Succeeded', async () => {
    // The update stays in progress until the test ends it, so it is looked at mid-flight however slow the machine.
    t.sim.control.setDelays({ lroMs: HOUR });
    try {
      const res = await raw('PATCH', withApi(accountUrl), { properties: { publicNetworkAccess: 'Enabled' } });
      assert.equal(res.status, 202);
      assert.equal((res.body.properties as { provisioningState: string }).provisioningState, 'Accepted');
      const op = res.headers['azure-asyncoperation'];
      assert.match(
        op,
        new RegExp(
          `^${t.sim.info.armEndpoint}/subscriptions/${t.sim.info.subscriptionId}/providers/Microsoft\\.CognitiveServices/locations/westeurope/operationResults/[0-9a-f-]{36}\\?api-version=2017-04-18$`,
        ),
      );
      assert.equal(await state(), 'Updating');
      const running = await raw('GET', op);
      assert.equal(running.body.status, 'Running');
      assert.match(String(running.body.startTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(running.body.id, new URL(op).pathname);
      t.sim.control.setDelays({ lroMs: 0 });
      assert.equal(t.sim.control.endWaits(), 1, 'the update was still in progress');
      const done = await eventually(async () => {
        const r = await raw('GET', op);
        return r.body.status === 'Succeeded' ? r : undefined;
      });
      assert.match(String(done.body.endTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(await state(), 'Succeeded');
      const updated = await cognitive().accounts.beginUpdateAndWait(RG, 'claims-openai', { tags: { wave: '1' } });
      assert.equal(updated.properties?.provisioningState, 'Succeeded');
      assert.equal(updated.tags?.wave, '1');
    } finally {
      t.sim.control.setDelays({ lroMs: 0 });
    }
  });

  test('an update while another is in progress: 409 RequestConflict from the SDK and on the wire', async () => {
    // The first update stays in progress until the test ends it, so the others surely race it.
    t.sim.control.setDelays({ lroMs: HOUR });
    try {
      const first = await cognitive().accounts.beginUpdate(RG, 'claims-openai', { tags: { wave: '2' } });
      const second = await failure(cognitive().accounts.beginUpdate(RG, 'claims-openai', { tags: { wave: '3' } }));
      assert.equal(second.statusCode, 409);
      assert.equal(second.code, 'RequestConflict');
      const id = `/subscriptions/${t.sim.info.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
      assert.equal(
        second.message,
        `Cannot modify resource with id '${id}' because the resource entity provisioning state is not terminal. Please wait for the provisioning state to become terminal and then retry the request.`,
      );
      const racing = await raw('PATCH', withApi(accountUrl), { properties: { disableLocalAuth: true } });
      assert.equal(racing.status, 409);
      assert.equal((racing.body.error as { code: string }).code, 'RequestConflict');
      assert.equal((await cognitive().accounts.get(RG, 'claims-openai')).properties?.disableLocalAuth, false);
      t.sim.control.setDelays({ lroMs: 0 });
      assert.equal(t.sim.control.endWaits(), 1, 'the first update was still in progress');
      const result = await first.pollUntilDone();
      assert.equal(result.tags?.wave, '2');
      const after = await cognitive().accounts.beginUpdateAndWait(RG, 'claims-openai', { tags: { wave: '3' } });
      assert.equal(after.tags?.wave, '3', 'accepted once the first one is done');
    } finally {
      t.sim.control.setDelays({ lroMs: 0 });
    }
  });

  test('sync: 200 with Succeeded and no Azure-AsyncOperation; the SDK poller is done at once', async () => {
    assert.deepEqual(t.sim.control.setBehavior({ accountUpdateMode: 'sync' }), { accountUpdateMode: 'sync' });
    t.sim.control.setDelays({ lroMs: 5_000 });
    try {
      const res = await raw('PATCH', withApi(accountUrl), { tags: { wave: '4' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['azure-asyncoperation'], undefined);
      assert.equal((res.body.properties as { provisioningState: string }).provisioningState, 'Succeeded');
      t.sim.control.clearRequests();
      const poller = await cognitive().accounts.beginUpdate(RG, 'claims-openai', { tags: { wave: '5' } });
      assert.equal(poller.isDone(), true);
      assert.equal((await poller.pollUntilDone()).tags?.wave, '5');
      // No LRO wait: the PATCH was the only request, nothing polled an operation (a 5 s one, had there been one).
      assert.deepEqual(
        t.sim.control
          .requests()
          .filter((r) => r.surface === 'arm')
          .map((r) => r.method),
        ['PATCH'],
        'no polling',
      );
      assert.equal(await state(), 'Succeeded');
      assert.equal(t.sim.control.state().behavior.accountUpdateMode, 'sync');
    } finally {
      t.sim.control.setBehavior({ accountUpdateMode: 'async' });
      t.sim.control.setDelays({ lroMs: 0 });
    }
  });

  test('a fault forces one mode for a request, whatever the behaviour says', async () => {
    t.sim.control.addFault({ accountUpdateMode: 'sync', operation: 'Microsoft.CognitiveServices/accounts/write' });
    const forcedSync = await raw('PATCH', withApi(accountUrl), { tags: { wave: '6' } });
    assert.equal(forcedSync.status, 200);
    assert.equal((await raw('PATCH', withApi(accountUrl), { tags: { wave: '7' } })).status, 202, 'consumed');
    t.sim.control.setBehavior({ accountUpdateMode: 'sync' });
    try {
      t.sim.control.addFault({ accountUpdateMode: 'async', method: 'PATCH', pathContains: '/accounts/claims-openai' });
      const forcedAsync = await raw('PATCH', withApi(accountUrl), { tags: { wave: '8' } });
      assert.equal(forcedAsync.status, 202);
      assert.ok(forcedAsync.headers['azure-asyncoperation']);
    } finally {
      t.sim.control.setBehavior({ accountUpdateMode: 'async' });
    }
    assert.throws(() => t.sim.control.setBehavior({ accountUpdateMode: 'later' as 'sync' }), /accountUpdateMode/);
  });

  test('the operation URL carries the location as the account spells it', async () => {
    await t.sim.control.loadScenario({
      tenants: [{ name: 'contoso' }],
      principals: [{ name: 'admin' }],
      subscriptions: [
        {
          resourceGroups: [
            { name: 'rg', location: 'West Europe', accounts: [{ name: 'spaced', customSubDomainName: 'spaced' }] },
          ],
        },
      ],
      behavior: { accountUpdateMode: 'async' },
      roleAssignments: [{ principal: 'admin', role: 'Owner', scope: { subscription: true } }],
    });
    const admin = t.clientsAs('admin').cognitive;
    const url = `${t.sim.info.armEndpoint}/subscriptions/${t.sim.info.subscriptionId}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/spaced?api-version=2025-09-01`;
    const res = await admin.sendRequest(createPipelineRequest({ url, method: 'PATCH', body: '{"tags":{"a":"b"}}' }));
    assert.equal(res.status, 202);
    assert.match(res.headers.get('azure-asyncoperation') ?? '', /\/locations\/West%20Europe\/operationResults\//);
    const updated = await admin.accounts.beginUpdateAndWait('rg', 'spaced', { tags: { a: 'c' } });
    assert.equal(updated.properties?.provisioningState, 'Succeeded');
  });
});
