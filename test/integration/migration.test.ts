/**
 * The migration end to end: the real workflow on the dev server, real activities over the real Azure SDK clients,
 * the simulator playing Azure (HTTPS, Entra tokens, RBAC, simulated apps) — once with the apps' workers in child
 * processes, once in the simulator's process (the runtime fleets use): the migration must not tell them apart.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import { abortUpdate, rejectUpdate } from '../../workflows/migration/messages';
import type { MigrationPlan } from '../../plan/schema';
import { APP_RUNTIMES, type AppRuntime } from '../../simulator/app-runtime';
import { pollProgress } from '../../client/migrations';
import { waitForProgress } from '../support/progress';
import { pollUntil } from '../support/wait';
import {
  appHealth as sharedAppHealth,
  type Estate,
  estatePlan,
  ESTATE,
  footprint,
  RG,
  startEstate,
  UAMI_ID,
  runMigration,
} from '../support/estate';

/** The app's health once it answers (an app restarting after a settings change answers 503 from the front door). */
const appHealth = (estate: Estate, name: string, slot?: string) => sharedAppHealth(estate, RG, name, slot);

async function settingsOf(estate: Estate, name: string, slot?: string): Promise<Record<string, string>> {
  const dict = slot
    ? await estate.azure.web.webApps.listApplicationSettingsSlot(RG, name, slot)
    : await estate.azure.web.webApps.listApplicationSettings(RG, name);
  return dict.properties ?? {};
}

function migrationSuite(runtime: AppRuntime): void {
  describe(`migration against the simulator (${runtime} apps)`, () => {
    // The process runtime keeps the names its recorded histories have.
    const suffix = runtime === 'process' ? '' : `-${runtime}`;
    let estate: Estate;
    before(async () => {
      estate = await startEstate(`integration${suffix}`, ESTATE, { appRuntime: runtime });
    });
    after(async () => {
      await estate.close();
    });
    beforeEach(async () => {
      await estate.sim.control.reset();
    });

    const run = (name: string, plan: MigrationPlan, during?: Parameters<typeof runMigration>[3]) =>
      runMigration(estate, `${name}${suffix}`, plan, during);

    test('system-assigned, in place: the app calls with its identity, the key is gone, local auth is off', async () => {
      assert.equal((await appHealth(estate, 'inplace-bot')).body.authMode, 'key');
      const result = await run('in-place-system', estatePlan('inplace-bot', 'inplace-openai'));
      assert.equal(result.outcome, 'succeeded', result.reason);

      const health = await appHealth(estate, 'inplace-bot');
      assert.equal(health.status, 200);
      assert.equal(health.body.authMode, 'identity');
      const settings = await settingsOf(estate, 'inplace-bot');
      assert.ok(!('AZURE_OPENAI_API_KEY' in settings), 'key setting removed');
      assert.equal(settings.AZURE_OPENAI_AUTH_MODE, 'identity');
      assert.equal(settings.CLAIMS_DB_NAME, 'claims', 'unrelated settings kept');
      const account = await estate.azure.cognitive.accounts.get(RG, 'inplace-openai');
      assert.equal(account.properties?.disableLocalAuth, true);

      const site = await estate.azure.web.webApps.get(RG, 'inplace-bot');
      assert.equal(site.identity?.type, 'SystemAssigned');
      assert.deepEqual(result.evidence.identity?.principalIds, [site.identity?.principalId]);
      assert.equal(result.evidence.roleAssignments.length, 1);
      assert.ok(result.evidence.roleAssignments[0].ours);
      assert.ok(
        result.evidence.smokeTests.some((t) => t.passed && t.requestId),
        'smoke test request ids recorded',
      );
      assert.equal(result.evidence.localAuth.after, true);
      assert.ok(result.evidencePath && existsSync(result.evidencePath), 'evidence file written');
      const onDisk = JSON.parse(readFileSync(result.evidencePath, 'utf8')) as { outcome: string };
      assert.equal(onDisk.outcome, 'succeeded');
    });

    test('user-assigned identity: AZURE_CLIENT_ID is set and the app uses the shared identity', async () => {
      const result = await run(
        'in-place-user-assigned',
        estatePlan('claims-bot', 'claims-openai', { identity: { type: 'user-assigned', resourceId: UAMI_ID } }),
      );
      assert.equal(result.outcome, 'succeeded', result.reason);
      const uami = await estate.azure.msi.userAssignedIdentities.get(RG, 'id-claims-bot');
      const settings = await settingsOf(estate, 'claims-bot');
      assert.equal(settings.AZURE_CLIENT_ID, uami.clientId);
      assert.deepEqual(result.evidence.identity?.principalIds, [uami.principalId]);
      assert.equal((await appHealth(estate, 'claims-bot')).body.authMode, 'identity');
      const site = await estate.azure.web.webApps.get(RG, 'claims-bot');
      assert.equal(site.identity?.type, 'UserAssigned');
    });

    test('slot swap: staging is migrated and smoke-tested, swapped into production, then the standby too', async () => {
      const result = await run(
        'slot-swap-system',
        estatePlan('claims-bot', 'claims-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } }),
      );
      assert.equal(result.outcome, 'succeeded', result.reason);
      assert.equal(result.evidence.plan.strategy.standby, 'migrate', 'the default');
      assert.equal((await appHealth(estate, 'claims-bot')).body.authMode, 'identity');
      assert.ok(!('AZURE_OPENAI_API_KEY' in (await settingsOf(estate, 'claims-bot'))));
      // After the swap staging held production's old configuration, the key with it: moved off it too.
      assert.ok(!('AZURE_OPENAI_API_KEY' in (await settingsOf(estate, 'claims-bot', 'staging'))));
      assert.equal((await appHealth(estate, 'claims-bot', 'staging')).body.authMode, 'identity');
      assert.equal(result.evidence.identity?.principalIds.length, 2, 'production and staging each have a principal');
      assert.equal(result.evidence.roleAssignments.length, 2);
      assert.equal((await estate.azure.cognitive.accounts.get(RG, 'claims-openai')).properties?.disableLocalAuth, true);
    });

    test('slot swap keeping the standby: the staging slot still holds the key, so keys stay on and it keeps working', async () => {
      const result = await run(
        'slot-swap-keep-standby',
        estatePlan('claims-bot', 'claims-openai', {
          strategy: { type: 'slot-swap', stagingSlot: 'staging', standby: 'keep' },
        }),
      );
      assert.equal(result.outcome, 'succeeded', result.reason);
      assert.equal((await appHealth(estate, 'claims-bot')).body.authMode, 'identity');
      assert.equal(
        (await estate.azure.cognitive.accounts.get(RG, 'claims-openai')).properties?.disableLocalAuth,
        false,
      );
      assert.match(result.evidence.localAuth.skippedBecause ?? '', /claims-bot\/staging \(AZURE_OPENAI_API_KEY\)/);
      const staging = await appHealth(estate, 'claims-bot', 'staging');
      assert.equal(staging.status, 200, JSON.stringify(staging.body));
      assert.equal(staging.body.authMode, 'key', 'the standby still answers with its key');
    });

    test('in place on production while its staging slot still holds the key: keys stay on, the slot keeps working', async () => {
      const result = await run('in-place-other-slot', estatePlan('claims-bot', 'claims-openai'));
      assert.equal(result.outcome, 'succeeded', result.reason);
      assert.equal((await appHealth(estate, 'claims-bot')).body.authMode, 'identity');
      assert.equal(
        (await estate.azure.cognitive.accounts.get(RG, 'claims-openai')).properties?.disableLocalAuth,
        false,
      );
      assert.equal(result.evidence.localAuth.after, false);
      assert.match(result.evidence.localAuth.skippedBecause ?? '', /claims-bot\/staging/);
      assert.deepEqual(
        result.evidence.localAuth.keyHolders?.holders.map((h) => h.resourceId.split('/').slice(-3).join('/')),
        ['claims-bot/slots/staging'],
      );
      const staging = await appHealth(estate, 'claims-bot', 'staging');
      assert.equal(staging.status, 200, JSON.stringify(staging.body));
      assert.equal(staging.body.authMode, 'key');
    });

    test('a failing smoke test (app without identity support) rolls back to the exact before-state', async () => {
      const beforeState = footprint(estate, 'legacy-openai');
      const result = await run(
        'smoke-failure',
        estatePlan('legacy-bot', 'legacy-openai', { budgets: { downtime: '3s' } }),
      );
      assert.equal(result.outcome, 'rolled-back');
      assert.match(result.reason ?? '', /smoke test of legacy-bot did not pass/);
      assert.deepEqual(footprint(estate, 'legacy-openai'), beforeState);
      assert.equal((await appHealth(estate, 'legacy-bot')).body.authMode, 'key', 'the app works with its key again');
      assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    });

    test('a downtime budget that runs out rolls back', async () => {
      estate.sim.control.setDelays({ appRestartMs: 6000 });
      const beforeState = footprint(estate, 'claims-openai');
      const result = await run(
        'downtime-budget',
        estatePlan('claims-bot', 'claims-openai', { budgets: { downtime: '2s' } }),
      );
      assert.equal(result.outcome, 'rolled-back');
      // The smoke test gets what is left of the budget once the settings are written: 2 s or less, by machine speed.
      assert.match(result.reason ?? '', /^smoke test of claims-bot did not pass within [0-2]s /);
      estate.sim.control.setDelays({ appRestartMs: 300 });
      assert.deepEqual(footprint(estate, 'claims-openai'), beforeState);
    });

    test('a rejection at the settings gate rolls back', async () => {
      const beforeState = footprint(estate, 'claims-openai');
      const result = await run(
        'rejected',
        estatePlan('claims-bot', 'claims-openai', {
          approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false },
        }),
        async (handle) => {
          await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings');
          await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'freeze week' }] });
        },
      );
      assert.equal(result.outcome, 'rolled-back');
      assert.deepEqual(
        result.evidence.approvals.map((a) => [a.by, a.decision, a.comment]),
        [['bob', 'rejected', 'freeze week']],
      );
      assert.deepEqual(footprint(estate, 'claims-openai'), beforeState);
    });

    test('an abort during the propagation wait rolls back', async () => {
      // A role that never propagates: the abort, not the propagation budget, ends the wait.
      estate.sim.control.setDelays({ propagationMs: 24 * 3600_000 });
      const beforeState = footprint(estate, 'claims-openai');
      const result = await run('aborted-propagation', estatePlan('claims-bot', 'claims-openai'), async (handle) => {
        // What `cutover status` shows: the poll's attempts, from the heartbeat of the activity that polls.
        await pollUntil(async () => {
          const polling = await pollProgress(estate.temporal, await handle.describe());
          return /^attempt [3-9]\d*, last: PermissionDenied/.test(polling ?? '') ? polling : undefined;
        }, 'the identity probe refused a few times, as the poll’s heartbeat tells');
        await handle.executeUpdate(abortUpdate, { args: [{ by: 'oncall', reason: 'incident 42' }] });
      });
      estate.sim.control.setDelays({ propagationMs: 1500 });
      assert.equal(result.outcome, 'rolled-back');
      assert.equal(result.reason, 'aborted by oncall: incident 42');
      assert.deepEqual(footprint(estate, 'claims-openai'), beforeState);
    });

    test('a pre-existing identity and role assignment survive a rollback untouched', async () => {
      const site = await estate.azure.web.webApps.get(RG, 'shared-bot');
      const principalId = site.identity?.principalId;
      assert.ok(principalId);
      const beforeState = footprint(estate, 'legacy-openai');
      const result = await run(
        'preexisting-survive',
        estatePlan('shared-bot', 'legacy-openai', { budgets: { downtime: '3s' } }),
      );
      assert.equal(result.outcome, 'rolled-back');
      const ra = result.evidence.roleAssignments[0];
      assert.equal(ra.ours, false, 'the existing assignment was recognised as not ours');
      assert.deepEqual(footprint(estate, 'legacy-openai'), beforeState);
      assert.equal((await estate.azure.web.webApps.get(RG, 'shared-bot')).identity?.principalId, principalId);
    });
  });
}

for (const runtime of APP_RUNTIMES) migrationSuite(runtime);
