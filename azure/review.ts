/**
 * An access review: every identity holding an Azure OpenAI data-plane role on the accounts, compared with an
 * approved-access list — unapproved, expired, and unused for N days (from the accounts' logs) — as auditors run it.
 */
import type { AccountRef } from '../contracts/model';
import type { AzureContext } from './context';
import { identityNames, tokenCallers } from './inventory';
import { logSources, observedCallers } from './monitoring';

export interface ApprovedEntry {
  /** The object id the entry names (resolved from an identity or app by the caller). */
  readonly objectId: string;
  /** As written in the list, for people. */
  readonly subject: string;
  /** Account names, or `*` for every one. */
  readonly accounts: readonly string[];
  readonly owner: string;
  /** YYYY-MM-DD: approved up to and including this day. */
  readonly expires: string;
  readonly purpose: string;
}

export type ReviewStatus = 'approved' | 'unapproved' | 'expired' | 'unused';

export interface ReviewRow {
  readonly objectId: string;
  readonly who: string;
  readonly principalType?: string;
  readonly account: string;
  readonly role: string;
  readonly scope: string;
  readonly status: ReviewStatus;
  readonly owner?: string;
  readonly expires?: string;
  readonly purpose?: string;
  /** Last call seen in the account's logs within the window; absent: none (or logs unreadable: see `logs`). */
  readonly lastSeen?: string;
  readonly calls: number;
}

export interface ReviewReport {
  readonly reviewedAt: string;
  readonly unusedDays: number;
  readonly accounts: readonly string[];
  readonly rows: readonly ReviewRow[];
  /** Accounts whose logs could not be read: unused cannot be judged there. */
  readonly logs: readonly { readonly account: string; readonly why: string }[];
}

export async function reviewAccess(
  ctx: AzureContext,
  input: {
    readonly accounts: readonly AccountRef[];
    readonly approved: readonly ApprovedEntry[];
    readonly unusedDays: number;
    readonly now: Date;
  },
): Promise<ReviewReport> {
  const today = input.now.toISOString().slice(0, 10);
  const window = {
    start: new Date(input.now.getTime() - input.unusedDays * 86_400_000).toISOString(),
    end: input.now.toISOString(),
  };
  const names = new Map<string, string>();
  for (const sub of new Set(input.accounts.map((a) => a.subscriptionId)))
    for (const [id, name] of await identityNames(ctx, sub)) names.set(id, name);
  const rows: ReviewRow[] = [];
  const logs: { account: string; why: string }[] = [];
  for (const account of input.accounts) {
    const holders = await tokenCallers(ctx, account);
    const usage = new Map<string, { calls: number; lastSeen: string }>();
    const sources = await logSources(ctx, account);
    let readable = sources.status === 'observable';
    if (sources.status === 'observable') {
      const seen = await observedCallers(ctx, account, sources, window);
      if (seen.ok)
        for (const c of seen.rows.filter((x) => x.objectId)) {
          const k = c.objectId!.toLowerCase();
          const u = usage.get(k) ?? { calls: 0, lastSeen: '' };
          usage.set(k, {
            calls: u.calls + c.calls - c.failed,
            lastSeen: c.lastSeen > u.lastSeen ? c.lastSeen : u.lastSeen,
          });
        }
      else {
        readable = false;
        logs.push({ account: account.name, why: seen.why });
      }
    } else logs.push({ account: account.name, why: sources.why });
    for (const h of holders) {
      const objectId = h.principalId.toLowerCase();
      const entry = input.approved.find(
        (e) =>
          e.objectId.toLowerCase() === objectId &&
          (e.accounts.includes('*') || e.accounts.some((a) => a.toLowerCase() === account.name.toLowerCase())),
      );
      const used = usage.get(objectId);
      const status: ReviewStatus = !entry
        ? 'unapproved'
        : entry.expires < today
          ? 'expired'
          : readable && !used?.calls
            ? 'unused'
            : 'approved';
      rows.push({
        objectId,
        who: names.get(objectId) ?? (h.principalType === 'Group' ? 'group' : 'unresolved principal'),
        ...(h.principalType ? { principalType: h.principalType } : {}),
        account: account.name,
        role: h.role,
        scope: h.scope,
        status,
        ...(entry ? { owner: entry.owner, expires: entry.expires, purpose: entry.purpose } : {}),
        ...(used?.lastSeen ? { lastSeen: used.lastSeen } : {}),
        calls: used?.calls ?? 0,
      });
    }
  }
  const order: Record<ReviewStatus, number> = { unapproved: 0, expired: 1, unused: 2, approved: 3 };
  rows.sort((a, b) => order[a.status] - order[b.status] || a.who.localeCompare(b.who));
  return {
    reviewedAt: input.now.toISOString(),
    unusedDays: input.unusedDays,
    accounts: input.accounts.map((a) => a.name),
    rows,
    logs,
  };
}
