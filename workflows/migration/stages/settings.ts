/**
 * Stage 4: switch the caller to its identity — after the approval the plan asks for — and smoke-test it within the
 * downtime budget, which runs from the first change that touches traffic. In place: production's settings. Slot
 * swap: the staging slot's settings, its smoke test, then the swap. Afterwards, with `standby: migrate`, the
 * staging slot (now holding production's old configuration) is moved off the key too. Traffic shift (container
 * apps): ./traffic.ts.
 */
import type { Compensation, SettingSnapshot, SiteSnapshot } from '../../../contracts/model';
import { targetLabel } from '../../../plan/targets';
import { snapshotsOf } from '../../../contracts/targets';
import { StageFailure } from '../../kit/failures';
import { arm, armCall, armLong, armLongRunning, compensationCall, undo } from '../activities';
import type { MigrationRun } from '../state';
import { smokeTest } from './probe';
import { shiftTraffic } from './traffic';

export async function switchToIdentity(run: MigrationRun): Promise<void> {
  const { board, plan, b } = run;
  if (plan.approvals.beforeSettingsSwap) await run.gates.open('settings', 'Swap settings (remove the key)');
  board.begin('settings');
  const set = settingsToSet(run);
  if (plan.strategy.type === 'traffic-shift') return shiftTraffic(run, set); // container apps, multiple-revision mode
  const { target, staging } = snapshotsOf(b);
  let downtimeStart: number;
  if (plan.strategy.type === 'slot-swap') {
    const slot = staging!.site.slot!;
    await changeSettings(run, staging!, set);
    await smokeTest(run, 'settings', `smoke test of ${targetLabel(staging!.site)}`, staging!, plan.budgets.downtimeMs);
    const marker = { remove: plan.settings.remove, set };
    run.compensate({ kind: 'swap-back', site: target.site, slot, marker }, `swap ${slot} back out of production`);
    downtimeStart = Date.now();
    await armLong.swapSlots.executeWithOptions({ ...armLongRunning, summary: `swap ${slot} → production` }, [
      { site: target.site, slot, direction: 'forward', marker },
    ]);
  } else {
    downtimeStart = Date.now();
    await changeSettings(run, target, set);
  }
  await smokeTest(
    run,
    'settings',
    `smoke test of ${targetLabel(target.site)}`,
    target,
    plan.budgets.downtimeMs - (Date.now() - downtimeStart),
    plan.budgets.downtimeMs,
  );
  run.downtimeMs = Date.now() - downtimeStart;
  run.switchedAt = new Date(downtimeStart).toISOString();
  run.recoveredAt = new Date().toISOString();
  board.waitingFor = undefined;
  if (run.v2 && plan.strategy.type === 'slot-swap' && plan.strategy.standby === 'migrate')
    await migrateStandby(run, staging!, target.touchedSettings, set);
  board.end(
    'settings',
    'done',
    `smoke test passed; downtime ${Math.round(run.downtimeMs / 1000)}s${run.standbyKept ? '; the standby slot keeps the key' : ''}`,
  );
}

/** The plan's settings, plus the client id a user-assigned identity needs. */
function settingsToSet(run: MigrationRun): Record<string, string> {
  const set: Record<string, string> = { ...run.plan.settings.set };
  if (run.plan.identity.type === 'user-assigned' && run.identityClientId) set.AZURE_CLIENT_ID = run.identityClientId;
  return set;
}

async function changeSettings(run: MigrationRun, site: SiteSnapshot, set: Record<string, string>): Promise<void> {
  run.compensate(
    { kind: 'restore-settings', site: site.site, before: site.touchedSettings, account: run.b.account.ref },
    `restore settings of ${targetLabel(site.site)}`,
  );
  run.settingsSites.push(site.resourceId);
  await arm.updateSettings.executeWithOptions({ ...armCall, summary: `settings of ${targetLabel(site.site)}` }, [
    { site: site.site, remove: run.plan.settings.remove, set },
  ]);
}

/**
 * After a swap the staging slot holds production's old configuration, the key with it: the standby for a swap
 * back. Moving it off the key too lets the key switch go ahead; if its code cannot run on the identity, it is put
 * back and stays a key holder like any other (the key switch then skips, waits or fails per the plan).
 */
async function migrateStandby(
  run: MigrationRun,
  staging: SiteSnapshot,
  production: Readonly<Record<string, SettingSnapshot>>,
  set: Record<string, string>,
): Promise<void> {
  const name = targetLabel(staging.site);
  const account = run.b.account.ref;
  const step: Compensation = { kind: 'restore-settings', site: staging.site, before: production, account };
  run.compensate(step, `restore the standby settings of ${name}`);
  run.settingsSites.push(staging.resourceId);
  run.board.note('settings', `moving the standby ${name} off the key`);
  await arm.updateSettings.executeWithOptions({ ...armCall, summary: `standby settings of ${name}` }, [
    { site: staging.site, remove: run.plan.settings.remove, set },
  ]);
  try {
    await smokeTest(run, 'settings', `smoke test of the standby ${name}`, staging, run.plan.budgets.downtimeMs);
  } catch (err) {
    if (!(err instanceof StageFailure)) throw err;
    // Not serving production: put it back now rather than roll back a cutover that worked.
    await undo.restoreSettings.executeWithOptions(
      { ...compensationCall, summary: `restore the standby settings of ${name}` },
      [{ site: staging.site, before: production, account }],
    );
    run.saga.forgetLast();
    run.settingsSites.pop();
    run.standbyKept = true;
    run.warnings.push(`the standby slot ${name} could not run on its identity (${err.message}): it keeps the key`);
  }
}
