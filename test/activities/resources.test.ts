import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  actionMatches,
  allows,
  authorizationScope,
  CHAT_COMPLETIONS_DATA_ACTION,
  fingerprint,
  roleAssignmentName,
  snapshotSetting,
} from '../../azure/resources';

const SCOPE =
  '/subscriptions/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a';

describe('role assignment names', () => {
  test('are GUIDs, the same for the same grant whatever the case, different for another grant', () => {
    const a = roleAssignmentName(SCOPE, 'P-1', '/roleDefinitions/R');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(roleAssignmentName(SCOPE.toUpperCase(), 'p-1', '/ROLEDEFINITIONS/r'), a);
    assert.notEqual(roleAssignmentName(SCOPE, 'P-2', '/roleDefinitions/R'), a);
    assert.notEqual(roleAssignmentName(SCOPE, 'P-1', '/roleDefinitions/S'), a);
  });
});

describe('setting snapshots never keep a secret', () => {
  const keys = { key1: 'k'.repeat(32), key2: 'j'.repeat(32) };
  test('an account key is recorded by which key it is', () => {
    assert.deepEqual(snapshotSetting('AZURE_OPENAI_API_KEY', keys.key2, keys), {
      kind: 'account-key',
      fingerprint: fingerprint(keys.key2),
      keyName: 'key2',
    });
  });
  test('Key Vault references and plain values are kept; secret-looking values only as fingerprints', () => {
    const kv = '@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/k)';
    assert.equal(snapshotSetting('X', kv, keys).kind, 'key-vault-reference');
    assert.deepEqual(snapshotSetting('AZURE_OPENAI_AUTH_MODE', 'key', keys), {
      kind: 'plain',
      fingerprint: fingerprint('key'),
      value: 'key',
    });
    const secretByName = snapshotSetting('DB_PASSWORD', 'hunter2', keys);
    const secretByShape = snapshotSetting('SOMETHING', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4', keys);
    for (const s of [secretByName, secretByShape]) {
      assert.equal(s.kind, 'secret');
      assert.ok(!JSON.stringify(s).includes('hunter2') && !JSON.stringify(s).includes('A1b2C3d4'));
    }
    assert.deepEqual(snapshotSetting('GONE', undefined, keys), { kind: 'absent' });
  });
  test('a fingerprint does not contain the value', () => {
    assert.ok(!fingerprint(keys.key1).includes(keys.key1.slice(0, 8)));
    assert.match(fingerprint('x'), /^sha256:[0-9a-f]{12}$/);
  });
});

describe('RBAC action patterns', () => {
  test('wildcards, case and the whole-segment wildcard that may stand for nothing', () => {
    assert.ok(actionMatches('Microsoft.CognitiveServices/*', 'microsoft.cognitiveservices/accounts/read'));
    assert.ok(actionMatches('*/read', 'Microsoft.Web/sites/read'));
    assert.ok(!actionMatches('*/read', 'Microsoft.Web/sites/write'));
    assert.ok(
      actionMatches(
        'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
        'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      ),
    );
  });
  test('notActions and data actions', () => {
    const contributor = [{ actions: ['*'], notActions: ['Microsoft.Authorization/*/Write'] }];
    assert.ok(allows(contributor, 'Microsoft.Web/sites/write'));
    assert.ok(!allows(contributor, 'Microsoft.Authorization/roleAssignments/write'));
    const openAiUser = [
      {
        dataActions: [
          'Microsoft.CognitiveServices/accounts/OpenAI/*/read',
          'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action',
        ],
      },
    ];
    assert.ok(allows(openAiUser, CHAT_COMPLETIONS_DATA_ACTION, true));
    assert.ok(!allows(openAiUser, CHAT_COMPLETIONS_DATA_ACTION, false));
  });
  test('scopes lose their leading slash for arm-authorization', () => {
    assert.equal(authorizationScope(SCOPE), SCOPE.slice(1));
  });
});
