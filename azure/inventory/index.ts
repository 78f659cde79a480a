/**
 * Who calls an account: the key-holder check (every caller still configured with its key, across every readable
 * subscription, Key Vault references resolved). Used by preflight, by the key switch, and by `cutover inventory`.
 */
import type { AccountRef, KeyHolderScan } from '../../contracts/model';
import { keysAndEndpoints } from '../account';
import type { AzureContext } from '../context';
import { scanKeyHolders, scanKeyHoldersOfAccounts, type KeyHolderDeps } from './key-holders';

export interface KeyHolderQuery {
  readonly account: AccountRef;
  /** Resource ids this migration moved off the key: exact ids, case-insensitive. */
  readonly exclude: readonly string[];
}

const scanDeps = (ctx: AzureContext): KeyHolderDeps => ({
  credential: ctx.credential(),
  endpoints: ctx.endpoints,
  clients: ctx.clients,
  arm: ctx.arm,
  progress: ctx.progress,
});

export async function findKeyHolders(ctx: AzureContext, query: KeyHolderQuery): Promise<KeyHolderScan> {
  return scanKeyHolders(scanDeps(ctx), query, await keysAndEndpoints(ctx, query.account));
}

/**
 * The key-holder checks of several accounts with one pass over the estate (every app's settings read once, not
 * once per account), in the order asked.
 */
export async function findKeyHoldersOfAccounts(
  ctx: AzureContext,
  queries: readonly KeyHolderQuery[],
): Promise<KeyHolderScan[]> {
  const accounts = [];
  for (const input of queries) accounts.push({ input, account: await keysAndEndpoints(ctx, input.account) });
  return scanKeyHoldersOfAccounts(scanDeps(ctx), accounts);
}

export { parseKeyVaultReference, type KeyVaultReference } from './vault-secrets';
export { tokenCallers, type TokenCaller } from './token-callers';
export { identityNames, observedInventory, type ObservedInventory } from './observed';
