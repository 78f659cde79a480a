/**
 * ARM through the real SDK clients (built by activities/azure-clients.ts): Microsoft.Web, Microsoft.ManagedIdentity,
 * Microsoft.CognitiveServices and Microsoft.Authorization with Azure's status codes and error codes, RBAC, and the
 * 401s of Entra tokens (wrong tenant, expired, wrong audience).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { createAzureClients } from '../../azure/clients';
import { RG, SITE, type TestSim, failure, httpsJson, startTestSimulator } from './support';

const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

let t: TestSim;
let sub: string;
let accountScope: string;
let siteScope: string;

before(async () => {
  t = await startTestSimulator();
  sub = t.sim.info.subscriptionId;
  accountScope = `subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
  siteScope = `subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${SITE}`;
});
after(() => t.close());

describe('Microsoft.Web', () => {
  test('GET site and slot with the front-door host name', async () => {
    const { web } = t.clientsAs('cutover-worker');
    const site = await web.webApps.get(RG, SITE);
    assert.equal(site.name, SITE);
    assert.equal(site.type, 'Microsoft.Web/sites');
    assert.equal(site.defaultHostName, `${new URL(t.sim.info.armEndpoint).host}/sites/${SITE}`);
    assert.equal(site.state, 'Running');
    assert.equal(site.identity, undefined);
    const slot = await web.webApps.getSlot(RG, SITE, 'staging');
    assert.equal(slot.name, `${SITE}/staging`);
    assert.equal(slot.defaultHostName, `${new URL(t.sim.info.armEndpoint).host}/sites/${SITE}/slots/staging`);
    // Like ARM, authorization comes before existence: without a role there, a missing site is a 403.
    const hidden = await failure(web.webApps.get(RG, 'no-such-site'));
    assert.equal(hidden.statusCode, 403);
    const missing = await failure(t.clientsAs('owner').web.webApps.get(RG, 'no-such-site'));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, 'ResourceNotFound');
  });

  test('system-assigned identity: enabling creates a principal, disabling deletes it, re-enabling makes a new one', async () => {
    const { web } = t.clientsAs('cutover-worker');
    const on = await web.webApps.updateSlot(RG, SITE, 'staging', { identity: { type: 'SystemAssigned' } });
    assert.equal(on.identity?.type, 'SystemAssigned');
    assert.match(on.identity?.principalId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(on.identity?.tenantId, t.sim.info.tenantId);
    const first = on.identity.principalId!;
    assert.ok(t.sim.control.state().principals[first]);
    const again = await web.webApps.updateSlot(RG, SITE, 'staging', { identity: { type: 'SystemAssigned' } });
    assert.equal(again.identity?.principalId, first, 'idempotent');
    const off = await web.webApps.updateSlot(RG, SITE, 'staging', { identity: { type: 'None' } });
    assert.equal(off.identity, undefined);
    assert.equal(t.sim.control.state().principals[first], undefined);
    const reborn = await web.webApps.updateSlot(RG, SITE, 'staging', { identity: { type: 'SystemAssigned' } });
    assert.notEqual(reborn.identity?.principalId, first);
  });

  test('user-assigned identity needs assign/action on the identity', async () => {
    const { web } = t.clientsAs('cutover-worker');
    const uami = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-claims-bot`;
    const site = await web.webApps.update(RG, SITE, {
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uami]: {} } },
    });
    assert.equal(site.identity?.type, 'SystemAssigned, UserAssigned');
    const entry = site.identity?.userAssignedIdentities?.[uami];
    const state = t.sim.control.state();
    const u = Object.values(state.identities).find((i) => i.name === 'id-claims-bot')!;
    assert.equal(entry?.principalId, u.principalId);
    assert.equal(entry?.clientId, u.clientId);

    const other = uami.replace('id-claims-bot', 'id-unassignable');
    const denied = await failure(
      web.webApps.update(RG, SITE, { identity: { type: 'UserAssigned', userAssignedIdentities: { [other]: {} } } }),
    );
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'LinkedAuthorizationFailed');
    await web.webApps.update(RG, SITE, { identity: { type: 'None' } });
  });

  test('app settings: list, replace the whole dictionary, slot-sticky names', async () => {
    const { web } = t.clientsAs('cutover-worker');
    const before = await web.webApps.listApplicationSettings(RG, SITE);
    assert.equal(before.properties?.AZURE_OPENAI_DEPLOYMENT, 'gpt-4o-mini');
    const replaced = await web.webApps.updateApplicationSettings(RG, SITE, {
      properties: { ...before.properties, EXTRA: '1' },
    });
    assert.equal(replaced.properties?.EXTRA, '1');
    const only = await web.webApps.updateApplicationSettingsSlot(RG, SITE, 'staging', { properties: { ONLY: 'this' } });
    assert.deepEqual(only.properties, { ONLY: 'this' });
    assert.deepEqual((await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging')).properties, { ONLY: 'this' });
    const names = await web.webApps.listSlotConfigurationNames(RG, SITE);
    assert.deepEqual(names.appSettingNames, ['CLAIMS_ENVIRONMENT']);
    const updated = await web.webApps.updateSlotConfigurationNames(RG, SITE, {
      appSettingNames: ['CLAIMS_ENVIRONMENT', 'ONLY'],
    });
    assert.deepEqual(updated.appSettingNames, ['CLAIMS_ENVIRONMENT', 'ONLY']);
    await web.webApps.updateApplicationSettings(RG, SITE, { properties: before.properties });
  });

  test('slot swap is an LRO that moves non-sticky settings and keeps sticky ones and identities', async () => {
    const { web } = t.clientsAs('cutover-worker');
    await web.webApps.updateSlotConfigurationNames(RG, SITE, { appSettingNames: ['CLAIMS_ENVIRONMENT'] });
    await web.webApps.updateApplicationSettings(RG, SITE, {
      properties: { CLAIMS_ENVIRONMENT: 'production', VERSION: 'v1' },
    });
    await web.webApps.updateApplicationSettingsSlot(RG, SITE, 'staging', {
      properties: { CLAIMS_ENVIRONMENT: 'staging', VERSION: 'v2' },
    });
    const stagingIdentity = (await web.webApps.getSlot(RG, SITE, 'staging')).identity?.principalId;
    await web.webApps.swapSlot(RG, SITE, 'staging', { targetSlot: 'production', preserveVnet: true });
    const prod = await web.webApps.listApplicationSettings(RG, SITE);
    const staging = await web.webApps.listApplicationSettingsSlot(RG, SITE, 'staging');
    assert.deepEqual(prod.properties, { CLAIMS_ENVIRONMENT: 'production', VERSION: 'v2' });
    assert.deepEqual(staging.properties, { CLAIMS_ENVIRONMENT: 'staging', VERSION: 'v1' });
    assert.equal((await web.webApps.getSlot(RG, SITE, 'staging')).identity?.principalId, stagingIdentity);
    const ops = t.sim.control.requests().filter((r) => r.operation === 'Microsoft.Web/sites/slots/slotsswap/action');
    assert.equal(ops.at(-1)?.status, 202);
  });

  test('restart answers 200', async () => {
    const { web } = t.clientsAs('cutover-worker');
    await web.webApps.restart(RG, SITE);
    await web.webApps.restartSlot(RG, SITE, 'staging');
  });

  test('a principal without a role on the site gets AuthorizationFailed with Azure message shape', async () => {
    const { web } = t.clientsAs('reader');
    await web.webApps.get(RG, SITE); // Reader reads
    const err = await failure(web.webApps.updateApplicationSettings(RG, SITE, { properties: {} }));
    assert.equal(err.statusCode, 403);
    assert.equal(err.code, 'AuthorizationFailed');
    const reader = t.sim.control.credentials('reader');
    assert.match(
      err.message,
      new RegExp(
        `^The client '${reader.clientId}' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft.Web/sites/config/write' over scope '/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${SITE}' or the scope is invalid\\.`,
      ),
    );
  });
});

describe('Microsoft.ManagedIdentity and Microsoft.CognitiveServices', () => {
  test('user-assigned identity GET through the SDK pipeline (no management client for it in the product)', async () => {
    const { cognitive } = t.clientsAs('cutover-worker');
    const id = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-claims-bot`;
    const res = await cognitive.sendRequest(
      createPipelineRequest({ url: `${t.sim.info.armEndpoint}${id}?api-version=2024-11-30` }),
    );
    assert.equal(res.status, 200);
    const body = JSON.parse(res.bodyAsText ?? '{}') as {
      id: string;
      properties: { isolationScope: string; principalId: string };
    };
    assert.equal(body.id, id);
    assert.equal(body.properties.isolationScope, 'None');
    const other = await t.clientsAs('owner').cognitive.sendRequest(
      createPipelineRequest({
        url: `${t.sim.info.armEndpoint}${id.replace('id-claims-bot', 'id-unassignable')}?api-version=2024-11-30`,
      }),
    );
    assert.equal(other.status, 200);
    const denied = await cognitive.sendRequest(
      createPipelineRequest({
        url: `${t.sim.info.armEndpoint}${id.replace('id-claims-bot', 'id-unassignable')}?api-version=2024-11-30`,
      }),
    );
    assert.equal(denied.status, 403);
  });

  test('account GET, deployments list/get, listKeys and regenerateKey', async () => {
    const { cognitive } = t.clientsAs('cutover-worker');
    const account = await cognitive.accounts.get(RG, 'claims-openai');
    assert.equal(account.kind, 'OpenAI');
    assert.equal(account.properties?.customSubDomainName, 'claims-openai');
    assert.equal(account.properties?.endpoint, `${t.sim.info.armEndpoint}/aoai/claims-openai/`);
    assert.equal(account.properties?.disableLocalAuth, false);
    const deployments = [];
    for await (const d of cognitive.deployments.list(RG, 'claims-openai')) deployments.push(d.name);
    assert.deepEqual(deployments, ['gpt-4o-mini']);
    assert.equal(
      (await cognitive.deployments.get(RG, 'claims-openai', 'gpt-4o-mini')).properties?.model?.name,
      'gpt-4o-mini',
    );
    const keys = await cognitive.accounts.listKeys(RG, 'claims-openai');
    assert.match(keys.key1 ?? '', /^[0-9a-f]{32}$/);
    const regenerated = await cognitive.accounts.regenerateKey(RG, 'claims-openai', 'Key2');
    assert.equal(regenerated.key1, keys.key1);
    assert.notEqual(regenerated.key2, keys.key2);
    assert.ok(t.sim.control.secrets().includes(keys.key2!), 'a regenerated key stays a secret');
  });

  test('disableLocalAuth is an LRO; listKeys then fails with 400; re-enabling restores it', async () => {
    const { cognitive } = t.clientsAs('cutover-worker');
    // The update stays in progress until the test ends it, so it is seen Updating however slow the machine.
    t.sim.control.setDelays({ lroMs: 3_600_000 });
    try {
      const poller = await cognitive.accounts.beginUpdate(
        RG,
        'claims-openai',
        { properties: { disableLocalAuth: true } },
        { updateIntervalInMs: 50 },
      );
      assert.equal((await cognitive.accounts.get(RG, 'claims-openai')).properties?.provisioningState, 'Updating');
      t.sim.control.setDelays({ lroMs: 0 });
      assert.equal(t.sim.control.endWaits(), 1, 'the update was still in progress');
      const done = await poller.pollUntilDone();
      assert.equal(done.properties?.provisioningState, 'Succeeded');
      assert.equal(done.properties?.disableLocalAuth, true);
      const err = await failure(cognitive.accounts.listKeys(RG, 'claims-openai'));
      assert.equal(err.statusCode, 400);
      assert.equal(err.code, 'BadRequest');
      assert.match(err.message, /disableLocalAuth is set to be true/);
      const back = await cognitive.accounts.beginUpdateAndWait(
        RG,
        'claims-openai',
        { properties: { disableLocalAuth: false } },
        { updateIntervalInMs: 50 },
      );
      assert.equal(back.properties?.disableLocalAuth, false);
      await cognitive.accounts.listKeys(RG, 'claims-openai');
    } finally {
      t.sim.control.setDelays({ lroMs: 0 });
    }
  });
});

describe('Microsoft.Authorization', () => {
  test('role definitions by name at a scope', async () => {
    const { authorization } = t.clientsAs('cutover-worker');
    const found = [];
    for await (const d of authorization.roleDefinitions.list(accountScope, {
      filter: "roleName eq 'Cognitive Services OpenAI User'",
    }))
      found.push(d);
    assert.equal(found.length, 1);
    assert.equal(found[0].name, OPENAI_USER);
    assert.equal(found[0].id, `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`);
    assert.ok(
      found[0].permissions?.[0].dataActions?.includes(
        'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action',
      ),
    );
    const atScope = await authorization.roleDefinitions.get(accountScope, OPENAI_USER);
    assert.equal(atScope.roleName, 'Cognitive Services OpenAI User');
    // Reading at the subscription needs a role there (the worker's roles are resource-scoped).
    const denied = await failure(authorization.roleDefinitions.getById(found[0].id.slice(1)));
    assert.equal(denied.statusCode, 403);
    const byId = await t
      .clientsAs('reader')
      .authorization.roleDefinitions.getById(`providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`);
    assert.equal(byId.roleName, 'Cognitive Services OpenAI User');
  });

  test('create is idempotent (201 then 200); same triple under another name is 409; changed properties are 400', async () => {
    const { authorization } = t.clientsAs('cutover-worker');
    const principalId = randomUUID(); // unknown to the directory: accepted because principalType is given, like Azure
    const params = {
      roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`,
      principalId,
      principalType: 'ServicePrincipal' as const,
    };
    const name = randomUUID();
    const statuses: number[] = [];
    const onResponse = (r: { status: number }) => statuses.push(r.status);
    const created = await authorization.roleAssignments.create(accountScope, name, params, { onResponse });
    assert.equal(created.principalId, principalId);
    assert.equal(created.scope, `/${accountScope}`);
    assert.ok(created.createdOn instanceof Date);
    await authorization.roleAssignments.create(accountScope, name, params, { onResponse });
    assert.deepEqual(statuses, [201, 200]);

    const dup = await failure(authorization.roleAssignments.create(accountScope, randomUUID(), params));
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.code, 'RoleAssignmentExists');
    assert.match(dup.message, new RegExp(`The ID of the existing role assignment is ${name.replace(/-/g, '')}\\.$`));

    const changed = await failure(
      authorization.roleAssignments.create(accountScope, name, { ...params, principalId: randomUUID() }),
    );
    assert.equal(changed.statusCode, 400);
    assert.equal(changed.code, 'RoleAssignmentUpdateNotPermitted');

    const notGuid = await failure(authorization.roleAssignments.create(accountScope, 'not-a-guid', params));
    assert.equal(notGuid.statusCode, 400);
    assert.equal(notGuid.code, 'InvalidRoleAssignmentId');

    const listed = [];
    for await (const ra of authorization.roleAssignments.listForScope(accountScope, {
      filter: `assignedTo('${principalId}')`,
    }))
      listed.push(ra.name);
    assert.deepEqual(listed, [name]);
    const atScope = [];
    for await (const ra of authorization.roleAssignments.listForScope(accountScope, {
      filter: `atScope() and principalId eq '${principalId}'`,
    }))
      atScope.push(ra.name);
    assert.deepEqual(atScope, [name]);

    const deleted = await authorization.roleAssignments.delete(accountScope, name);
    assert.equal(deleted.name, name);
    const statusesDelete: number[] = [];
    await authorization.roleAssignments.delete(accountScope, name, {
      onResponse: (r) => statusesDelete.push(r.status),
    });
    assert.deepEqual(statusesDelete, [204]);
    const gone = await failure(authorization.roleAssignments.get(accountScope, name));
    assert.equal(gone.statusCode, 404);
  });

  test('PrincipalNotFound while a new identity replicates, unless principalType is set', async () => {
    const { authorization, web } = t.clientsAs('cutover-worker');
    // Replication never ends within the test, however slowly it runs.
    t.sim.control.setDelays({ principalReplicationMs: 3_600_000 });
    try {
      await web.webApps.updateSlot(RG, SITE, 'staging', { identity: { type: 'None' } });
      const site = await web.webApps.updateSlot(RG, SITE, 'staging', { identity: { type: 'SystemAssigned' } });
      const principalId = site.identity!.principalId!;
      const roleDefinitionId = `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`;
      const err = await failure(
        authorization.roleAssignments.create(accountScope, randomUUID(), { roleDefinitionId, principalId }),
      );
      assert.equal(err.statusCode, 400);
      assert.equal(err.code, 'PrincipalNotFound');
      const ok = await authorization.roleAssignments.create(accountScope, randomUUID(), {
        roleDefinitionId,
        principalId,
        principalType: 'ServicePrincipal',
      });
      assert.equal(ok.principalId, principalId);
    } finally {
      t.sim.control.setDelays({ principalReplicationMs: 0 });
    }
  });

  test('role assignment writes need roleAssignments/write: Website Contributor cannot assign on the site', async () => {
    const { authorization } = t.clientsAs('cutover-worker');
    const err = await failure(
      authorization.roleAssignments.create(siteScope, randomUUID(), {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`,
        principalId: randomUUID(),
        principalType: 'ServicePrincipal',
      }),
    );
    assert.equal(err.statusCode, 403);
    assert.equal(err.code, 'AuthorizationFailed');
    assert.match(err.message, /Microsoft\.Authorization\/roleAssignments\/write/);
  });

  test('lists for subscription, resource group and resource', async () => {
    const { authorization } = t.clientsAs('owner');
    const names = async (it: AsyncIterable<{ name?: string }>) => {
      const out: string[] = [];
      for await (const x of it) out.push(x.name!);
      return out;
    };
    const forSub = await names(authorization.roleAssignments.listForSubscription());
    const forRg = await names(authorization.roleAssignments.listForResourceGroup(RG));
    const forRes = await names(authorization.roleAssignments.listForResource(RG, 'Microsoft.Web', 'sites', SITE));
    assert.ok(forSub.includes('44444444-4444-4444-8444-444444444444'));
    assert.ok(forRg.length > 0 && forRes.length > 0);
  });
});

describe('authentication', () => {
  test('a token from another tenant is refused with InvalidAuthenticationTokenTenant', async () => {
    const { web } = t.clientsAs('outsider');
    const err = await failure(web.webApps.get(RG, SITE));
    assert.equal(err.statusCode, 401);
    assert.equal(err.code, 'InvalidAuthenticationTokenTenant');
  });

  test('an expired token is refused with ExpiredAuthenticationToken', async () => {
    t.sim.control.setDelays({ tokenLifetimeMs: 1_000 });
    try {
      const inner = t.credentialOf('cutover-worker');
      // A client that trusts its cached token longer than the token lives (clock skew, a long-lived cache): it
      // keeps the first token it got. That one is fetched first and used only once surely expired (no clock race).
      let first: AccessToken | null | undefined;
      const stale: TokenCredential = {
        async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
          first ??= await inner.getToken(scopes, options);
          return first && { token: first.token, expiresOnTimestamp: Date.now() + 3600_000 };
        },
      };
      assert.ok(await stale.getToken('https://management.azure.com/.default'));
      await new Promise((r) => setTimeout(r, 1_500));
      const { web } = createAzureClients(stale, sub, t.endpoints);
      const err = await failure(web.webApps.get(RG, SITE));
      assert.equal(err.statusCode, 401);
      assert.equal(err.code, 'ExpiredAuthenticationToken');
    } finally {
      t.sim.control.setDelays({ tokenLifetimeMs: 3600_000 });
    }
  });

  test('a token for another audience or a forged token is InvalidAuthenticationToken', async () => {
    const inner = t.credentialOf('cutover-worker');
    const wrongAudience: TokenCredential = {
      getToken: (_scopes, options) => inner.getToken('https://cognitiveservices.azure.com/.default', options),
    };
    const err = await failure(createAzureClients(wrongAudience, sub, t.endpoints).web.webApps.get(RG, SITE));
    assert.equal(err.statusCode, 401);
    assert.equal(err.code, 'InvalidAuthenticationToken');
    const forged: TokenCredential = {
      async getToken(scopes, options) {
        const real = await inner.getToken(scopes, options);
        const [h, p] = real!.token.split('.');
        return {
          token: `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`,
          expiresOnTimestamp: real!.expiresOnTimestamp,
        };
      },
    };
    const bad = await failure(createAzureClients(forged, sub, t.endpoints).web.webApps.get(RG, SITE));
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.code, 'InvalidAuthenticationToken');
  });

  test('missing token and missing api-version', async () => {
    const url = `${t.sim.info.armEndpoint}/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${SITE}`;
    const noToken = await httpsJson(`${url}?api-version=2025-05-01`, t.sim.info.caCert);
    assert.equal(noToken.status, 401);
    assert.equal((noToken.body as { error: { code: string } }).error.code, 'AuthenticationFailed');
    assert.match(
      String(noToken.headers['www-authenticate']),
      /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+", error="invalid_token"/,
    );
    const noVersion = await httpsJson(url, t.sim.info.caCert);
    assert.equal(noVersion.status, 400);
    assert.equal((noVersion.body as { error: { code: string } }).error.code, 'MissingApiVersionParameter');
  });
});
