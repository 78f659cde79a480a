/**
 * Who calls an account: the key-holder check (every caller still configured with its key, across every readable
 * subscription, Key Vault references resolved). Used by preflight, by the key switch, and by `cutover inventory`.
 */
import type { AccountRef, KeyHolderScan } from '../../contracts/model';
import { keysAndEndpoints } from '../account';
import type { AzureContext } from '../context';
import { scanKeyHolders } from './key-holders';

export interface KeyHolderQuery {
  readonly account: AccountRef;
  /** Resource ids this migration moved off the key: exact ids, case-insensitive. */
  readonly exclude: readonly string[];
}

export async function findKeyHolders(ctx: AzureContext, query: KeyHolderQuery): Promise<KeyHolderScan> {
  return scanKeyHolders(
    {
      credential: ctx.credential(),
      endpoints: ctx.endpoints,
      clients: ctx.clients,
      arm: ctx.arm,
      progress: ctx.progress,
    },
    query,
    await keysAndEndpoints(ctx, query.account),
  );
}

export { parseKeyVaultReference, type KeyVaultReference } from './key-holders';
export { tokenCallers, type TokenCaller } from './token-callers';
export { identityNames, observedInventory, type ObservedInventory } from './observed';
