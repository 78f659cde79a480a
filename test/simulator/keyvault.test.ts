/**
 * Key Vault through the official clients: the secrets data plane with `@azure/keyvault-secrets` (challenge-based
 * authentication, Azure RBAC data actions with their propagation delay, Key Vault's 401/403/404 bodies) and the
 * vault resource with `@azure/arm-keyvault`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestSim, eventually, failure, httpsJson, startTestSimulator } from './support';
import {
  KV_FIXTURE,
  PLATFORM,
  ROLES,
  VAULT,
  all,
  keyVaultManagementAs,
  secretClientAs,
  startKeyVaultSimulator,
  vaultResourceId,
} from './kv-support';

let t: TestSim;
let vaultUri: string;

before(async () => {
  t = await startKeyVaultSimulator();
  vaultUri = t.sim.control.vaultUri(VAULT);
});
after(() => t.close());

const accountKeys = () => t.clientsAs('owner').cognitive.accounts.listKeys('rg-ai', 'shared-openai');
const vaultToken = async (principal: string, scope = 'https://vault.azure.net/.default') =>
  (await t.credentialOf(principal).getToken(scope))!.token;
const rawGet = (pathAndQuery: string, token?: string) =>
  httpsJson(`${vaultUri}${pathAndQuery}`, t.sim.info.caCert, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
const assign = async (principalId: string, role: string, scope = vaultResourceId) => {
  const name = randomUUID();
  await t.clientsAs('owner').authorization.roleAssignments.create(scope.slice(1), name, {
    roleDefinitionId: `/subscriptions/${PLATFORM}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
    principalId,
    principalType: 'ServicePrincipal',
  });
  return name;
};
const objectIdOf = (principal: string) =>
  Object.values(t.sim.control.state().principals).find((p) => p.name === principal)!.objectId;

describe('challenge-based authentication', () => {
  test('no token: 401 with the Key Vault challenge; the SDK answers it and retries with a vault token', async () => {
    const res = await rawGet('secrets/generated/?api-version=2025-07-01');
    assert.equal(res.status, 401);
    assert.equal(
      res.headers['www-authenticate'],
      `Bearer authorization="${t.sim.info.authorityHost}/${t.sim.info.tenantId}", resource="https://vault.azure.net"`,
    );
    assert.deepEqual(res.body, {
      error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
    });
    t.sim.control.clearRequests();
    const secret = await secretClientAs(t, 'secrets-officer').getSecret('generated');
    assert.equal(secret.name, 'generated');
    const log = t.sim.control.requests().filter((r) => r.surface === 'keyvault');
    assert.deepEqual(
      log.map((r) => r.status),
      [401, 200],
      'the first request goes without a token, the second carries the one the challenge asked for',
    );
    const entra = t.sim.control.requests().filter((r) => r.surface === 'entra' && r.method === 'POST');
    assert.ok(entra.length >= 1, 'the SDK fetched a token for the challenged resource');
  });

  test('a token for another audience or of another tenant is refused with 401 and the challenge', async () => {
    const arm = await rawGet(
      'secrets/generated/?api-version=2025-07-01',
      await vaultToken('secrets-officer', 'https://management.azure.com/.default'),
    );
    assert.equal(arm.status, 401);
    assert.match(
      (arm.body as { error: { message: string } }).error.message,
      /^AKV10022: Invalid audience\. Expected https:\/\/vault\.azure\.net, found: https:\/\/management\.azure\.com\.$/,
    );
    assert.ok(arm.headers['www-authenticate']);
    const other = await rawGet('secrets/generated/?api-version=2025-07-01', await vaultToken('outsider'));
    assert.equal(other.status, 401);
    assert.match((other.body as { error: { message: string } }).error.message, /^AKV10032: Invalid issuer\./);
  });
});

describe('secrets data plane', () => {
  test('get latest and a given version, list versions (properties only), list secrets, set a new version', async () => {
    const client = secretClientAs(t, 'secrets-officer');
    const keys = await accountKeys();
    const latest = await client.getSecret('openai-key');
    assert.equal(latest.value, keys.key1, 'the current version holds key1');
    assert.equal(latest.properties.vaultUrl, vaultUri.replace(/\/$/, ''));
    assert.equal(latest.properties.enabled, true);
    assert.equal(latest.properties.recoveryLevel, 'Recoverable+Purgeable');
    const versions = await all(client.listPropertiesOfSecretVersions('openai-key'));
    assert.equal(versions.length, 2);
    assert.ok(versions.every((v) => !('value' in v)));
    assert.equal(versions.at(-1)!.version, latest.properties.version);
    const old = await client.getSecret('openai-key', { version: versions[0].version! });
    assert.equal(old.value, keys.key2, 'the first version holds key2');
    const names = (await all(client.listPropertiesOfSecrets())).map((p) => p.name).sort();
    assert.deepEqual(names, ['generated', 'openai-key', 'retired']);

    // @azure/keyvault-secrets 4.11.0's setSecret leaves contentType out of the request, so the first version is set
    // on the wire (the SDK reads it back below).
    const put = await httpsJson(`${vaultUri}secrets/rotated?api-version=2025-07-01`, t.sim.info.caCert, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await vaultToken('secrets-officer')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'first-value', contentType: 'text/plain', tags: { owner: 'cutover' } }),
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const set = {
      value: (put.body as { value: string }).value,
      properties: {
        version: String((put.body as { id: string }).id)
          .split('/')
          .pop(),
      },
    };
    assert.equal(set.value, 'first-value');
    assert.match(set.properties.version ?? '', /^[0-9a-f]{32}$/);
    const second = await client.setSecret('rotated', 'second-value');
    assert.notEqual(second.properties.version, set.properties.version);
    assert.equal((await client.getSecret('rotated')).value, 'second-value');
    const first = await client.getSecret('rotated', { version: set.properties.version! });
    assert.equal(first.value, 'first-value');
    assert.deepEqual(first.properties.tags, { owner: 'cutover' });
    assert.ok(t.sim.control.secrets().includes('second-value'), 'a value set through the data plane is a secret too');
  });

  test('paging: maxresults and the nextLink Key Vault returns', async () => {
    const token = await vaultToken('secrets-officer');
    const page = await rawGet('secrets/openai-key/versions?api-version=2025-07-01&maxresults=1', token);
    const body = page.body as { value: unknown[]; nextLink: string | null };
    assert.equal(body.value.length, 1);
    assert.match(
      body.nextLink ?? '',
      /secrets\/openai-key\/versions\?api-version=2025-07-01&\$skiptoken=[\w-]+&maxresults=1$/,
    );
    const next = await httpsJson(body.nextLink!, t.sim.info.caCert, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((next.body as { value: unknown[]; nextLink: null }).nextLink, null);
    const pages = [];
    for await (const p of secretClientAs(t, 'secrets-officer').listPropertiesOfSecrets().byPage({ maxPageSize: 2 }))
      pages.push(p.length);
    assert.ok(pages.length >= 2 && pages.every((n) => n <= 2), JSON.stringify(pages));
  });

  test('unknown secret or version 404 SecretNotFound; a disabled one 403 SecretDisabled', async () => {
    const client = secretClientAs(t, 'secrets-officer');
    const missing = await failure(client.getSecret('no-such-secret'));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, 'SecretNotFound');
    assert.match(missing.message, /^A secret with \(name\/id\) no-such-secret was not found in this key vault\./);
    const badVersion = await failure(client.getSecret('generated', { version: 'f'.repeat(32) }));
    assert.equal(badVersion.statusCode, 404);
    assert.equal(badVersion.code, 'SecretNotFound');
    const disabled = await failure(client.getSecret('retired'));
    assert.equal(disabled.statusCode, 403);
    assert.equal(disabled.code, 'Forbidden');
    assert.equal(disabled.message, 'Operation get is not allowed on a disabled secret.');
  });

  test('RBAC: Key Vault Reader reads metadata only; a secret-scoped Secrets User reads that secret only', async () => {
    const reader = secretClientAs(t, 'vault-reader');
    assert.equal((await all(reader.listPropertiesOfSecrets())).length >= 3, true);
    assert.equal((await all(reader.listPropertiesOfSecretVersions('openai-key'))).length, 2);
    const denied = await failure(reader.getSecret('openai-key'));
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'Forbidden');
    const raw = await rawGet('secrets/openai-key/?api-version=2025-07-01', await vaultToken('vault-reader'));
    const error = (raw.body as { error: { message: string; innerError: { code: string } } }).error;
    assert.equal(error.innerError.code, 'ForbiddenByRbac');
    const oid = objectIdOf('vault-reader');
    assert.ok(
      error.message.startsWith(
        'Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n',
      ),
    );
    assert.match(
      error.message,
      new RegExp(`Caller: appid=[0-9a-f-]{36};oid=${oid};iss=https://sts.windows.net/${t.sim.info.tenantId}/\\r\\n`),
    );
    assert.ok(error.message.includes("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n"));
    assert.ok(error.message.includes(`Resource: '${vaultResourceId.toLowerCase()}/secrets/openai-key'\r\n`));
    assert.ok(
      error.message.endsWith(
        'Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: kv-shared;location=westeurope\r\n',
      ),
    );
    assert.equal((await failure(reader.setSecret('x', 'y'))).statusCode, 403);

    const user = secretClientAs(t, 'secrets-user');
    assert.ok((await user.getSecret('generated')).value);
    assert.equal((await failure(user.getSecret('openai-key'))).statusCode, 403);
    assert.equal(
      (await failure(all(user.listPropertiesOfSecrets()))).statusCode,
      403,
      'listing needs readMetadata on the vault',
    );
    // Authorization comes before existence: without a role, a missing secret is a 403, not a 404.
    assert.equal((await failure(user.getSecret('no-such-secret'))).statusCode, 403);
  });

  test('a new role assignment takes propagationMs to reach the data plane, and a deleted one as long to leave', async () => {
    // Propagation is judged when a request arrives: an hour while the test checks the state right after the
    // assignment (however slow the machine, it is "right after"), then 1.2 s, which must have passed when it flips.
    const HOUR = 3_600_000;
    t.sim.control.setDelays({ propagationMs: HOUR });
    try {
      const client = secretClientAs(t, 'cutover-worker');
      assert.equal((await failure(client.getSecret('generated'))).statusCode, 403);
      const assignedAt = Date.now();
      const name = await assign(objectIdOf('cutover-worker'), ROLES.secretsUser);
      assert.equal((await failure(client.getSecret('generated'))).statusCode, 403, 'not yet propagated');
      t.sim.control.setDelays({ propagationMs: 1_200 });
      await eventually(async () => ((await client.getSecret('generated').catch(() => undefined)) ? true : undefined));
      assert.ok(Date.now() - assignedAt >= 1_200);
      // Still honoured for 1.2 s after the deletion: refused no sooner (a deletion honoured at once would be refused
      // at the first try).
      const deletedAt = Date.now();
      await t.clientsAs('owner').authorization.roleAssignments.delete(vaultResourceId.slice(1), name);
      await eventually(async () =>
        (await failure(client.getSecret('generated'))).statusCode === 403 ? true : undefined,
      );
      assert.ok(Date.now() - deletedAt >= 1_200, 'honoured for propagationMs after the deletion');
    } finally {
      t.sim.control.setDelays({ propagationMs: 0 });
    }
  });

  test('secret values are secrets: listed by secrets(), never in the request log', async () => {
    const keys = await accountKeys();
    const secrets = t.sim.control.secrets();
    const generated = await secretClientAs(t, 'secrets-officer').getSecret('generated');
    assert.ok(secrets.includes(keys.key1!) && secrets.includes(generated.value!));
    const log = JSON.stringify(t.sim.control.requests());
    assert.ok(!log.includes(generated.value!) && !log.includes(keys.key1!));
  });
});

describe('Microsoft.KeyVault/vaults', () => {
  test('get and list: an RBAC-mode vault whose vaultUri is its data plane', async () => {
    const vault = await keyVaultManagementAs(t, 'owner').vaults.get('rg-ai', VAULT);
    assert.equal(vault.id, vaultResourceId);
    assert.equal(vault.type, 'Microsoft.KeyVault/vaults');
    assert.equal(vault.location, 'westeurope');
    assert.equal(vault.properties.vaultUri, vaultUri);
    assert.equal(vault.properties.tenantId, t.sim.info.tenantId);
    assert.equal(vault.properties.enableRbacAuthorization, true);
    assert.deepEqual(vault.properties.sku, { family: 'A', name: 'standard' });
    assert.deepEqual(vault.properties.accessPolicies, []);
    const listed = await all(keyVaultManagementAs(t, 'owner').vaults.listBySubscription());
    assert.deepEqual(
      listed.map((v) => v.name),
      [VAULT],
    );
    const inRg = await all(keyVaultManagementAs(t, 'owner').vaults.listByResourceGroup('rg-ai'));
    assert.equal(inRg.length, 1);
  });

  test('Microsoft.KeyVault/vaults/read: Key Vault Reader has it, Key Vault Secrets User has none', async () => {
    assert.equal((await keyVaultManagementAs(t, 'vault-reader').vaults.get('rg-ai', VAULT)).name, VAULT);
    const denied = await failure(keyVaultManagementAs(t, 'secrets-user').vaults.get('rg-ai', VAULT));
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'AuthorizationFailed');
    assert.match(denied.message, /Microsoft\.KeyVault\/vaults\/read/);
    const missing = await failure(keyVaultManagementAs(t, 'owner').vaults.get('rg-ai', 'kv-nope'));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, 'ResourceNotFound');
  });
});

describe('vault ports and the state file', () => {
  test('a restart restores secrets and keeps stored references pointing at the vault', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-kv-state-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const first = await startTestSimulator({ scenario: KV_FIXTURE, stateFile });
      const set = await secretClientAs(first, 'secrets-officer').setSecret('survivor', 'kept-across-restarts');
      await first.close();
      const second = await startTestSimulator({ scenario: KV_FIXTURE, stateFile });
      try {
        const uri = second.sim.control.vaultUri(VAULT);
        const kept = await secretClientAs(second, 'secrets-officer').getSecret('survivor');
        assert.equal(kept.properties.version, set.properties.version);
        const settings = await second.clientsAs('owner').web.webApps.listApplicationSettings('rg-web', 'kv-uri-bot');
        assert.equal(
          settings.properties!.AZURE_OPENAI_API_KEY,
          `@Microsoft.KeyVault(SecretUri=${uri}secrets/openai-key/)`,
        );
        const health = await httpsJson(
          `${second.sim.control.siteUrl('rg-web', 'kv-uri-bot')}/health`,
          second.sim.info.caCert,
        );
        assert.equal(health.status, 200, JSON.stringify(health.body));
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
