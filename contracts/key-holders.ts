/**
 * Pure helpers over a key-holder check (see azure/inventory/key-holders.ts), shared by the workflow, the activities and
 * the CLI: the one-line summary people read, and the signature that tells one answer from another.
 */
import type { KeyCaller, KeyHolderScan } from './model';

/** What distinguishes one answer from another for people: the verdict, who holds the key, what was unreadable. */
export function scanSignature(scan: KeyHolderScan): string {
  const holders = scan.holders.map((h) => `${h.resourceId.toLowerCase()}${h.unverifiable ? '?' : ''}`).sort();
  const unreadable = scan.scopes
    .filter((s) => s.status !== 'scanned')
    .map((s) => s.scope.toLowerCase())
    .sort();
  return [scan.verdict, ...holders, ...unreadable].join('|');
}

/** `claims-bot`, `claims-bot/qa`, with the subscription when it is not the account's. */
function shortId(resourceId: string, accountSubscription: string): string {
  const ml =
    /subscriptions\/([^/]+)\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/connections\/([^/]+)/i.exec(
      resourceId,
    );
  if (ml)
    return ml[1].toLowerCase() === accountSubscription.toLowerCase()
      ? `${ml[2]}/${ml[3]}`
      : `${ml[2]}/${ml[3]} in subscription ${ml[1]}`;
  const m =
    /subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.(?:Web\/sites|App\/containerApps)\/([^/]+)(?:\/slots\/([^/]+))?/i.exec(
      resourceId,
    );
  if (!m) return resourceId;
  const name = `${m[3]}${m[4] ? `/${m[4]}` : ''}`;
  return m[1].toLowerCase() === accountSubscription.toLowerCase() ? name : `${name} in subscription ${m[1]}`;
}

/** One line for people: who holds the key, or what could not be read, and how much was scanned. */
export function describeScan(scan: KeyHolderScan): string {
  if (scan.localAuthDisabled) return 'local auth is already disabled: no key can be in use';
  const sub = /subscriptions\/([^/]+)/i.exec(scan.account)?.[1] ?? '';
  const scanned = scan.scopes.filter((s) => s.status === 'scanned');
  const resources = scanned.reduce((n, s) => n + s.resources, 0);
  const where = `${scanned.length} subscription${scanned.length === 1 ? '' : 's'} and ${resources} app${resources === 1 ? '' : 's'} or slots scanned`;
  if (scan.verdict === 'clear') return `no other caller holds the key (${where})`;
  const parts = scan.holders.map((h) => {
    const via = h.references?.length && !h.unverifiable ? ' through Key Vault' : '';
    const noun =
      h.kind === 'function-app'
        ? 'function app '
        : h.kind === 'container-app'
          ? 'container app '
          : h.kind === 'ml-connection'
            ? 'ML connection '
            : h.kind === 'ai-search'
              ? 'search service '
              : '';
    return `${noun}${shortId(h.resourceId, sub)} (${h.unverifiable ?? h.settingNames.join(', ')}${via})`;
  });
  for (const s of scan.scopes.filter((x) => x.status !== 'scanned'))
    parts.push(`${s.scope} could not be read (${s.reason ?? 'no access'})`);
  const verdict =
    scan.verdict === 'holders' ? 'other callers still hold the key' : 'cannot prove nobody else holds the key';
  return `${verdict}: ${parts.join('; ')} (${where})`;
}

/** The scan in the older flat shape: one entry per holder, and one per scope that could not be read. */
export function keyCallersOf(scan: KeyHolderScan): KeyCaller[] {
  return [
    ...scan.holders.map((h) => ({
      siteResourceId: h.resourceId,
      ...(h.kind ? { kind: h.kind } : {}),
      settingNames: h.settingNames,
      ...(h.unverifiable ? { unverifiable: h.unverifiable } : {}),
    })),
    ...scan.scopes
      .filter((s) => s.status !== 'scanned')
      .map((s) => ({ siteResourceId: s.scope, settingNames: [], unverifiable: s.reason ?? 'could not be read' })),
  ];
}
