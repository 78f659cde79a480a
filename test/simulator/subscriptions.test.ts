/**
 * Subscriptions with `@azure/arm-resources-subscriptions`: who sees which subscription (the token's tenant, a role
 * at or below the subscription), the "visible but not readable at subscription scope" case, and an estate spread
 * over three subscriptions in two tenants whose apps call an account of another subscription with its key.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAzureClients } from '../../azure/clients';
import { type TestSim, eventually, failure, httpsJson } from './support';
import { APPS, CONTOSO, PARTNER, PLATFORM, all, startKeyVaultSimulator, subscriptionClientAs } from './kv-support';

let t: TestSim;

before(async () => {
  t = await startKeyVaultSimulator();
});
after(() => t.close());

const visibleTo = async (principal: string) =>
  (await all(subscriptionClientAs(t, principal).subscriptions.list())).map((s) => s.subscriptionId).sort();
const clientsIn = (principal: string, subscriptionId: string) =>
  createAzureClients(t.credentialOf(principal), subscriptionId, t.endpoints);
const health = async (rg: string, site: string) =>
  (await httpsJson(`${t.sim.control.siteUrl(rg, site)}/health`, t.sim.info.caCert)) as {
    status: number;
    body: { error?: { code: string } };
  };

describe('subscriptions', () => {
  test('list: the subscriptions of the token tenant in which the caller holds some role', async () => {
    assert.deepEqual(await visibleTo('owner'), [PLATFORM, APPS].sort());
    assert.deepEqual(await visibleTo('cutover-worker'), [PLATFORM]);
    assert.deepEqual(await visibleTo('rg-only'), [APPS], 'a role on one resource group is enough to see it');
    assert.deepEqual(await visibleTo('secrets-user'), [PLATFORM], 'so is a data role on one secret of a vault');
    assert.deepEqual(await visibleTo('outsider'), [PARTNER], 'only its own tenant');
    const [platform] = (await all(subscriptionClientAs(t, 'owner').subscriptions.list())).filter(
      (s) => s.subscriptionId === PLATFORM,
    );
    assert.equal(platform.id, `/subscriptions/${PLATFORM}`);
    assert.equal(platform.displayName, 'platform');
    assert.equal(platform.tenantId, CONTOSO);
    assert.equal(platform.state, 'Enabled');
    assert.equal(platform.authorizationSource, 'RoleBased');
    assert.deepEqual(platform.tags, { costCenter: 'platform' });
    assert.equal(platform.subscriptionPolicies?.spendingLimit, 'Off');
    const [partner] = await all(subscriptionClientAs(t, 'outsider').subscriptions.list());
    assert.deepEqual(partner.managedByTenants, [{ tenantId: CONTOSO }]);
  });

  test('get: visible ones only; a token of another tenant is refused like ARM does', async () => {
    const apps = await subscriptionClientAs(t, 'rg-only').subscriptions.get(APPS);
    assert.equal(apps.displayName, 'apps');
    const hidden = await failure(subscriptionClientAs(t, 'rg-only').subscriptions.get(PLATFORM));
    assert.equal(hidden.statusCode, 403);
    assert.equal(hidden.code, 'AuthorizationFailed');
    assert.match(hidden.message, /Microsoft\.Resources\/subscriptions\/read/);
    const otherTenant = await failure(subscriptionClientAs(t, 'outsider').subscriptions.get(PLATFORM));
    assert.equal(otherTenant.statusCode, 401);
    assert.equal(otherTenant.code, 'InvalidAuthenticationTokenTenant');
  });

  test('visible but not readable at subscription scope: sites listed in the resource group, 403 at the subscription', async () => {
    const { web } = clientsIn('rg-only', APPS);
    const inRg = await all(web.webApps.listByResourceGroup('rg-apps'));
    assert.deepEqual(
      inRg.map((s) => s.name),
      ['cross-sub-bot'],
    );
    const atSub = await failure(all(web.webApps.list()));
    assert.equal(atSub.statusCode, 403);
    assert.equal(atSub.code, 'AuthorizationFailed');
    const ownerSites = await all(clientsIn('owner', APPS).web.webApps.list());
    assert.deepEqual(
      ownerSites.map((s) => s.name),
      ['cross-sub-bot'],
    );
  });

  test('visibility follows role assignments at once (ARM is not subject to propagation)', async () => {
    assert.deepEqual(await visibleTo('secrets-officer'), [PLATFORM]);
    const scope = `subscriptions/${APPS}/resourceGroups/rg-batch`;
    const name = randomUUID();
    const officer = Object.values(t.sim.control.state().principals).find((p) => p.name === 'secrets-officer')!;
    await clientsIn('owner', APPS).authorization.roleAssignments.create(scope, name, {
      roleDefinitionId: `/subscriptions/${APPS}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
      principalId: officer.objectId,
      principalType: 'ServicePrincipal',
    });
    assert.deepEqual(await visibleTo('secrets-officer'), [PLATFORM, APPS].sort());
    await clientsIn('owner', APPS).authorization.roleAssignments.delete(scope, name);
    assert.deepEqual(await visibleTo('secrets-officer'), [PLATFORM]);
  });

  test('apps in three subscriptions and two tenants call an account of another subscription with its key', async () => {
    for (const [rg, site] of [
      ['rg-apps', 'cross-sub-bot'],
      ['rg-partner', 'partner-bot'],
      ['rg-web', 'kv-uri-bot'],
    ]) {
      const h = await health(rg, site);
      assert.equal(h.status, 200, `${site}: ${JSON.stringify(h.body)}`);
    }
    const partnerSite = await clientsIn('outsider', PARTNER).web.webApps.get('rg-partner', 'partner-bot');
    assert.equal(
      partnerSite.id,
      `/subscriptions/${PARTNER}/resourceGroups/rg-partner/providers/Microsoft.Web/sites/partner-bot`,
    );
    const { cognitive } = clientsIn('owner', PLATFORM);
    await cognitive.accounts.beginUpdateAndWait('rg-ai', 'shared-openai', { properties: { disableLocalAuth: true } });
    try {
      for (const [rg, site] of [
        ['rg-apps', 'cross-sub-bot'],
        ['rg-partner', 'partner-bot'],
      ]) {
        const h = await eventually(async () => {
          const r = await health(rg, site);
          return r.status === 503 ? r : undefined;
        });
        assert.equal(h.body.error?.code, 'AuthenticationTypeDisabled', site);
      }
    } finally {
      await cognitive.accounts.beginUpdateAndWait('rg-ai', 'shared-openai', {
        properties: { disableLocalAuth: false },
      });
    }
  });
});
