/**
 * Who used the account's key over a window, as its diagnostic logs show: the check behind the quiet period before a
 * key switch. Settings scans find the key holders we know how to read; the logs also show the ones nobody listed (a
 * notebook on a laptop, a CI job). Key calls of the caller being migrated, made before it moved, are told apart by
 * its outbound addresses; a key caller at a known key holder's address is named after it.
 */
import type { AccountRef } from '../../contracts/model';
import type { KeyUsageObservation, ObservedCaller, TimeWindow } from '../../contracts/observation';
import type { AzureContext } from '../context';
import { statusOf, toFailure } from '../errors';
import { callersQuery, logSources, observedCallers } from '../monitoring';

export interface KeyUsageQuery {
  readonly account: AccountRef;
  readonly window: TimeWindow;
  /** The caller this run moved off the key, and when it moved: its earlier key calls are expected. */
  readonly own?: { readonly resourceIds: readonly string[]; readonly movedAt: string };
  /** Key holders an inventory found, to name key callers at their addresses. */
  readonly knownHolders?: readonly string[];
}

const SITE =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)(?:\/slots\/([^/]+))?$/i;

/** A site's (or slot's) outbound addresses, as App Service reports them; empty when it is not a site. */
export async function outboundAddresses(ctx: AzureContext, resourceId: string): Promise<string[]> {
  const m = SITE.exec(resourceId);
  if (!m) return [];
  const [, sub, rg, name, slot] = m;
  const { web } = ctx.clients(sub);
  try {
    const site = slot ? await web.webApps.getSlot(rg, name, slot) : await web.webApps.get(rg, name);
    return [site.outboundIpAddresses, site.possibleOutboundIpAddresses]
      .flatMap((list) => (list ?? '').split(','))
      .map((ip) => ip.trim())
      .filter((ip) => ip !== '');
  } catch (err) {
    if (statusOf(err) === 403 || statusOf(err) === 404) return [];
    throw toFailure(`reading the outbound addresses of ${name}`, err);
  }
}

function describeCaller(c: ObservedCaller): string {
  const who = c.knownAs ?? `unknown caller at ${c.ip}`;
  return `${who}${c.userAgent ? ` (${c.userAgent})` : ''}: ${c.calls} key call${c.calls === 1 ? '' : 's'}, last ${c.lastSeen}`;
}

export async function observeKeyUsage(ctx: AzureContext, q: KeyUsageQuery): Promise<KeyUsageObservation> {
  const account = q.account;
  const base = { account: account.name, window: q.window, readAt: new Date().toISOString() };
  const sources = await logSources(ctx, account);
  if (sources.status === 'unobservable')
    return { ...base, verdict: 'unobservable', summary: sources.why, workspaces: [], keyCallers: [], ownKeyCalls: 0 };
  const workspaces = sources.workspaces.map((w) => w.id);
  const query = callersQuery(account);
  const seen = await observedCallers(ctx, account, sources, q.window);
  if (!seen.ok)
    return { ...base, verdict: 'unobservable', summary: seen.why, workspaces, query, keyCallers: [], ownKeyCalls: 0 };

  const keyCalls = seen.rows.filter((c) => c.objectId === undefined);
  const ownIps = new Set<string>();
  for (const id of q.own?.resourceIds ?? []) for (const ip of await outboundAddresses(ctx, id)) ownIps.add(ip);
  const holderIps = new Map<string, string>();
  for (const id of q.knownHolders ?? [])
    for (const ip of await outboundAddresses(ctx, id)) holderIps.set(ip, id.split('/').slice(-3).join('/'));
  let ownKeyCalls = 0;
  const others: ObservedCaller[] = [];
  for (const c of keyCalls) {
    if (q.own && ownIps.has(c.ip) && c.lastSeen <= q.own.movedAt) {
      ownKeyCalls += c.calls;
      continue;
    }
    const knownAs = ownIps.has(c.ip)
      ? 'the migrated caller (or an app sharing its outbound addresses), after it moved'
      : holderIps.has(c.ip)
        ? `key holder ${holderIps.get(c.ip)}`
        : undefined;
    others.push({ ...c, ...(knownAs ? { knownAs } : {}) });
  }
  const span = `${q.window.start} – ${q.window.end}`;
  if (others.length === 0)
    return {
      ...base,
      verdict: 'quiet',
      summary: `no key call in the account's logs over ${span}${ownKeyCalls ? ` but the migrated caller's ${ownKeyCalls} before it moved` : ''}`,
      workspaces,
      query,
      keyCallers: [],
      ownKeyCalls,
    };
  return {
    ...base,
    verdict: 'key-calls',
    summary: `key calls in the account's logs over ${span}: ${others.map(describeCaller).join('; ')}`,
    workspaces,
    query,
    keyCallers: others,
    ownKeyCalls,
  };
}
