/**
 * Managed identities of a caller, for any kind of target: enable the one the plan names, and put the identity block
 * back as it was, removing only what this migration added. Both are idempotent.
 */
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { EnableIdentityResult, IdentitySnapshot, SiteRef } from '../contracts/model';
import type { MigrationPlan } from '../plan/schema';
import type { AzureContext } from './context';
import { azureCall } from './errors';
import type { TargetAdapter } from './targets';

const SYSTEM_AND_USER = 'SystemAssigned, UserAssigned';

export async function enableIdentity(
  ctx: AzureContext,
  adapter: TargetAdapter,
  ref: SiteRef,
  identity: MigrationPlan['identity'],
): Promise<EnableIdentityResult> {
  const name = adapter.describe(ref);
  const current = await azureCall(`reading app ${name}`, () => adapter.read(ctx, ref));
  const hasSystem = current.identity.type.includes('SystemAssigned');
  const uamis = Object.keys(current.identity.userAssigned);
  if (identity.type === 'system-assigned') {
    if (hasSystem && current.identity.principalId) return { principalId: current.identity.principalId, changed: false };
    const updated = await azureCall(`enabling the system-assigned identity of ${name}`, () =>
      adapter.patchIdentity(
        ctx,
        ref,
        uamis.length
          ? { type: SYSTEM_AND_USER, userAssignedIdentities: Object.fromEntries(uamis.map((u) => [u, {}])) }
          : { type: 'SystemAssigned' },
      ),
    );
    const principalId = updated.identity.principalId;
    if (!principalId)
      throw new CutoverFailure(FailureType.AzureUnavailable, `Azure returned no principalId for ${name}`);
    return { principalId, changed: true };
  }
  const wanted = identity.resourceId!;
  const attached = uamis.find((u) => u.toLowerCase() === wanted.toLowerCase());
  let result = current;
  if (!attached) {
    result = await azureCall(`attaching identity ${wanted.split('/').pop()} to ${name}`, () =>
      adapter.patchIdentity(ctx, ref, {
        type: hasSystem ? SYSTEM_AND_USER : 'UserAssigned',
        userAssignedIdentities: Object.fromEntries([...uamis, wanted].map((u) => [u, {}])),
      }),
    );
  }
  const entry = Object.entries(result.identity.userAssigned).find(([k]) => k.toLowerCase() === wanted.toLowerCase());
  const principalId = entry?.[1].principalId;
  if (!principalId)
    throw new CutoverFailure(FailureType.AzureUnavailable, `Azure returned no principalId for ${wanted}`);
  return { principalId, ...(entry[1].clientId ? { clientId: entry[1].clientId } : {}), changed: !attached };
}

/** Compensation: the identity block as it was, removing only what this migration added. */
export async function restoreIdentity(
  ctx: AzureContext,
  adapter: TargetAdapter,
  ref: SiteRef,
  before: IdentitySnapshot,
): Promise<{ changed: boolean }> {
  const name = adapter.describe(ref);
  const current = await azureCall(`reading app ${name}`, () => adapter.read(ctx, ref));
  const now = current.identity;
  const added = now.userAssignedIdentityIds.filter((u) => !before.userAssignedIdentityIds.includes(u));
  const systemAdded = now.type.includes('SystemAssigned') && !before.type.includes('SystemAssigned');
  if (added.length === 0 && !systemAdded) return { changed: false };
  const keepSystem = before.type.includes('SystemAssigned');
  const all = Object.keys(now.userAssigned);
  const remaining = all.filter((u) => !added.includes(u.toLowerCase()));
  const type = keepSystem
    ? remaining.length
      ? SYSTEM_AND_USER
      : 'SystemAssigned'
    : remaining.length
      ? 'UserAssigned'
      : 'None';
  const userAssignedIdentities = Object.fromEntries(all.map((u) => [u, added.includes(u.toLowerCase()) ? null : {}]));
  await azureCall(`restoring the identity of ${name}`, () =>
    adapter.patchIdentity(ctx, ref, type === 'None' || all.length === 0 ? { type } : { type, userAssignedIdentities }),
  );
  return { changed: true };
}
