/**
 * A fleet's callers found rather than listed: every app that holds a key of one of the fleet's accounts, in every
 * subscription the worker can read (one pass over the estate for all the accounts), kept when it matches the
 * filters (kinds, resource groups, tags). Read-only. What the pass could not prove either way (a setting it could
 * not read) is reported, never guessed: such an app is left for the author to list or fix.
 */
import type { AccountRef, KeyHolder } from '../../contracts/model';
import type { TargetKind } from '../../plan/targets';
import type { AzureContext } from '../context';
import { findKeyHoldersOfAccounts } from '.';

export interface DiscoveryFilter {
  readonly kinds?: readonly TargetKind[];
  readonly resourceGroups?: readonly string[];
  /** Every tag given must be on the app with this value (case-insensitive names, exact values). */
  readonly tags?: Readonly<Record<string, string>>;
  /** The tag whose value becomes the caller's `env` (waves by environment). */
  readonly envTag: string;
}

/** A caller as the fleet plan lists one. */
export interface DiscoveredCaller {
  readonly name: string;
  readonly kind: TargetKind;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly account: string;
  readonly env?: string;
}

export interface Discovery {
  readonly callers: readonly DiscoveredCaller[];
  /** Key holders the filters left out. */
  readonly leftOut: number;
  /** What the pass could not settle, and key holders that are slots (their app's plan decides). */
  readonly notes: readonly string[];
  /** Apps that cannot be one caller of one account: they hold the keys of several. */
  readonly problems: readonly string[];
}

/** An App Service app or slot, or a container app: subscription, resource group, name, slot. */
const CALLER =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/(?:Microsoft\.Web\/sites|Microsoft\.App\/containerApps)\/([^/]+)(\/slots\/([^/]+))?$/i;

function tagOf(tags: KeyHolder['tags'], name: string): string | undefined {
  const found = Object.entries(tags ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase());
  return found?.[1];
}

function matches(holder: KeyHolder, kind: TargetKind, resourceGroup: string, filter: DiscoveryFilter): boolean {
  if (filter.kinds?.length && !filter.kinds.includes(kind)) return false;
  if (
    filter.resourceGroups?.length &&
    !filter.resourceGroups.some((g) => g.toLowerCase() === resourceGroup.toLowerCase())
  )
    return false;
  return Object.entries(filter.tags ?? {}).every(([k, v]) => tagOf(holder.tags, k) === v);
}

export async function discoverCallers(
  ctx: AzureContext,
  accounts: readonly AccountRef[],
  filter: DiscoveryFilter,
): Promise<Discovery> {
  const scans = await findKeyHoldersOfAccounts(
    ctx,
    accounts.map((account) => ({ account, exclude: [] })),
  );
  const found = new Map<string, DiscoveredCaller & { accounts: string[] }>();
  const notes: string[] = [];
  let leftOut = 0;
  scans.forEach((scan, a) => {
    const account = accounts[a].name;
    for (const s of scan.scopes.filter((x) => x.status !== 'scanned'))
      notes.push(
        `${account}: ${s.scope} could not be read (${s.reason ?? 'no access'}): its callers are not discovered`,
      );
    for (const holder of scan.holders) {
      if (holder.kind === 'ai-search') {
        // Its plan names the skills and vectorizers to move and which key they hold: no fleet default fits.
        notes.push(
          `${account}: search service ${holder.resourceId.split('/').pop()} holds the key (${holder.settingNames.join(', ')}): migrate it with a plan of its own`,
        );
        continue;
      }
      const m = CALLER.exec(holder.resourceId);
      if (!m) continue;
      const [, subscriptionId, resourceGroup, name, , slot] = m;
      if (holder.unverifiable) {
        notes.push(
          `${account}: cannot tell whether ${name}${slot ? `/${slot}` : ''} holds the key (${holder.unverifiable})`,
        );
        continue;
      }
      if (slot) {
        notes.push(`${account}: slot ${name}/${slot} holds the key: a slot-swap plan for ${name} migrates it`);
        continue;
      }
      const kind: TargetKind = holder.kind ?? 'app-service';
      if (!matches(holder, kind, resourceGroup, filter)) {
        leftOut++;
        continue;
      }
      const known = found.get(name.toLowerCase());
      if (known) {
        known.accounts.push(account);
        continue;
      }
      const env = tagOf(holder.tags, filter.envTag);
      found.set(name.toLowerCase(), {
        name,
        kind,
        subscriptionId: subscriptionId.toLowerCase(),
        resourceGroup,
        account,
        ...(env ? { env } : {}),
        accounts: [account],
      });
    }
  });
  const problems: string[] = [];
  const callers: DiscoveredCaller[] = [];
  for (const { accounts: held, ...caller } of found.values()) {
    if (held.length > 1)
      problems.push(
        `${caller.name} holds the keys of ${held.join(' and ')}: list it under one account, with both endpoints in its plan`,
      );
    else callers.push(caller);
  }
  callers.sort((x, y) => x.name.localeCompare(y.name));
  return { callers, leftOut, notes, problems };
}
