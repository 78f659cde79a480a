/**
 * App Service Key Vault references, end to end: the platform resolves `@Microsoft.KeyVault(…)` settings when a
 * worker starts, with the slot's reference identity and Azure RBAC (propagation included), and the simulated app
 * calls Azure OpenAI with whatever it got — the key, or the reference text when the platform could not read it.
 * The reference status is read with `@azure/arm-appservice` (`listAppSettingsKeyVaultReferences[Slot]`,
 * `getAppSettingKeyVaultReference`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { type TestSim, eventually, failure, httpsJson } from './support';
import { PLATFORM, ROLES, VAULT, all, secretClientAs, startKeyVaultSimulator, vaultResourceId } from './kv-support';

const RG = 'rg-web';
let t: TestSim;
let vaultUri: string;

interface Health {
  status: string;
  authMode: string;
  error?: { code: string; message: string };
}

before(async () => {
  t = await startKeyVaultSimulator();
  vaultUri = t.sim.control.vaultUri(VAULT);
});
after(() => t.close());

const web = () => t.clientsAs('owner').web;
const health = async (site: string, slot?: string) => {
  const r = await httpsJson(`${t.sim.control.siteUrl(RG, site, slot)}/health`, t.sim.info.caCert);
  return { status: r.status, body: r.body as Health };
};
const whenUp = (site: string, slot?: string) =>
  eventually(async () => {
    const r = await httpsJson(`${t.sim.control.siteUrl(RG, site, slot)}/`, t.sim.info.caCert);
    return r.status === 200 ? true : undefined;
  });
const references = (site: string) => all(web().webApps.listAppSettingsKeyVaultReferences(RG, site));
/** The wire body (the SDK reads `identityType` as an object; App Service sends a string). */
const rawReferences = async (site: string) => {
  const res = await t.clientsAs('owner').cognitive.sendRequest(
    createPipelineRequest({
      url: `${t.sim.info.armEndpoint}/subscriptions/${PLATFORM}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${site}/config/configreferences/appsettings?api-version=2025-05-01`,
      method: 'GET',
    }),
  );
  return JSON.parse(res.bodyAsText ?? '{}') as {
    value: { id: string; name: string; type: string; properties: Record<string, string> }[];
  };
};
const principalOf = (name: string) =>
  Object.values(t.sim.control.state().principals).find((p) => p.name === name)!.objectId;
const versionsOf = async (secret: string) =>
  (await all(secretClientAs(t, 'secrets-officer').listPropertiesOfSecretVersions(secret))).map((v) => v.version!);

describe('Key Vault references', () => {
  test('SecretUri reference, system identity with the role: the app gets the key; status Resolved', async () => {
    const settings = await web().webApps.listApplicationSettings(RG, 'kv-uri-bot');
    assert.equal(
      settings.properties!.AZURE_OPENAI_API_KEY,
      `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/openai-key/)`,
    );
    const h = await health('kv-uri-bot');
    assert.equal(h.status, 200, JSON.stringify(h.body));
    assert.equal(h.body.authMode, 'key');
    const [ref] = await references('kv-uri-bot');
    const current = (await versionsOf('openai-key')).at(-1);
    assert.equal(ref.name, 'AZURE_OPENAI_API_KEY');
    assert.equal(ref.status, 'Resolved');
    assert.equal(ref.vaultName, VAULT);
    assert.equal(ref.secretName, 'openai-key');
    assert.equal(ref.secretVersion, undefined);
    assert.equal(ref.activeVersion, current);
    assert.equal(ref.source, 'KeyVault');
    assert.equal(ref.reference, settings.properties!.AZURE_OPENAI_API_KEY);
    const raw = await rawReferences('kv-uri-bot');
    assert.equal(raw.value[0].properties.identityType, 'SystemAssigned');
    assert.equal(raw.value[0].type, 'Microsoft.Web/sites/config/configreferences');
    assert.match(raw.value[0].id, /\/sites\/kv-uri-bot\/config\/configreferences\/appsettings\/AZURE_OPENAI_API_KEY$/);
    const one = await web().webApps.getAppSettingKeyVaultReference(RG, 'kv-uri-bot', 'AZURE_OPENAI_API_KEY');
    assert.equal(one.status, 'Resolved');
    assert.equal(
      (await failure(web().webApps.getAppSettingKeyVaultReference(RG, 'kv-uri-bot', 'AZURE_OPENAI_DEPLOYMENT')))
        .statusCode,
      404,
    );
    const platformRead = t.sim.control
      .requests()
      .filter((r) => r.surface === 'keyvault' && r.principal === principalOf('kv-uri-bot'));
    assert.ok(
      platformRead.some((r) => r.status === 200),
      'the platform read the secret as the app',
    );
  });

  test('VaultName reference pinned to a version, resolved with a user-assigned reference identity', async () => {
    const [first] = await versionsOf('openai-key');
    const settings = await web().webApps.listApplicationSettings(RG, 'kv-name-bot');
    assert.equal(
      settings.properties!.AZURE_OPENAI_API_KEY,
      `@Microsoft.KeyVault(VaultName=${VAULT};SecretName=openai-key;SecretVersion=${first})`,
    );
    const h = await health('kv-name-bot');
    assert.equal(h.status, 200, JSON.stringify(h.body));
    const [ref] = await references('kv-name-bot');
    assert.equal(ref.status, 'Resolved');
    assert.equal(ref.secretVersion, first);
    assert.equal(ref.activeVersion, first);
    assert.equal((await rawReferences('kv-name-bot')).value[0].properties.identityType, 'UserAssigned');
    const uami = principalOf('id-kv-reader');
    assert.ok(
      t.sim.control.requests().some((r) => r.surface === 'keyvault' && r.principal === uami && r.status === 200),
    );
  });

  test('a reference the identity cannot read stays literal and the app fails; a granted role counts from the next start after propagation', async () => {
    const denied = await health('kv-denied-bot');
    assert.equal(denied.status, 503);
    assert.equal(denied.body.error?.code, '401', 'the reference text went to Azure OpenAI as the key');
    const [ref] = await references('kv-denied-bot');
    assert.equal(ref.status, 'AccessToKeyVaultDenied');
    const [slotRef] = await all(web().webApps.listAppSettingsKeyVaultReferencesSlot(RG, 'kv-uri-bot', 'staging'));
    assert.equal(slotRef.status, 'AccessToKeyVaultDenied', "the staging slot's own identity has no role");
    assert.equal(slotRef.secretVersion, (await versionsOf('openai-key')).at(-1));
    assert.equal((await health('kv-uri-bot', 'staging')).status, 503);

    // Not propagated at all until the first restart has been checked, however long it takes; then within 1 s.
    t.sim.control.setDelays({ propagationMs: 3_600_000 });
    try {
      await t.clientsAs('owner').authorization.roleAssignments.create(vaultResourceId.slice(1), randomUUID(), {
        roleDefinitionId: `/subscriptions/${PLATFORM}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.secretsUser}`,
        principalId: principalOf('kv-denied-bot'),
        principalType: 'ServicePrincipal',
      });
      const assignedAt = Date.now();
      await web().webApps.restart(RG, 'kv-denied-bot');
      await whenUp('kv-denied-bot');
      assert.equal((await references('kv-denied-bot'))[0].status, 'AccessToKeyVaultDenied', 'not propagated yet');
      assert.equal((await health('kv-denied-bot')).status, 503);
      t.sim.control.setDelays({ propagationMs: 1_000 });
      await new Promise((r) => setTimeout(r, Math.max(0, assignedAt + 1_100 - Date.now())));
      await web().webApps.restart(RG, 'kv-denied-bot');
      await whenUp('kv-denied-bot');
      assert.equal((await references('kv-denied-bot'))[0].status, 'Resolved');
      const h = await health('kv-denied-bot');
      assert.equal(h.status, 200, JSON.stringify(h.body));
    } finally {
      t.sim.control.setDelays({ propagationMs: 0 });
    }
  });

  test('the key read from the vault is refused with AuthenticationTypeDisabled once local auth is off', async () => {
    const { cognitive } = t.clientsAs('owner');
    await cognitive.accounts.beginUpdateAndWait('rg-ai', 'shared-openai', { properties: { disableLocalAuth: true } });
    try {
      const h = await health('kv-uri-bot');
      assert.equal(h.status, 503);
      assert.equal(h.body.authMode, 'key');
      assert.equal(h.body.error?.code, 'AuthenticationTypeDisabled');
    } finally {
      await cognitive.accounts.beginUpdateAndWait('rg-ai', 'shared-openai', {
        properties: { disableLocalAuth: false },
      });
    }
    assert.equal((await health('kv-uri-bot')).status, 200);
  });

  test('both syntaxes, whitespace tolerated; unknown vault, secret or version and bad syntax; a rotation is picked up on restart', async () => {
    const worker = t.clientsAs('cutover-worker').web;
    const current = await worker.webApps.listApplicationSettings(RG, 'kv-uri-bot');
    await worker.webApps.updateApplicationSettings(RG, 'kv-uri-bot', {
      properties: {
        ...current.properties,
        KV_SPACED: '  @Microsoft.KeyVault( VaultName = kv-shared ; SecretName = generated )  ',
        KV_NO_VAULT: '@Microsoft.KeyVault(VaultName=kv-nope;SecretName=generated)',
        KV_NO_SECRET: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/nope/)`,
        KV_NO_VERSION: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/generated/${'f'.repeat(32)})`,
        KV_BAD: '@Microsoft.KeyVault(SecretUri=not a uri)',
      },
    });
    await whenUp('kv-uri-bot');
    const status: Record<string, string | undefined> = Object.fromEntries(
      (await references('kv-uri-bot')).map((r): [string, string | undefined] => [r.name ?? '', r.status]),
    );
    assert.deepEqual(status, {
      AZURE_OPENAI_API_KEY: 'Resolved',
      KV_SPACED: 'Resolved',
      KV_NO_VAULT: 'VaultNotFound',
      KV_NO_SECRET: 'SecretNotFound',
      KV_NO_VERSION: 'SecretVersionNotFound',
      KV_BAD: 'InvalidSyntax',
    });

    const keys = await t.clientsAs('owner').cognitive.accounts.listKeys('rg-ai', 'shared-openai');
    const rotated = await secretClientAs(t, 'secrets-officer').setSecret('openai-key', keys.key2!);
    assert.notEqual(
      (await references('kv-uri-bot')).find((r) => r.name === 'AZURE_OPENAI_API_KEY')!.activeVersion,
      rotated.properties.version,
      'a running worker keeps the value it started with',
    );
    await web().webApps.restart(RG, 'kv-uri-bot');
    await whenUp('kv-uri-bot');
    const after = (await references('kv-uri-bot')).find((r) => r.name === 'AZURE_OPENAI_API_KEY')!;
    assert.equal(after.activeVersion, rotated.properties.version);
    assert.equal((await health('kv-uri-bot')).status, 200);
  });
});
