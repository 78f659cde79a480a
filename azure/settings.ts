/**
 * A caller's settings: one read-diff-write for changes and restores, so a retried call neither restarts the caller
 * again nor loses a setting. Restores bring account keys back by reading them again from Azure: cutover never keeps
 * a secret.
 */
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { AccountRef, SettingSnapshot, SiteRef } from '../contracts/model';
import { type AccountKeys, accountKeys } from './account';
import type { AzureContext } from './context';
import { azureCall, statusOf, toFailure } from './errors';
import { fingerprint } from './resources';
import type { TargetAdapter } from './targets';

/**
 * Reads the settings, applies `desired` (a value sets, `undefined` removes; the function sees the current settings)
 * and writes the whole dictionary back only if something changed. Returns the names changed.
 */
export async function applySettings(
  ctx: AzureContext,
  adapter: TargetAdapter,
  ref: SiteRef,
  what: string,
  desired: (current: Readonly<Record<string, string>>) => Promise<Record<string, string | undefined>>,
): Promise<{ changed: string[] }> {
  const name = adapter.describe(ref);
  const settings = await azureCall(`reading app settings of ${name}`, () => adapter.readSettings(ctx, ref));
  const changed: string[] = [];
  for (const [key, value] of Object.entries(await desired(settings))) {
    if (value === undefined ? !(key in settings) : settings[key] === value) continue;
    if (value === undefined) delete settings[key];
    else settings[key] = value;
    changed.push(key);
  }
  if (changed.length > 0)
    await azureCall(`${what} app settings of ${name}`, () => adapter.writeSettings(ctx, ref, settings));
  return { changed };
}

export function updateSettings(
  ctx: AzureContext,
  adapter: TargetAdapter,
  ref: SiteRef,
  change: { readonly remove: readonly string[]; readonly set: Readonly<Record<string, string>> },
): Promise<{ changed: string[] }> {
  return applySettings(ctx, adapter, ref, 'writing', async () => ({
    ...Object.fromEntries(change.remove.map((name) => [name, undefined])),
    ...change.set,
  }));
}

const cannotRestore = (message: string) =>
  new CutoverFailure(FailureType.CannotRestoreSetting, message, { nonRetryable: true });

/** Compensation: touched settings back as they were. */
export function restoreSettings(
  ctx: AzureContext,
  adapter: TargetAdapter,
  ref: SiteRef,
  before: Readonly<Record<string, SettingSnapshot>>,
  account: AccountRef,
): Promise<{ changed: string[] }> {
  return applySettings(ctx, adapter, ref, 'restoring', async (current) => {
    const desired: Record<string, string | undefined> = {};
    let keys: AccountKeys | undefined;
    for (const [name, snap] of Object.entries(before)) {
      switch (snap.kind) {
        case 'absent':
          desired[name] = undefined;
          break;
        case 'plain':
        case 'key-vault-reference':
          desired[name] = snap.value;
          break;
        case 'account-key':
          try {
            keys ??= await accountKeys(ctx, account);
          } catch (err) {
            if (statusOf(err) !== 400) throw toFailure(`reading the keys of ${account.name}`, err);
            // Azure refuses listKeys once local auth is off; this run did not switch it (it would have switched it
            // back first), so the key cannot come back: an operator decides.
            throw cannotRestore(
              `cannot restore ${name}: ${account.name} no longer accepts keys (local auth was disabled by another change), so the app stays on its identity — skip this step to accept that`,
            );
          }
          desired[name] = keys[snap.keyName];
          if (desired[name] === undefined)
            throw cannotRestore(`cannot restore ${name}: ${account.name} returned no ${snap.keyName}`);
          break;
        case 'secret':
          // Still the same secret: nothing to restore. Anything else cannot be brought back.
          if (current[name] !== undefined && fingerprint(current[name]) === snap.fingerprint) break;
          throw cannotRestore(`cannot restore ${name}: its earlier value was a secret that cutover does not keep`);
      }
    }
    return desired;
  });
}

/**
 * Swaps a slot into production (`forward`) or back out of it (`back`, the compensation). Idempotent: production's
 * settings tell whether it already runs the migrated configuration, so a retried swap never swaps twice.
 */
export async function swapSlots(
  ctx: AzureContext,
  adapter: TargetAdapter,
  ref: SiteRef,
  slot: string,
  direction: 'forward' | 'back',
  marker: { readonly remove: readonly string[]; readonly set: Readonly<Record<string, string>> },
): Promise<{ swapped: boolean }> {
  const production: SiteRef = { subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, name: ref.name };
  const settings = await azureCall(`reading app settings of ${ref.name}`, () => adapter.readSettings(ctx, production));
  const migrated =
    marker.remove.every((n) => !(n in settings)) && Object.entries(marker.set).every(([n, v]) => settings[n] === v);
  if ((direction === 'forward') === migrated) return { swapped: false };
  await azureCall(
    `swapping slot ${slot} of ${ref.name} ${direction === 'forward' ? 'into' : 'back out of'} production`,
    () => adapter.swap(ctx, production, slot, direction),
  );
  return { swapped: true };
}
