/**
 * The Azure OpenAI account: its keys (read only to recognise or restore them, never returned to a workflow), its
 * state, and its key-auth switch. The switch waits out an update already under way instead of colliding with it.
 */
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { AccountRef } from '../contracts/model';
import type { AzureContext } from './context';
import { azureCall, azureErrorInfo, statusOf, toFailure } from './errors';

/** Provisioning states of an account whose update has not finished. */
const TRANSITIONAL_STATES = new Set(['Accepted', 'Creating', 'Updating', 'Deleting', 'Moving']);

export interface AccountKeys {
  readonly key1?: string;
  readonly key2?: string;
}

export async function accountKeys(ctx: AzureContext, account: AccountRef): Promise<AccountKeys> {
  const keys = await ctx
    .clients(account.subscriptionId)
    .cognitive.accounts.listKeys(account.resourceGroup, account.name);
  return { key1: keys.key1, key2: keys.key2 };
}

/**
 * The keys and every endpoint of the account, to recognise them in callers' settings; Azure refuses listKeys with
 * 400 once local auth is off, and then nobody can be calling with a key.
 */
export async function keysAndEndpoints(
  ctx: AzureContext,
  account: AccountRef,
): Promise<(AccountKeys & { readonly endpoints: readonly string[] }) | 'local-auth-disabled'> {
  let keys: AccountKeys;
  try {
    keys = await accountKeys(ctx, account);
  } catch (err) {
    if (statusOf(err) === 400) return 'local-auth-disabled';
    throw toFailure(`reading the keys of ${account.name}`, err);
  }
  const { cognitive } = ctx.clients(account.subscriptionId);
  const a = await azureCall(`reading account ${account.name}`, () =>
    cognitive.accounts.get(account.resourceGroup, account.name),
  );
  const endpoints = [a.properties?.endpoint, ...Object.values(a.properties?.endpoints ?? {})].filter(
    (e): e is string => typeof e === 'string' && e !== '',
  );
  return { ...keys, endpoints };
}

/** The account's key-auth switch and whether an update of it is under way. */
export async function readAccountState(
  ctx: AzureContext,
  account: AccountRef,
): Promise<{ disableLocalAuth: boolean; provisioningState: string }> {
  const a = await azureCall(`reading account ${account.name}`, () =>
    ctx.clients(account.subscriptionId).cognitive.accounts.get(account.resourceGroup, account.name),
  );
  return {
    disableLocalAuth: a.properties?.disableLocalAuth === true,
    provisioningState: a.properties?.provisioningState ?? 'Succeeded',
  };
}

/** Switches key auth off (or back on); waits for an update in progress first. Idempotent. */
export async function setLocalAuth(
  ctx: AzureContext,
  account: AccountRef,
  disabled: boolean,
): Promise<{ changed: boolean }> {
  const { cognitive } = ctx.clients(account.subscriptionId);
  const read = () =>
    azureCall(`reading account ${account.name}`, () => cognitive.accounts.get(account.resourceGroup, account.name));
  let current = await read();
  // Another update of the account is under way (Azure would refuse ours with 409): wait for it to settle.
  while (TRANSITIONAL_STATES.has(current.properties?.provisioningState ?? '')) {
    ctx.progress({ waitingFor: `an update of ${account.name} in progress (${current.properties?.provisioningState})` });
    await ctx.pause(ctx.lroIntervalMs);
    current = await read();
  }
  if ((current.properties?.disableLocalAuth === true) === disabled) return { changed: false };
  const action = `${disabled ? 'disabling' : 're-enabling'} local auth on ${account.name}`;
  let result: Awaited<ReturnType<typeof cognitive.accounts.beginUpdateAndWait>>;
  try {
    result = await cognitive.accounts.beginUpdateAndWait(
      account.resourceGroup,
      account.name,
      { properties: { disableLocalAuth: disabled } },
      { updateIntervalInMs: ctx.lroIntervalMs, abortSignal: ctx.signal() },
    );
  } catch (err) {
    // An operation that ends Failed (a policy denial, say) throws a plain Error, which would read as "Azure
    // unreachable" and be retried. The account tells: Failed is Azure's final answer, not a transient error.
    if (statusOf(err) === undefined) {
      const after = await cognitive.accounts.get(account.resourceGroup, account.name).catch(() => undefined);
      if (after?.properties?.provisioningState === 'Failed')
        throw new CutoverFailure(FailureType.AzureOperationFailed, `${action} failed: ${azureErrorInfo(err).message}`, {
          nonRetryable: true,
        });
    }
    throw toFailure(action, err);
  }
  if (result.properties?.provisioningState && result.properties.provisioningState !== 'Succeeded')
    throw new CutoverFailure(
      FailureType.AzureOperationFailed,
      `updating ${account.name} ended ${result.properties.provisioningState}`,
      { nonRetryable: true },
    );
  return { changed: true };
}
