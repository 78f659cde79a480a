/**
 * `plan show` as a diff: for each resource the migration touches, what it is now and what it would be after, read
 * from the dry run's before-state; what is reused rather than created; the key switch's predicted outcome; and the
 * longest the run may take from the plan's budgets. Setting values never show: a value is named by its kind (an
 * account key, a Key Vault reference, a plain value) and only the plan's own values, which are never secrets, appear.
 */
import { describeSteps } from '../plan/traffic-shift';
import { describeScan } from '../contracts/key-holders';
import type { BeforeState, SettingSnapshot, SiteSnapshot } from '../contracts/model';
import { formatDuration } from '../plan/durations';
import type { MigrationPlan } from '../plan/schema';
import { DEFAULT_TARGET_KIND, TARGET_KINDS } from '../plan/targets';

export interface Change {
  readonly what: string;
  readonly before: string;
  readonly after: string;
  /** Left as it is: the migration reuses it. */
  readonly unchanged?: boolean;
}

export interface ResourceDiff {
  readonly resource: string;
  readonly resourceId: string;
  readonly changes: readonly Change[];
}

export interface PlanEstimate {
  /** Longest the unattended part may take: propagation, downtime budgets and the key switch. */
  readonly workMs: number;
  /** Approval gates the plan opens, each of which may wait up to `approvalTimeoutMs`. */
  readonly gates: number;
  readonly approvalTimeoutMs: number;
}

function describeValue(s: SettingSnapshot | undefined): string {
  switch (s?.kind) {
    case undefined:
    case 'absent':
      return 'absent';
    case 'account-key':
      return `account key (${s.keyName})`;
    case 'key-vault-reference':
      return 'Key Vault reference';
    case 'plain':
      return `plain value (${s.fingerprint})`;
    case 'secret':
      return `secret (${s.fingerprint})`;
  }
}

function identityAfter(plan: MigrationPlan, site: SiteSnapshot): Change {
  const now = site.identity.type;
  if (plan.identity.type === 'system-assigned') {
    const has = now.includes('SystemAssigned');
    return has
      ? { what: 'identity', before: now, after: now, unchanged: true }
      : { what: 'identity', before: now, after: now === 'None' ? 'SystemAssigned' : 'SystemAssigned, UserAssigned' };
  }
  const id = plan.identity.resourceId?.toLowerCase() ?? '';
  const name = id.split('/').pop() ?? id;
  if (site.identity.userAssignedIdentityIds.includes(id))
    return { what: `identity ${name}`, before: 'attached', after: 'attached', unchanged: true };
  return {
    what: `identity ${name}`,
    before: now,
    after: now.includes('SystemAssigned') ? 'SystemAssigned, UserAssigned' : 'UserAssigned',
  };
}

function settingChanges(plan: MigrationPlan, site: SiteSnapshot): Change[] {
  const changes: Change[] = plan.settings.remove.map((name) => ({
    what: name,
    before: describeValue(site.touchedSettings[name]),
    after: 'removed',
  }));
  for (const [name, value] of Object.entries(plan.settings.set))
    changes.push({ what: name, before: describeValue(site.touchedSettings[name]), after: JSON.stringify(value) });
  if (plan.identity.type === 'user-assigned')
    changes.push({
      what: 'AZURE_CLIENT_ID',
      before: describeValue(site.touchedSettings.AZURE_CLIENT_ID),
      after: 'the identity’s client id',
    });
  return changes;
}

/** The caller's noun: "app" (App Service), "function app" (Functions), "container app" (Container Apps). */
const nounOf = (site: SiteSnapshot) => TARGET_KINDS[site.site.kind ?? DEFAULT_TARGET_KIND].noun;

/** Container apps make a new revision on a settings change. */
const isContainerApp = (site: SiteSnapshot) => site.site.kind === 'container-app';

/** Kinds without deployment slots (container apps, search services, ML connections): no "(production)" after their name. */
const slotless = (site: SiteSnapshot) =>
  !(TARGET_KINDS[site.site.kind ?? DEFAULT_TARGET_KIND].strategies as readonly string[]).includes('slot-swap');

function label(site: SiteSnapshot): string {
  const where = site.site.slot ? `/${site.site.slot}` : slotless(site) ? '' : ' (production)';
  return `${nounOf(site)} ${site.site.name}${where}`;
}

export function planDiff(plan: MigrationPlan, before: BeforeState): ResourceDiff[] {
  const [target, staging] = before.sites;
  const diffs: ResourceDiff[] = [];
  const swap = plan.strategy.type === 'slot-swap' && staging;
  for (const site of before.sites) {
    const changes = [identityAfter(plan, site)];
    const isStaging = site === staging;
    // In place: the target's settings. Slot swap: production ends with the staging slot's new settings; the staging
    // slot ends as the standby, moved off the key too when the plan says so.
    if (!swap || !isStaging || plan.strategy.standby === 'migrate') changes.push(...settingChanges(plan, site));
    else
      changes.push({
        what: 'settings',
        before: 'the new settings, tested before the swap',
        after: 'production’s old settings, the key with them (standby: keep)',
      });
    if (isContainerApp(site) && plan.strategy.type === 'traffic-shift')
      changes.push(
        {
          what: 'revision',
          before: 'the revisions serving now, with the key',
          after:
            'a new revision of the env vars above, smoke-tested at 0 % on its own FQDN; the old ones deactivated when the migration ends',
        },
        {
          what: 'traffic',
          before: 'the traffic weights as they are',
          after: `the new revision at ${describeSteps(plan.strategy.steps ?? [100])}, a smoke test at each step`,
        },
      );
    else if (isContainerApp(site))
      changes.push({
        what: 'revision',
        before: 'the live revision, with the key',
        after: 'a new revision of the env vars above, taking the traffic once it runs; the old one deactivated',
      });
    // The key by value in a secret (not a Key Vault reference): removed once keys are off.
    if (
      isContainerApp(site) &&
      plan.localAuth.disable &&
      plan.settings.remove.some((n) => site.touchedSettings[n]?.kind === 'account-key')
    )
      changes.push({
        what: 'secret',
        before: 'the secret the key’s env var names, holding the key',
        after: 'removed after the key switch (a rollback restores it)',
      });
    if (swap && site === target)
      changes.push({
        what: 'traffic',
        before: 'production worker',
        after: `the ${staging.site.slot} slot’s worker, swapped in`,
      });
    diffs.push({ resource: label(site), resourceId: site.resourceId, changes });
  }
  const accountChanges: Change[] = [];
  const principals = before.sites.map((s) => s.identity.principalId).filter((p): p is string => !!p);
  const granted =
    principals.length > 0 &&
    principals.every((p) =>
      before.roleAssignments.some(
        (ra) =>
          ra.principalId === p &&
          ra.roleDefinitionId.split('/').pop()?.toLowerCase() ===
            before.role.definitionId.split('/').pop()?.toLowerCase(),
      ),
    );
  const whose = `the ${TARGET_KINDS[plan.target.kind].noun}’s identity`;
  accountChanges.push(
    granted
      ? {
          what: `role "${before.role.name}" for ${whose}`,
          before: 'assigned',
          after: 'assigned',
          unchanged: true,
        }
      : {
          what: `role "${before.role.name}" for ${whose}`,
          before: 'none',
          after: 'assigned (principalType ServicePrincipal)',
        },
  );
  accountChanges.push(localAuthChange(plan, before));
  diffs.push({
    resource: `account ${plan.account.name}`,
    resourceId: before.account.resourceId,
    changes: accountChanges,
  });
  return diffs;
}

function localAuthChange(plan: MigrationPlan, before: BeforeState): Change {
  const what = 'local (key) auth';
  if (before.account.disableLocalAuth) return { what, before: 'disabled', after: 'disabled', unchanged: true };
  if (!plan.localAuth.disable)
    return { what, before: 'enabled', after: 'enabled (localAuth.disable: false)', unchanged: true };
  const scan = before.keyHolders;
  if (!scan || scan.verdict === 'clear')
    return { what, before: 'enabled', after: 'disabled — nobody else holds the key' };
  const why = describeScan(scan);
  switch (plan.localAuth.ifOtherCallers) {
    case 'skip':
      return { what, before: 'enabled', after: `enabled — the key switch would be skipped: ${why}`, unchanged: true };
    case 'wait':
      return {
        what,
        before: 'enabled',
        after: `disabled once they move (waits up to ${formatDuration(plan.budgets.approvalTimeoutMs)}): ${why}`,
      };
    case 'fail':
      return {
        what,
        before: 'enabled',
        after: `enabled — the migration would fail before any change: ${why}`,
        unchanged: true,
      };
  }
}

/** The longest the run may take, from the plan's budgets (gates apart: each may wait up to the approval timeout). */
export function planEstimate(plan: MigrationPlan): PlanEstimate {
  const { budgets } = plan;
  const standby = plan.strategy.type === 'slot-swap' && plan.strategy.standby === 'migrate' ? budgets.downtimeMs : 0;
  const staging = plan.strategy.type === 'slot-swap' ? budgets.downtimeMs : 0;
  const keySwitch = plan.localAuth.disable ? budgets.localAuthSwitchMs + budgets.downtimeMs : 0;
  return {
    workMs: budgets.propagationWaitMs + staging + budgets.downtimeMs + standby + keySwitch,
    gates:
      (plan.approvals.beforeSettingsSwap ? 1 : 0) +
      (plan.localAuth.disable && plan.approvals.beforeDisableLocalAuth ? 1 : 0),
    approvalTimeoutMs: budgets.approvalTimeoutMs,
  };
}

export function renderPlanDiff(diffs: readonly ResourceDiff[], estimate: PlanEstimate): string[] {
  const lines: string[] = [];
  for (const d of diffs) {
    lines.push(d.resource);
    const width = Math.max(...d.changes.map((c) => c.what.length));
    for (const c of d.changes)
      lines.push(
        `  ${c.unchanged ? '=' : '~'} ${c.what.padEnd(width)}  ${c.unchanged ? `${c.after} (kept)` : `${c.before} → ${c.after}`}`,
      );
  }
  lines.push(
    '',
    `At most ${formatDuration(estimate.workMs)} of work from the plan’s budgets${
      estimate.gates
        ? `, plus up to ${formatDuration(estimate.approvalTimeoutMs)} at each of ${estimate.gates} approval gate(s)`
        : ''
    }.`,
  );
  return lines;
}
