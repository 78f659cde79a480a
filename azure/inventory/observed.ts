/**
 * The caller inventory auditors ask for: who called an account over a window, as its diagnostic logs show —
 * each identity by object id, resolved to the app or user-assigned identity it belongs to, and each key caller by
 * address and user agent, named after the key holder at that address when an inventory knows one.
 */
import type { AccountRef } from '../../contracts/model';
import type { ObservedCaller, TimeWindow } from '../../contracts/observation';
import type { AzureContext } from '../context';
import { statusOf } from '../errors';
import { logSources, observedCallers } from '../monitoring';
import { outboundAddresses } from './key-usage';

export type ObservedInventory =
  | { readonly status: 'observed'; readonly window: TimeWindow; readonly callers: readonly ObservedCaller[] }
  | { readonly status: 'unobservable'; readonly window: TimeWindow; readonly why: string };

/** Object ids of the identities of the subscription's apps (system- and user-assigned) and its UAMIs, by name. */
export async function identityNames(ctx: AzureContext, subscriptionId: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const { web, msi } = ctx.clients(subscriptionId);
  try {
    for await (const site of web.webApps.list()) {
      if (site.identity?.principalId) names.set(site.identity.principalId.toLowerCase(), `app ${site.name}`);
      for (const [id, uami] of Object.entries(site.identity?.userAssignedIdentities ?? {}))
        if (uami.principalId && !names.has(uami.principalId.toLowerCase()))
          names.set(uami.principalId.toLowerCase(), `identity ${id.split('/').pop()} (used by app ${site.name})`);
    }
    for await (const uami of msi.userAssignedIdentities.listBySubscription())
      if (uami.principalId && !names.has(uami.principalId.toLowerCase()))
        names.set(uami.principalId.toLowerCase(), `identity ${uami.name}`);
  } catch (err) {
    if (![403, 404, 405].includes(statusOf(err) ?? 0)) throw err; // what cannot be read stays unresolved
  }
  return names;
}

export async function observedInventory(
  ctx: AzureContext,
  account: AccountRef,
  window: TimeWindow,
  keyHolders: readonly string[],
): Promise<ObservedInventory> {
  const sources = await logSources(ctx, account);
  if (sources.status === 'unobservable') return { status: 'unobservable', window, why: sources.why };
  const seen = await observedCallers(ctx, account, sources, window);
  if (!seen.ok) return { status: 'unobservable', window, why: seen.why };
  const identities = await identityNames(ctx, account.subscriptionId);
  const holderAt = new Map<string, string>();
  for (const id of keyHolders)
    for (const ip of await outboundAddresses(ctx, id))
      holderAt.set(ip, `app ${id.replace(/^.*\/sites\//i, '').replace(/\/slots\//i, '/')}`);
  const callers = seen.rows.map((c) => {
    const knownAs = c.objectId ? identities.get(c.objectId.toLowerCase()) : holderAt.get(c.ip);
    return knownAs ? { ...c, knownAs } : c;
  });
  return { status: 'observed', window, callers };
}
