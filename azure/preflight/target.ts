/**
 * The caller (and, for a slot swap, its staging slot) as it is before anything changes: identity, base URL and a
 * restorable snapshot of every setting the plan touches. Checks that the settings the plan removes are there, that
 * none it touches is a secret cutover could not restore, and that a swap would carry the change.
 */
import type { SettingSnapshot, SiteRef, SiteSnapshot } from '../../contracts/model';
import { type MigrationPlan, targetOf } from '../../plan/schema';
import type { AccountKeys } from '../account';
import type { AzureContext } from '../context';
import { snapshotSetting } from '../resources';
import { type TargetAdapter, type TargetView, kindOfResource } from '../targets';
import { TARGET_KINDS, type TargetKind } from '../../plan/schema';
import type { Findings } from './findings';

export interface PlannedTargets {
  readonly target: SiteRef;
  readonly staging?: SiteRef;
}

export function plannedTargets(plan: MigrationPlan): PlannedTargets {
  const { kind, resourceGroup, name, slot } = targetOf(plan);
  const target: SiteRef = { kind, subscriptionId: plan.subscriptionId, resourceGroup, name, ...(slot ? { slot } : {}) };
  return plan.strategy.type === 'slot-swap' && plan.strategy.stagingSlot
    ? { target, staging: { ...target, slot: plan.strategy.stagingSlot } }
    : { target };
}

export function readTargets(
  ctx: AzureContext,
  adapter: TargetAdapter,
  refs: readonly SiteRef[],
  f: Findings,
): Promise<(TargetView | undefined)[]> {
  return Promise.all(
    refs.map((ref) => f.read('app', `reading app ${adapter.describe(ref)}`, () => adapter.read(ctx, ref))),
  );
}

/**
 * The caller is the kind the plan says (a function app is migrated as `function-app`, a web app as `app-service`),
 * and its hosting plan can carry the strategy (a slot swap needs a plan with slots). Read-only.
 */
export async function checkKindAndHosting(
  ctx: AzureContext,
  adapter: TargetAdapter,
  plan: MigrationPlan,
  views: readonly (TargetView | undefined)[],
  f: Findings,
): Promise<void> {
  const [view] = views;
  if (!view) return;
  const name = targetOf(plan).name;
  if (view.resourceKind && !adapter.isKind(view.resourceKind)) {
    const kind = kindOfResource(view.resourceKind);
    f.problem(
      'app',
      `${name} is of Azure kind ${view.resourceKind}, not ${TARGET_KINDS[adapter.kind as TargetKind]?.title ?? adapter.kind}`,
      kind ? `give target.kind: ${kind}` : undefined,
    );
    return;
  }
  if (!adapter.checkHosting) return;
  const check = adapter.checkHosting.bind(adapter);
  const findings = await f.read('hosting', `reading the hosting plan of ${name}`, () => check(ctx, view, plan));
  for (const h of findings ?? []) {
    if (h.problem) f.problem('hosting', h.problem, h.hint);
    if (h.warning) f.warn(h.warning);
  }
}

/** Setting names the plan changes anywhere. */
function touchedNames(plan: MigrationPlan): string[] {
  const touched = [...plan.settings.remove, ...Object.keys(plan.settings.set)];
  if (plan.identity.type === 'user-assigned') touched.push('AZURE_CLIENT_ID');
  return touched;
}

export async function snapshotTargets(
  ctx: AzureContext,
  adapter: TargetAdapter,
  plan: MigrationPlan,
  refs: readonly SiteRef[],
  views: readonly (TargetView | undefined)[],
  keys: AccountKeys,
  f: Findings,
): Promise<SiteSnapshot[]> {
  const [target] = refs;
  // Stickiness decides what a swap carries to production; in place, nothing is swapped.
  const stickyNames =
    (views[0] && plan.strategy.type === 'slot-swap'
      ? await f.read('app', `reading slot-sticky settings of ${target.name}`, () =>
          adapter.stickySettingNames(ctx, target),
        )
      : undefined) ?? [];
  const touched = touchedNames(plan);
  const snapshots: SiteSnapshot[] = [];
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    const view = views[i];
    if (!view) continue;
    const name = adapter.describe(ref);
    const settings = await f.read('settings', `reading app settings of ${name}`, () => adapter.readSettings(ctx, ref));
    if (!settings) continue;
    const isTarget = i === 0;
    const touchedSettings: Record<string, SettingSnapshot> = {};
    for (const setting of touched)
      touchedSettings[setting] =
        adapter.snapshotHidden?.(plan, setting, settings[setting]) ?? snapshotSetting(setting, settings[setting], keys);
    // For a slot swap the change is made on the staging slot; production is reached by the swap.
    const changedHere = plan.strategy.type !== 'slot-swap' ? isTarget : !isTarget;
    if (changedHere) checkChanges(plan, name, settings, touchedSettings, keys, f);
    if (plan.strategy.type === 'slot-swap')
      for (const setting of touched)
        if (stickyNames.includes(setting))
          f.problem(
            'settings',
            `setting ${setting} is slot-sticky, so a swap would not carry the change to production`,
            'use the in-place strategy, or make it non-sticky',
          );
    snapshots.push({
      site: ref,
      resourceId: view.id,
      baseUrl: isTarget && plan.smokeTest.baseUrl ? plan.smokeTest.baseUrl.replace(/\/$/, '') : view.defaultUrl,
      identity: {
        type: view.identity.type,
        ...(view.identity.principalId ? { principalId: view.identity.principalId } : {}),
        userAssignedIdentityIds: view.identity.userAssignedIdentityIds,
      },
      settingNames: Object.keys(settings).sort(),
      touchedSettings,
      slotConfigNames: stickyNames,
    });
    if (view.identity.tenantId && view.identity.tenantId.toLowerCase() !== plan.tenantId)
      f.problem('tenant', `app ${name} has an identity in tenant ${view.identity.tenantId}, not ${plan.tenantId}`);
  }
  return snapshots;
}

function checkChanges(
  plan: MigrationPlan,
  name: string,
  settings: Readonly<Record<string, string>>,
  touched: Readonly<Record<string, SettingSnapshot>>,
  keys: AccountKeys,
  f: Findings,
): void {
  for (const setting of plan.settings.remove) {
    if (!(setting in settings))
      f.problem(
        'settings',
        `app ${name} has no setting ${setting} to remove`,
        'check settings.remove against the app’s settings',
      );
    else if (touched[setting].kind !== 'account-key' && keys.key1)
      f.warn(`setting ${setting} of ${name} does not hold a key of ${plan.account.name}`);
  }
  for (const [setting, snap] of Object.entries(touched))
    if (snap.kind === 'secret')
      f.problem(
        'settings',
        `setting ${setting} of ${name} looks secret and is not a key of ${plan.account.name}: cutover could not restore it on rollback`,
        'move it to a Key Vault reference, or leave it out of the plan',
      );
}
