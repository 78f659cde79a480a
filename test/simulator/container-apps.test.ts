/**
 * Azure Container Apps in the simulator (issue 11, kind 2), through the real @azure/arm-appcontainers client:
 * container apps with identities, secrets (values and Key Vault references) and env vars naming them, revisions
 * made by template changes, traffic weights and each revision's own FQDN on the data plane, the managed-identity
 * endpoint of their workers, Azure's validation and RBAC on Microsoft.App actions.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ContainerApp } from '@azure/arm-appcontainers';
import { type TestSim, httpsJson, startTestSimulator } from './support';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'container-apps.yaml');
const RG = 'rg-aca';

let t: TestSim;
const aca = (principal = 'cutover-worker') => t.clientsAs(principal).containerApps;
const lro = { updateIntervalInMs: 50 };

before(async () => {
  t = await startTestSimulator({ scenario: SCENARIO });
});
after(() => t.close());

const update = (name: string, body: Omit<ContainerApp, 'location'>) =>
  aca().containerApps.beginUpdateAndWait(RG, name, { location: 'eastus', ...body }, lro);
const get = (url: string) => httpsJson(url, t.sim.info.caCert);
const chat = (url: string) =>
  httpsJson(`${url}/chat`, t.sim.info.caCert, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'hello' }),
  });
const https = (fqdn: string) => `https://${fqdn}`;

/** The app's template as a new revision `suffix` whose env says APP_VERSION=suffix. */
function versioned(app: ContainerApp, suffix: string): ContainerApp['template'] {
  const container = app.template!.containers![0];
  return {
    revisionSuffix: suffix,
    containers: [{ ...container, env: [...container.env!, { name: 'APP_VERSION', value: suffix }] }],
  };
}

function rejectsWith(status: number, code: string) {
  return (e: { statusCode?: number; code?: string }) => {
    assert.equal(e.statusCode, status);
    assert.equal(e.code, code);
    return true;
  };
}

describe('container apps on ARM', () => {
  test('GET answers identity, configuration (secrets by name), ingress FQDN, template and revision names', async () => {
    const app = await aca().containerApps.get(RG, 'claims-aca');
    assert.equal(app.type, 'Microsoft.App/containerApps');
    assert.equal(app.identity, undefined);
    assert.equal(app.provisioningState, 'Succeeded');
    assert.equal(app.configuration?.activeRevisionsMode, 'Single');
    assert.deepEqual(app.configuration?.secrets, [{ name: 'openai-key' }]);
    assert.deepEqual(
      app.template?.containers?.[0].env?.find((e) => e.name === 'AZURE_OPENAI_API_KEY'),
      { name: 'AZURE_OPENAI_API_KEY', secretRef: 'openai-key' },
    );
    assert.equal(app.latestRevisionName, 'claims-aca--v1');
    assert.equal(app.latestReadyRevisionName, 'claims-aca--v1');
    assert.match(app.configuration?.ingress?.fqdn ?? '', /\/containerapps\/claims-aca$/);
    assert.deepEqual(app.configuration?.ingress?.traffic, [{ latestRevision: true, weight: 100 }]);
    const listed: string[] = [];
    for await (const a of aca().containerApps.listByResourceGroup(RG)) listed.push(a.name ?? '');
    assert.deepEqual(listed.sort(), ['brown-aca', 'canary-aca', 'claims-aca', 'kv-aca', 'load-aca', 'rollback-aca']);
    await assert.rejects(aca().containerApps.get(RG, 'no-such-app'), rejectsWith(404, 'ResourceNotFound'));
  });

  test('listSecrets answers values and Key Vault references; the key is the account key', async () => {
    const { key1 } = await t.clientsAs('cutover-worker').cognitive.accounts.listKeys(RG, 'aca-openai');
    const secrets = await aca().containerApps.listSecrets(RG, 'claims-aca');
    assert.deepEqual(secrets.value, [{ name: 'openai-key', value: key1 }]);
    const kv = await aca().containerApps.listSecrets(RG, 'kv-aca');
    assert.equal(kv.value[0].value, undefined);
    assert.match(kv.value[0].keyVaultUrl ?? '', /\/secrets\/aca-openai-key$/);
    assert.match(kv.value[0].identity ?? '', /userAssignedIdentities\/id-kv-reader$/);
  });

  test('RBAC: a Reader reads the app but may neither list its secrets nor change it', async () => {
    await aca('auditor').containerApps.get(RG, 'claims-aca');
    await assert.rejects(
      aca('auditor').containerApps.listSecrets(RG, 'claims-aca'),
      rejectsWith(403, 'AuthorizationFailed'),
    );
    await assert.rejects(
      aca('auditor').containerApps.beginUpdateAndWait(RG, 'claims-aca', { location: 'eastus', tags: { a: 'b' } }, lro),
      rejectsWith(403, 'AuthorizationFailed'),
    );
  });

  test('validation: a secretRef to no secret, a secret without a value, weights not summing to 100 change nothing', async () => {
    const before = await aca().containerApps.get(RG, 'canary-aca');
    const container = before.template!.containers![0];
    const refused = (body: Omit<ContainerApp, 'location'>, code: string) =>
      assert.rejects(update('canary-aca', body), rejectsWith(400, code));
    const traffic = (revisionName: string, weight: number): Omit<ContainerApp, 'location'> => ({
      configuration: { ingress: { traffic: [{ revisionName, weight }] } },
    });
    await refused(
      { template: { containers: [{ ...container, env: [{ name: 'X', secretRef: 'missing' }] }] } },
      'ContainerAppSecretRefNotFound',
    );
    await refused({ configuration: { secrets: [{ name: 'openai-key' }] } }, 'ContainerAppSecretInvalid');
    await refused(traffic('canary-aca--blue', 90), 'ContainerAppInvalidTrafficWeight');
    await refused(traffic('canary-aca--nope', 100), 'ContainerAppInvalidTrafficWeight');
    const after = await aca().containerApps.get(RG, 'canary-aca');
    assert.deepEqual(after, before);
  });
});

describe('container apps on the data plane', () => {
  test('the app FQDN and its revision FQDN serve the revision, its env with the secret resolved (key and Key Vault)', async () => {
    for (const name of ['claims-aca', 'kv-aca']) {
      const app = await aca().containerApps.get(RG, name);
      const revision = await aca().containerAppsRevisions.getRevision(RG, name, app.latestRevisionName!);
      assert.equal(revision.active, true);
      assert.equal(revision.trafficWeight, 100);
      for (const fqdn of [app.configuration!.ingress!.fqdn!, revision.fqdn!]) {
        const r = await chat(https(fqdn));
        assert.equal(r.status, 200, `${name} at ${fqdn}: ${JSON.stringify(r.body)}`);
        assert.equal((r.body as { authMode: string }).authMode, 'key');
      }
    }
    assert.equal((await get(`${t.sim.info.armEndpoint}/containerapps/claims-aca--nope/`)).status, 404);
  });

  test('single-revision mode: a template change makes a new revision, which replaces the old one', async () => {
    const before = await aca().containerApps.get(RG, 'claims-aca');
    const updated = await update('claims-aca', {
      identity: { type: 'SystemAssigned' },
      template: versioned(before, 'v2'),
    });
    assert.equal(updated.latestRevisionName, 'claims-aca--v2');
    assert.ok(updated.identity?.principalId);
    const revisions: Record<string, { active?: boolean; trafficWeight?: number }> = {};
    for await (const r of aca().containerAppsRevisions.listRevisions(RG, 'claims-aca'))
      revisions[r.name!] = { active: r.active, trafficWeight: r.trafficWeight };
    assert.deepEqual(revisions, {
      'claims-aca--v1': { active: false, trafficWeight: 0 },
      'claims-aca--v2': { active: true, trafficWeight: 100 },
    });
    const r = await get(`${https(updated.configuration!.ingress!.fqdn!)}/`);
    assert.equal((r.body as { version: string }).version, 'v2');
    // Its worker's managed-identity endpoint answers for the app's system identity (which has no role yet).
    t.sim.control.clearRequests();
    const id = await get(`${https(updated.configuration!.ingress!.fqdn!)}/health/identity`);
    assert.equal((id.body as { error?: { code?: string } }).error?.code, 'PermissionDenied', JSON.stringify(id.body));
    const tokens = t.sim.control.requests().filter((r) => r.surface === 'msi' && r.status === 200);
    assert.deepEqual(
      tokens.map((r) => r.principal),
      [updated.identity?.principalId],
    );
  });

  test('multiple-revision mode: a new revision at 0 % answers on its own FQDN only; traffic then splits by weight', async () => {
    const app = await aca().containerApps.get(RG, 'canary-aca');
    const green = await update('canary-aca', {
      configuration: {
        ingress: {
          traffic: [
            { revisionName: 'canary-aca--blue', weight: 100 },
            { revisionName: 'canary-aca--green', weight: 0, label: 'green' },
          ],
        },
      },
      template: versioned(app, 'green'),
    });
    const fqdn = https(green.configuration!.ingress!.fqdn!);
    const versions = async (n: number) => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const v = String(((await get(`${fqdn}/`)).body as { version: string | null }).version);
        seen[v] = (seen[v] ?? 0) + 1;
      }
      return seen;
    };
    assert.deepEqual(await versions(10), { null: 10 });
    const rev = await aca().containerAppsRevisions.getRevision(RG, 'canary-aca', 'canary-aca--green');
    assert.equal(rev.trafficWeight, 0);
    assert.equal(((await get(`${https(rev.fqdn!)}/`)).body as { version: string }).version, 'green');
    await update('canary-aca', {
      configuration: {
        ingress: {
          traffic: [
            { revisionName: 'canary-aca--blue', weight: 50 },
            { revisionName: 'canary-aca--green', weight: 50 },
          ],
        },
      },
    });
    assert.deepEqual(await versions(10), { null: 5, green: 5 });
    const revisions: string[] = [];
    for await (const r of aca().containerAppsRevisions.listRevisions(RG, 'canary-aca')) revisions.push(r.name!);
    assert.deepEqual(revisions, ['canary-aca--blue', 'canary-aca--green'], 'a traffic change makes no revision');
    await aca().containerAppsRevisions.deactivateRevision(RG, 'canary-aca', 'canary-aca--green');
    assert.equal((await aca().containerAppsRevisions.getRevision(RG, 'canary-aca', 'canary-aca--green')).active, false);
    assert.equal((await get(`${https(rev.fqdn!)}/`)).status, 404);
  });

  test('a changed secret reaches a running revision only when it restarts; a new revision is made of none', async () => {
    const app = await aca().containerApps.get(RG, 'rollback-aca');
    const url = https(app.configuration!.ingress!.fqdn!);
    const rev = app.latestRevisionName!;
    await update('rollback-aca', { configuration: { secrets: [{ name: 'openai-key', value: 'not-the-key' }] } });
    assert.equal((await aca().containerApps.get(RG, 'rollback-aca')).latestRevisionName, rev, 'no new revision');
    assert.equal((await chat(url)).status, 200, 'the running revision still has the old value');
    await aca().containerAppsRevisions.restartRevision(RG, 'rollback-aca', rev);
    const after = await chat(url);
    assert.equal(after.status, 502, JSON.stringify(after.body));
    assert.equal((after.body as { error?: { code?: string } }).error?.code, '401', JSON.stringify(after.body));
  });

  test('a new revision whose Key Vault secret cannot be read fails; the old revision keeps serving', async () => {
    const app = await aca().containerApps.get(RG, 'kv-aca');
    const [secret] = (await aca().containerApps.listSecrets(RG, 'kv-aca')).value;
    const missing = secret.keyVaultUrl!.replace(/aca-openai-key$/, 'no-such-secret');
    await assert.rejects(
      update('kv-aca', {
        configuration: { secrets: [secret, { name: 'other-key', keyVaultUrl: missing, identity: secret.identity }] },
        template: {
          revisionSuffix: 'broken',
          containers: [
            { ...app.template!.containers![0], env: [{ name: 'AZURE_OPENAI_API_KEY', secretRef: 'other-key' }] },
          ],
        },
      }),
      (e: Error) => {
        assert.match(e.message, /Unable to get value using Managed identity/);
        return true;
      },
    );
    const broken = await aca().containerAppsRevisions.getRevision(RG, 'kv-aca', 'kv-aca--broken');
    assert.equal(broken.provisioningState, 'Failed');
    assert.equal((await aca().containerApps.get(RG, 'kv-aca')).provisioningState, 'Failed');
    const served = await chat(https(app.configuration!.ingress!.fqdn!));
    assert.equal(served.status, 200, JSON.stringify(served.body));
  });

  test('reset brings the scenario back: the first revisions serve again, later ones are gone', async () => {
    const later = await aca().containerAppsRevisions.getRevision(RG, 'claims-aca', 'claims-aca--v2');
    await t.sim.control.reset();
    const app = await aca().containerApps.get(RG, 'claims-aca');
    assert.equal(app.latestRevisionName, 'claims-aca--v1');
    const served = await get(`${https(app.configuration!.ingress!.fqdn!)}/`);
    assert.equal((served.body as { version: string | null }).version, null, JSON.stringify(served.body));
    assert.equal((await get(`${https(later.fqdn!)}/`)).status, 404);
  });
});
