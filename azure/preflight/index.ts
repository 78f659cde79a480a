/**
 * Preflight: read-only checks of everything a migration will touch, composed in order. It collects every problem
 * it can and then fails once with all of them; on success it returns the state before the migration, which the
 * rollback restores from. Run by the workflow's first activity and by `cutover plan show` alike.
 */
import type { BeforeState } from '../../contracts/model';
import { type MigrationPlan, targetOf } from '../../plan/schema';
import { type AccountKeys, accountKeys } from '../account';
import type { AzureContext } from '../context';
import { accountResourceId, fingerprint } from '../resources';
import { targetAdapter } from '../targets';
import { checkAccount, checkRole, existingAssignments, readAccount } from './account';
import { Findings } from './findings';
import { checkUserAssignedIdentity } from './identity';
import { checkKeyHolders } from './key-holders';
import { checkPermissions, requiredPermissions } from './permissions';
import { checkKindAndHosting, plannedTargets, readTargets, snapshotTargets } from './target';
import { checkTenant } from './tenant';
import { checkWebhooks } from './notifications';

export interface PreflightOptions {
  /** The webhooks the worker knows (its configuration); unchecked when absent (the CLI's dry run). */
  readonly webhooks?: readonly string[];
}

export async function runPreflight(
  ctx: AzureContext,
  plan: MigrationPlan,
  options: PreflightOptions = {},
): Promise<BeforeState> {
  const f = new Findings();
  if (options.webhooks) checkWebhooks(plan, options.webhooks, f);
  const adapter = targetAdapter(targetOf(plan).kind);
  const { target, staging } = plannedTargets(plan);
  const refs = staging ? [target, staging] : [target];
  const account = plan.account;

  const signedIn = await checkTenant(ctx, plan, f);
  const views = await readTargets(ctx, adapter, refs, f);
  await checkKindAndHosting(ctx, adapter, plan, views, f);
  const acct = await readAccount(ctx, account, f);
  if (f.has('tenant') || f.problems.some((p) => /InvalidAuthenticationToken/.test(p.message))) throw f.failure();

  if (acct) await checkAccount(ctx, plan, acct, f);
  const role = acct ? await checkRole(ctx, plan, f) : undefined;
  if (acct) await checkPermissions(ctx, requiredPermissions(plan, adapter), signedIn.objectId, f);
  const userAssignedIdentity = await checkUserAssignedIdentity(ctx, plan, f);

  const localAuthOn = !!acct && !acct.properties?.disableLocalAuth;
  const keys: AccountKeys = localAuthOn
    ? ((await f.read('account', `reading the keys of ${account.name} (to recognise them in settings)`, () =>
        accountKeys(ctx, account),
      )) ?? {})
    : {};
  const snapshots = await snapshotTargets(ctx, adapter, plan, refs, views, keys, f);
  const roleAssignments = acct ? await existingAssignments(ctx, account, f) : [];
  const keyHolders =
    localAuthOn && plan.localAuth.disable && f.problems.length === 0 ? await checkKeyHolders(ctx, plan, f) : undefined;

  if (f.problems.length > 0 || !acct || !role || snapshots.length !== refs.length) {
    if (f.problems.length === 0) f.problem('preflight', 'some resources could not be read');
    throw f.failure();
  }
  return {
    capturedAt: new Date().toISOString(),
    sites: snapshots,
    account: {
      ref: account,
      resourceId: acct.id ?? accountResourceId(account),
      endpoint: acct.properties?.endpoint ?? '',
      ...(acct.properties?.customSubDomainName ? { customSubDomainName: acct.properties.customSubDomainName } : {}),
      disableLocalAuth: acct.properties?.disableLocalAuth === true,
      keyFingerprints: [keys.key1, keys.key2].filter((k): k is string => !!k).map(fingerprint),
    },
    role: { name: role.roleName ?? plan.role, definitionId: role.id ?? '' },
    ...(userAssignedIdentity ? { userAssignedIdentity } : {}),
    roleAssignments,
    ...(keyHolders ? { keyHolders } : {}),
    warnings: f.warnings,
  };
}
