/**
 * ARM's gateway through the real SDK clients: api-versions per resource type (every version the installed SDKs send
 * is accepted, an unpublished one is ARM's 400 listing the supported ones), authorization before everything for
 * operations the simulator does not model (403 naming the full path, else 405), unknown types (404), malformed
 * role definition ids (400), and the headers of gateway answers (`x-ms-failure-cause`, no rate-limit budget, ARM's
 * own correlation id).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { RG, SITE, type TestSim, failure, httpsJson, startTestSimulator } from './support';

const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

let t: TestSim;
let sub: string;
let account: string;

before(async () => {
  t = await startTestSimulator();
  sub = t.sim.info.subscriptionId;
  account = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
});
after(() => t.close());

/** A raw request through an SDK's authenticated pipeline, for answers an SDK call would hide. */
async function raw(principal: string, method: string, urlPath: string, headers: Record<string, string> = {}) {
  const { cognitive } = t.clientsAs(principal);
  const req = createPipelineRequest({ url: `${t.sim.info.armEndpoint}${urlPath}`, method: method as 'GET' });
  for (const [k, v] of Object.entries(headers)) req.headers.set(k, v);
  const res = await cognitive.sendRequest(req);
  return {
    status: res.status,
    headers: res.headers,
    clientRequestId: req.headers.get('x-ms-client-request-id'),
    error: res.bodyAsText
      ? (JSON.parse(res.bodyAsText) as { error?: { code: string; message: string } }).error
      : undefined,
  };
}

describe('api-versions', () => {
  test('each installed SDK sends a version its resource type accepts', async () => {
    const { cognitive, web, authorization } = t.clientsAs('owner');
    const cs = new CognitiveServicesManagementClient(t.credentialOf('owner'), sub, {});
    assert.equal(cs.apiVersion, '2025-09-01');
    assert.equal(new ManagedServiceIdentityClient(t.credentialOf('owner'), sub, {}).apiVersion, '2024-11-30');
    const versions = new Map<string, string>();
    const onResponse = (r: { request: { url: string } }) => {
      const u = new URL(r.request.url);
      versions.set(u.pathname.split('/providers/').pop()!.split('/')[0], u.searchParams.get('api-version')!);
    };
    await cognitive.accounts.get(RG, 'claims-openai', { onResponse });
    await web.webApps.get(RG, SITE, { onResponse });
    await authorization.roleAssignments.listForScope(account.slice(1), { onResponse }).next();
    await authorization.roleDefinitions.get(account.slice(1), OPENAI_USER, { onResponse });
    const msi = t.clientsAs('owner').msi;
    await msi.userAssignedIdentities.get(RG, 'id-claims-bot', { onResponse });
    assert.deepEqual(Object.fromEntries(versions), {
      'Microsoft.CognitiveServices': '2025-09-01',
      'Microsoft.Web': '2025-05-01',
      'Microsoft.Authorization': '2022-04-01',
      'Microsoft.ManagedIdentity': '2024-11-30',
    });
  });

  test('an unpublished api-version is 400 NoRegisteredProviderFound listing the supported ones', async () => {
    const res = await raw('owner', 'GET', `${account}?api-version=2099-01-01`);
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, 'NoRegisteredProviderFound');
    assert.match(
      res.error.message,
      /^No registered resource provider found for location 'westeurope' and API version '2099-01-01' for type 'accounts'\. The supported api-versions are '2016-02-01-preview, 2017-04-18, .*2025-09-01.*'\. The supported locations are '.*westeurope.*'\.$/,
    );
    assert.equal(res.headers.get('x-ms-failure-cause'), 'gateway');
    const site = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${SITE}`;
    assert.equal(
      (await raw('owner', 'GET', `${site}?api-version=2025-09-01`)).error?.code,
      'NoRegisteredProviderFound',
    );
    const ra = await raw(
      'owner',
      'GET',
      `${account}/providers/Microsoft.Authorization/roleAssignments?api-version=2025-05-01`,
    );
    assert.match(ra.error!.message, /for type 'roleAssignments'.*The supported locations are ''\.$/);
    // Older published versions are accepted.
    assert.equal((await raw('owner', 'GET', `${account}?api-version=2023-05-01`)).status, 200);
    assert.equal((await raw('owner', 'GET', `${site}?api-version=2022-03-01`)).status, 200);
  });

  test("a path with '//' is ARM's 400 InvalidApiVersionParameter with ARM's own versions", async () => {
    const res = await raw('owner', 'GET', `/${account}?api-version=2025-09-01`);
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, 'InvalidApiVersionParameter');
    assert.match(
      res.error.message,
      /^The api-version '2025-09-01' is invalid\. The supported versions are '2024-08-01,/,
    );
  });
});

describe('authorization before everything', () => {
  test('an unmodelled method on a known type is 403 without the action (scope: the full path), else 405', async () => {
    const reader = t.clientsAs('reader');
    const denied = await failure(reader.cognitive.accounts.beginDelete(RG, 'claims-openai'));
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'AuthorizationFailed');
    assert.match(
      denied.message,
      new RegExp(
        `does not have authorization to perform action 'Microsoft\\.CognitiveServices/accounts/delete' over scope '${account.replace(/\./g, '\\.')}' or the scope is invalid\\.`,
      ),
    );
    const siteDenied = await failure(reader.web.webApps.delete(RG, SITE));
    assert.equal(siteDenied.statusCode, 403);
    assert.match(siteDenied.message, /'Microsoft\.Web\/sites\/delete'/);
    const deploymentDenied = await failure(
      reader.cognitive.deployments.beginCreateOrUpdate(RG, 'claims-openai', 'new', { sku: { name: 'Standard' } }),
    );
    assert.match(deploymentDenied.message, /'Microsoft\.CognitiveServices\/accounts\/deployments\/write'/);
    // The worker may assign roles on the account, not define them.
    const definition = await failure(
      t.clientsAs('cutover-worker').authorization.roleDefinitions.createOrUpdate(account.slice(1), randomUUID(), {
        roleName: 'mine',
      }),
    );
    assert.equal(definition.statusCode, 403);
    assert.match(definition.message, /'Microsoft\.Authorization\/roleDefinitions\/write'/);

    const owner = await failure(t.clientsAs('owner').web.webApps.delete(RG, SITE));
    assert.equal(owner.statusCode, 405);
    assert.equal(owner.code, 'MethodNotAllowed');
  });

  test('an unknown type is 404 InvalidResourceType naming type and namespace', async () => {
    const res = await raw(
      'owner',
      'GET',
      `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Web/fooBars/x?api-version=2025-05-01`,
    );
    assert.equal(res.status, 404);
    assert.deepEqual(res.error, {
      code: 'InvalidResourceType',
      message:
        "The resource type 'fooBars' could not be found in the namespace 'Microsoft.Web' for api version '2025-05-01'.",
    });
  });

  test('a malformed role definition id is 400 InvalidRoleDefinitionId; an unknown GUID does not exist', async () => {
    const { authorization } = t.clientsAs('owner');
    const malformed = await failure(authorization.roleDefinitions.get(account.slice(1), 'not-a-guid'));
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.code, 'InvalidRoleDefinitionId');
    assert.equal(malformed.message, "The role definition ID 'not-a-guid' is not valid.");
    const unknown = await failure(authorization.roleDefinitions.get(account.slice(1), randomUUID()));
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.code, 'RoleDefinitionDoesNotExist');
    const assign = await failure(
      authorization.roleAssignments.create(account.slice(1), randomUUID(), {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/reader`,
        principalId: randomUUID(),
        principalType: 'ServicePrincipal',
      }),
    );
    assert.equal(assign.code, 'InvalidRoleDefinitionId');
  });
});

describe('gateway answers', () => {
  test('401, 403, 404 type and 429 carry x-ms-failure-cause: gateway and no rate-limit budget', async () => {
    const url = `${t.sim.info.armEndpoint}${account}?api-version=2025-09-01`;
    const noToken = await httpsJson(url, t.sim.info.caCert);
    assert.equal(noToken.status, 401);
    assert.equal(noToken.headers['x-ms-failure-cause'], 'gateway');
    const wrongTenant = await raw('outsider', 'GET', `${account}?api-version=2025-09-01`);
    const denied = await raw('reader', 'DELETE', `${account}?api-version=2025-09-01`);
    const unknown = await raw(
      'owner',
      'GET',
      `/subscriptions/${sub}/providers/Microsoft.Nope/things?api-version=2025-09-01`,
    );
    assert.deepEqual(
      [wrongTenant.status, denied.status, unknown.status],
      [401, 403, 404],
      JSON.stringify([wrongTenant.error, denied.error, unknown.error]),
    );
    for (const r of [wrongTenant, denied, unknown]) {
      assert.equal(r.headers.get('x-ms-failure-cause'), 'gateway');
      assert.equal(r.headers.get('x-ms-ratelimit-remaining-subscription-deletes'), undefined);
      assert.equal(r.headers.get('x-ms-ratelimit-remaining-subscription-reads'), undefined);
    }
    assert.equal(noToken.headers['x-ms-ratelimit-remaining-subscription-reads'], undefined);

    // Throttling, seen without the SDK's retry (which would wait the Retry-After out).
    const token = (await t.credentialOf('reader').getToken('https://management.azure.com/.default'))!.token;
    const get = () => httpsJson(url, t.sim.info.caCert, { headers: { authorization: `Bearer ${token}` } });
    t.sim.control.setThrottling({ enabled: true, reads: { capacity: 1, refillPerSec: 0.1 } });
    try {
      const first = await get();
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-ms-ratelimit-remaining-subscription-reads'], '0');
      const throttled = await get();
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers['x-ms-failure-cause'], 'gateway');
      assert.equal(throttled.headers['x-ms-ratelimit-remaining-subscription-reads'], undefined);
      assert.match(String(throttled.headers['retry-after']), /^\d+$/);
    } finally {
      t.sim.control.setThrottling({ enabled: false, reads: { capacity: 250, refillPerSec: 25 } });
    }
  });

  test("the correlation id is ARM's own GUID, unless the caller sends one", async () => {
    const ok = await raw('owner', 'GET', `${account}?api-version=2025-09-01`);
    const correlation = ok.headers.get('x-ms-correlation-request-id');
    assert.match(correlation ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(correlation, ok.clientRequestId);
    assert.notEqual(correlation, ok.headers.get('x-ms-request-id'));
    const mine = randomUUID();
    const given = await raw('owner', 'GET', `${account}?api-version=2025-09-01`, {
      'x-ms-correlation-request-id': mine,
    });
    assert.equal(given.headers.get('x-ms-correlation-request-id'), mine);
    assert.match(ok.headers.get('x-ms-ratelimit-remaining-subscription-reads') ?? '', /^\d+$/);
    assert.equal(ok.headers.get('x-ms-failure-cause'), undefined);
  });
});
