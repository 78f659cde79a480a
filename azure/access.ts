/**
 * Data-plane access to Azure OpenAI accounts, to take it away and review it: whose object id a subject has and which
 * apps call with it, every role assignment that grants it an Azure OpenAI data action on an account (directly — what
 * a revoke removes — or through a group, which is reported and never touched), the removal of one assignment, and
 * the wait until the data plane really refuses the subject.
 */
import type { AccessFindings, AccessSubject, Grant, RefusalMeasurement, ResolvedSubject } from '../contracts/access';
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { AccountRef } from '../contracts/model';
import { createSubscriptionClient } from './clients';
import type { AzureContext } from './context';
import { statusOf, toFailure } from './errors';
import { httpRequest } from './http';
import { logSources, principalCalls } from './monitoring';
import { accountResourceId, authorizationScope, subscriptionOf } from './resources';
import { roleDefinitionReader } from './roles';

/** Data actions that let a principal call Azure OpenAI. */
const OPENAI_DATA_ACTION =
  /^(\*|Microsoft\.CognitiveServices\/\*|Microsoft\.CognitiveServices\/accounts\/(\*|OpenAI\/.*))$/i;
const UAMI =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i;

function notFound(what: string): CutoverFailure {
  return new CutoverFailure(FailureType.PreflightFailed, `${what} was not found`, { nonRetryable: true });
}

/** The subject's object id, and the identity probe of every app of `subscriptionIds` calling with it. */
export async function resolveSubject(
  ctx: AzureContext,
  input: {
    readonly subject: AccessSubject;
    readonly subscriptionIds: readonly string[];
    readonly probePath: string;
    /** The accounts in scope: an app's probe names those its settings point at. */
    readonly accounts?: readonly AccountRef[];
  },
): Promise<ResolvedSubject> {
  const { subject } = input;
  const probe = (host: string | undefined, clientId?: string) =>
    `https://${host ?? ''}${input.probePath}${clientId ? `?clientId=${encodeURIComponent(clientId)}` : ''}`;
  const withProbes = input.probePath !== 'none';
  let endpoints: Promise<Map<string, string>> | undefined; // read once, when the first app is found
  const called = async (siteId: string | undefined) =>
    accountsCalledBy(ctx, siteId ?? '', await (endpoints ??= accountEndpoints(ctx, input.accounts ?? [])));
  if (subject.kind === 'principal') {
    // A principal named by object id may be an app's identity: its apps are found by the identities they carry.
    const objectId = subject.objectId.toLowerCase();
    const probes: { app: string; url: string; accounts: string[] }[] = [];
    let label = `principal ${objectId}`;
    for (const sub of input.subscriptionIds)
      for await (const site of ctx.clients(sub).web.webApps.list()) {
        const system = site.identity?.principalId?.toLowerCase() === objectId;
        const uami = Object.entries(site.identity?.userAssignedIdentities ?? {}).find(
          ([, u]) => u.principalId?.toLowerCase() === objectId,
        );
        if (!system && !uami) continue;
        if (uami) label = `identity ${uami[0].split('/').pop()}`;
        else label = `app ${site.name}`;
        if (withProbes)
          probes.push({
            app: `app ${site.name}`,
            url: probe(site.defaultHostName, uami?.[1].clientId),
            accounts: await called(site.id),
          });
      }
    return { objectId, label, probes };
  }
  if (subject.kind === 'app') {
    const { web } = ctx.clients(subject.subscriptionId);
    const site = await (
      subject.slot
        ? web.webApps.getSlot(subject.resourceGroup, subject.name, subject.slot)
        : web.webApps.get(subject.resourceGroup, subject.name)
    ).catch((err: unknown) => {
      throw statusOf(err) === 404 ? notFound(`app ${subject.name}`) : toFailure(`reading app ${subject.name}`, err);
    });
    const objectId = site.identity?.principalId;
    if (!objectId)
      throw new CutoverFailure(FailureType.PreflightFailed, `app ${subject.name} has no system-assigned identity`, {
        nonRetryable: true,
      });
    const label = `app ${subject.name}${subject.slot ? `/${subject.slot}` : ''}`;
    const calls = await called(site.id);
    return {
      objectId,
      label,
      probes: withProbes ? [{ app: label, url: probe(site.defaultHostName), accounts: calls }] : [],
    };
  }
  const m = UAMI.exec(subject.resourceId);
  if (!m) throw notFound(`user-assigned identity ${subject.resourceId}`);
  const uami = await ctx
    .clients(m[1])
    .msi.userAssignedIdentities.get(m[2], m[3])
    .catch((err: unknown) => {
      throw statusOf(err) === 404 ? notFound(`identity ${m[3]}`) : toFailure(`reading identity ${m[3]}`, err);
    });
  if (!uami.principalId) throw notFound(`the principal of identity ${m[3]}`);
  const probes: { app: string; url: string; accounts: string[] }[] = [];
  if (withProbes)
    for (const sub of input.subscriptionIds)
      for await (const site of ctx.clients(sub).web.webApps.list()) {
        const attached = Object.keys(site.identity?.userAssignedIdentities ?? {}).some(
          (id) => id.toLowerCase() === subject.resourceId.toLowerCase(),
        );
        if (attached)
          probes.push({
            app: `app ${site.name}`,
            url: probe(site.defaultHostName, uami.clientId),
            accounts: await called(site.id),
          });
      }
  return { objectId: uami.principalId.toLowerCase(), label: `identity ${m[3]}`, probes };
}

/** Every subscription the credential can read. */
export async function readableSubscriptions(ctx: AzureContext): Promise<string[]> {
  const out: string[] = [];
  for await (const s of createSubscriptionClient(ctx.credential(), ctx.endpoints, ctx.arm).subscriptions.list())
    if (s.subscriptionId) out.push(s.subscriptionId);
  return out;
}

const SITE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)$/i;

/** Each account's endpoint (lower case, no trailing slash), by name; an unreadable account is left out. */
async function accountEndpoints(ctx: AzureContext, accounts: readonly AccountRef[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const a of accounts) {
    const acc = await ctx
      .clients(a.subscriptionId)
      .cognitive.accounts.get(a.resourceGroup, a.name)
      .catch(() => undefined);
    const endpoint = acc?.properties?.endpoint?.toLowerCase().replace(/\/+$/, '');
    if (endpoint) out.set(a.name, endpoint);
  }
  return out;
}

/** Which of the accounts an app's settings point at (an endpoint setting naming the account's host). */
async function accountsCalledBy(
  ctx: AzureContext,
  siteId: string,
  endpoints: ReadonlyMap<string, string>,
): Promise<string[]> {
  const m = SITE_ID.exec(siteId);
  if (!m || endpoints.size === 0) return [];
  let values: string[];
  try {
    const settings = await ctx.clients(m[1]).web.webApps.listApplicationSettings(m[2], m[3]);
    values = Object.values(settings.properties ?? {}).map((v) => v.toLowerCase().replace(/\/+$/, ''));
  } catch {
    return []; // unreadable settings: which account it calls stays unknown
  }
  return [...endpoints].filter(([, endpoint]) => values.some((v) => v.startsWith(endpoint))).map(([name]) => name);
}

/** The Azure OpenAI accounts (and AI Services accounts) of the subscriptions. */
export async function openAiAccounts(ctx: AzureContext, subscriptionIds: readonly string[]): Promise<AccountRef[]> {
  const out: AccountRef[] = [];
  for (const subscriptionId of subscriptionIds)
    for await (const a of ctx.clients(subscriptionId).cognitive.accounts.list()) {
      const rg = /resourceGroups\/([^/]+)/i.exec(a.id ?? '')?.[1];
      if (rg && a.name && /^(OpenAI|AIServices)$/i.test(a.kind ?? ''))
        out.push({ subscriptionId, resourceGroup: rg, name: a.name });
    }
  return out;
}

/** Every assignment reaching the subject on the accounts, sorted into what a revoke removes and what it leaves. */
export async function findGrants(
  ctx: AzureContext,
  input: { readonly subject: ResolvedSubject; readonly accounts: readonly AccountRef[] },
): Promise<AccessFindings> {
  const grants = new Map<string, Grant & { accounts: string[]; data: boolean }>();
  const roleOf = roleDefinitionReader();
  for (const account of input.accounts) {
    const { authorization } = ctx.clients(account.subscriptionId);
    const scope = authorizationScope(accountResourceId(account));
    try {
      // assignedTo() returns the principal's own assignments and those of every group it belongs to, at the
      // account and above.
      for await (const ra of authorization.roleAssignments.listForScope(scope, {
        filter: `assignedTo('${input.subject.objectId}')`,
      })) {
        if (!ra.id) continue;
        const def = await roleOf(authorization, ra.roleDefinitionId ?? '');
        const role = { name: def.name, data: def.dataActions.some((a) => OPENAI_DATA_ACTION.test(a)) };
        const g = grants.get(ra.id.toLowerCase()) ?? {
          id: ra.id,
          scope: ra.scope ?? '',
          role: role.name,
          principalId: (ra.principalId ?? '').toLowerCase(),
          ...(ra.principalType ? { principalType: ra.principalType } : {}),
          accounts: [],
          data: role.data,
        };
        if (!g.accounts.includes(account.name)) g.accounts.push(account.name);
        grants.set(ra.id.toLowerCase(), g);
      }
    } catch (err) {
      throw toFailure(`listing the role assignments of ${input.subject.label} on ${account.name}`, err);
    }
  }
  const all = [...grants.values()].sort((a, b) => a.id.localeCompare(b.id));
  const plain = ({ data: _data, ...g }: Grant & { data: boolean }): Grant => g;
  const own = (g: Grant) => g.principalId === input.subject.objectId.toLowerCase();
  return {
    subject: input.subject,
    accounts: input.accounts.map((a) => a.name),
    toRemove: all.filter((g) => g.data && own(g)).map(plain),
    inherited: all.filter((g) => g.data && !own(g)).map(plain),
    otherKinds: all.filter((g) => !g.data && own(g)).map(plain),
  };
}

/** Deletes one role assignment by id; deleting one already gone is success (a retry after a timeout). */
export async function deleteGrant(ctx: AzureContext, grant: Grant): Promise<{ deleted: boolean; at: string }> {
  const { authorization } = ctx.clients(subscriptionOf(grant.id));
  try {
    // The SDK's URL template is `/{roleAssignmentId}`: the id goes without its leading slash.
    const res = await authorization.roleAssignments.deleteById(grant.id.replace(/^\/+/, ''));
    return { deleted: !!res?.id, at: new Date().toISOString() };
  } catch (err) {
    if (statusOf(err) === 404) return { deleted: false, at: new Date().toISOString() };
    throw toFailure(`deleting role assignment ${grant.id.split('/').pop()} (${grant.role} on ${grant.scope})`, err);
  }
}

export interface RefusalWait {
  readonly subject: ResolvedSubject;
  readonly accounts: readonly AccountRef[];
  /** When the last grant was removed. */
  readonly since: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly logIngestionDelayMs: number;
  readonly caCert?: string;
}

/**
 * Polls until the data plane refuses the subject: every app calling with it answers its identity probe with a
 * refusal, or — without apps to probe — the accounts' logs show the subject refused after the removal and no success
 * after that. Heartbeats its checks, so a successor resumes the count and the first refusal times.
 */
export async function waitUntilRefused(
  ctx: AzureContext,
  input: RefusalWait,
  resumed?: { checks?: number; refusedAt?: Record<string, string> },
): Promise<RefusalMeasurement> {
  const since = Date.parse(input.since);
  const refusedAt: Record<string, string> = { ...(resumed?.refusedAt ?? {}) };
  let checks = resumed?.checks ?? 0;
  const method = input.subject.probes.length ? 'probe' : 'logs';
  for (;;) {
    checks++;
    let detail: string;
    if (method === 'probe') {
      for (const p of input.subject.probes) {
        const res = await httpRequest(p.url, {
          timeoutMs: 10_000,
          ca: ctx.endpoints.caCert,
          signal: ctx.signal(),
        }).catch(() => undefined);
        // A refused identity: the app answers, but not 2xx (its token calls get 401/403).
        if (res && res.status >= 400 && res.status !== 404) refusedAt[p.app] ??= new Date().toISOString();
        else delete refusedAt[p.app];
      }
      const done = input.subject.probes.every((p) => refusedAt[p.app]);
      detail = `${Object.keys(refusedAt).length}/${input.subject.probes.length} callers refused`;
      ctx.progress({ checks, refusedAt });
      if (done) {
        const first = Object.values(refusedAt).sort().at(-1)!;
        return { method, refused: true, firstRefusedAt: first, measuredMs: Date.parse(first) - since, checks, detail };
      }
    } else {
      const r = await refusedInLogs(ctx, input);
      detail = r.detail;
      ctx.progress({ checks, refusedAt });
      if (r.silent) return { method, refused: true, checks, detail };
      if (r.refusedAt)
        return {
          method,
          refused: true,
          firstRefusedAt: r.refusedAt,
          measuredMs: Date.parse(r.refusedAt) - since,
          checks,
          detail,
        };
    }
    if (Date.now() - since + input.intervalMs > input.timeoutMs) return { method, refused: false, checks, detail };
    await ctx.pause(input.intervalMs);
  }
}

/**
 * From the accounts' logs: the first refusal of the subject after its last success since the removal — or, when the
 * subject made no call at all, no success over a window the logs have fully received (twice the ingestion delay)
 * while no direct grant is left: refused as far as anyone can observe, without a measured time.
 */
async function refusedInLogs(
  ctx: AzureContext,
  input: RefusalWait,
): Promise<{ refusedAt?: string; silent?: boolean; detail: string }> {
  const window = { start: input.since, end: new Date().toISOString() };
  const calls: { at: string; status: number }[] = [];
  for (const account of input.accounts) {
    const sources = await logSources(ctx, account);
    if (sources.status === 'unobservable') return { detail: sources.why };
    const seen = await principalCalls(ctx, account, sources, input.subject.objectId, window);
    if (!seen.ok) return { detail: seen.why };
    calls.push(...seen.rows);
  }
  calls.sort((a, b) => a.at.localeCompare(b.at));
  const lastOk = calls.filter((c) => c.status < 400).at(-1)?.at ?? '';
  const refused = calls.find((c) => (c.status === 401 || c.status === 403) && c.at > lastOk);
  if (refused) return { refusedAt: refused.at, detail: `refused in the logs at ${refused.at}` };
  const settled = Date.now() - Date.parse(input.since) >= 2 * input.logIngestionDelayMs + input.intervalMs;
  if (!lastOk && settled) {
    const grants = await findGrants(ctx, { subject: input.subject, accounts: input.accounts });
    if (grants.toRemove.length === 0)
      return {
        silent: true,
        detail: 'no call of the subject since the removal (logs) and no direct grant left (RBAC): not measured',
      };
  }
  return {
    detail: lastOk
      ? `still calling successfully at ${lastOk} (logs, ${Math.round(input.logIngestionDelayMs / 1000)}s ingestion delay)`
      : 'no call of the subject in the logs since the removal yet',
  };
}
