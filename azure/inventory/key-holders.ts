/**
 * Who still holds an account's key: every app and slot, every container app (its env vars, their secrets
 * resolved), every AI Search service (its skills and vectorizers, search-holders.ts) and every ML workspace's key
 * connections, in every subscription the worker can read; their settings compared with the account's keys, and the
 * Key Vault secrets their references point to (vault-secrets.ts).
 * Key auth is a switch of the account, so it may only be turned off when this finds nobody — and anything it could
 * not read (a subscription, an app's settings, a referenced secret) makes the answer inconclusive, never clean.
 * Key values never leave this module: results carry resource ids and setting names only.
 */
import type { Site } from '@azure/arm-appservice';
import type { TokenCredential } from '@azure/core-auth';
import type { AccountRef, KeyHolder, KeyHolderScan, ScannedScope, SiteRef } from '../../contracts/model';
import { type ArmClientOptions, type AzureClients, type AzureEndpoints, createSubscriptionClient } from '../clients';
import { isPermanent, statusOf, toFailure } from '../errors';
import { accountResourceId, siteResourceId } from '../resources';
import { kindOfResource } from '../targets';
import { containerApp } from '../targets/container-apps';
import { callerSettings, unreadableSettings } from './caller-settings';
import { apiKeyConnections } from './ml-connections';
import { searchKeySettings, searchServicesOf } from './search-holders';
import { parseKeyVaultReference, VaultSecrets } from './vault-secrets';
import type { TargetKind } from '../../plan/schema';

export interface KeyHolderDeps {
  readonly credential: TokenCredential;
  readonly endpoints: AzureEndpoints;
  readonly clients: (subscriptionId: string) => AzureClients;
  /** How the subscriptions client is built (the governor it shares with `clients`). */
  readonly arm?: ArmClientOptions;
  /** Reports which resource is being read (an activity heartbeat). */
  readonly progress?: (details: unknown) => void;
}

export interface ScanInput {
  readonly account: AccountRef;
  /** Resource ids (apps or slots) this migration moved off the key: exact ids, case-insensitive. */
  readonly exclude: readonly string[];
}

/** What the scan knows of the account: its keys, and the endpoints an app that calls it must be configured with. */
type Keys = ReadonlySet<string>;

export interface AccountKeys {
  readonly keys: Keys;
  /** Endpoint URLs of the account (`properties.endpoint` and `properties.endpoints`), to tell related apps. */
  readonly endpoints: readonly string[];
}

/** `https://x.openai.azure.com/` → `x.openai.azure.com`; the path is kept where the host alone is shared. */
function endpointMarker(url: string): string | undefined {
  try {
    const u = new URL(url);
    const path = u.pathname.replace(/\/+$/, '');
    return `${u.host}${path}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/** One account the pass looks for: its keys, what marks a setting as pointing at it, and what it finds. */
class AccountSearch {
  readonly holders: KeyHolder[] = [];
  readonly excluded = new Set<string>();
  readonly ignored: { resourceId: string; reason: string }[] = [];
  private readonly exclude: ReadonlySet<string>;
  readonly keys: Keys;
  private readonly markers: readonly string[];

  constructor(
    readonly input: ScanInput,
    account: AccountKeys,
  ) {
    this.exclude = new Set(input.exclude.map((id) => id.toLowerCase()));
    this.keys = account.keys;
    this.markers = account.endpoints.map(endpointMarker).filter((m): m is string => !!m);
  }

  /** Whether this search leaves the resource out (the fleet or the migration moved it); records it if so. */
  excludes(resourceId: string): boolean {
    if (!this.exclude.has(resourceId.toLowerCase())) return false;
    this.excluded.add(resourceId);
    return true;
  }

  /** Whether any setting points at this account: a reference the worker cannot read matters only there. */
  mentionsAccount(settings: Readonly<Record<string, string>>): boolean {
    return Object.values(settings).some((v) => this.markers.some((m) => v.toLowerCase().includes(m)));
  }

  result(scopes: readonly ScannedScope[]): KeyHolderScan {
    const unverifiable = this.holders.some((h) => h.unverifiable) || scopes.some((s) => s.status !== 'scanned');
    const definite = this.holders.some((h) => !h.unverifiable);
    return {
      account: accountResourceId(this.input.account),
      scannedAt: new Date().toISOString(),
      verdict: definite ? 'holders' : unverifiable ? 'inconclusive' : 'clear',
      holders: this.holders,
      scopes: [...scopes],
      excluded: [...this.excluded],
      ...(this.ignored.length ? { ignored: this.ignored } : {}),
    };
  }
}

/**
 * One pass over the estate for one or more accounts: every app's settings are read once and compared with every
 * account's keys (a fleet checks all its ready accounts with one pass instead of one pass each). Caches vault
 * lookups and secret reads for its own duration only.
 */
class Scan {
  private readonly scopes: ScannedScope[] = [];
  private subscriptionIds: string[] = [];
  private readonly secrets: VaultSecrets;

  constructor(
    private readonly deps: KeyHolderDeps,
    private readonly searches: readonly AccountSearch[],
  ) {
    this.secrets = new VaultSecrets(deps, () => this.subscriptionIds);
  }

  async run(): Promise<KeyHolderScan[]> {
    this.subscriptionIds = await this.listSubscriptions();
    for (const sub of this.subscriptionIds) await this.scanSubscription(sub);
    return this.searches.map((s) => s.result(this.scopes));
  }

  /** Every subscription the worker can see, the accounts' own first (each is scanned even if the list omits it). */
  private async listSubscriptions(): Promise<string[]> {
    const ids = [...new Set(this.searches.map((s) => s.input.account.subscriptionId.toLowerCase()))];
    try {
      for await (const s of createSubscriptionClient(
        this.deps.credential,
        this.deps.endpoints,
        this.deps.arm,
      ).subscriptions.list()) {
        const id = s.subscriptionId?.toLowerCase();
        if (id && !ids.includes(id) && s.state !== 'Disabled' && s.state !== 'Deleted') ids.push(id);
      }
    } catch (err) {
      if (!isPermanent(err)) throw toFailure('listing the subscriptions the worker can read', err);
      this.scopes.push({
        scope: '/subscriptions',
        status: 'unreadable',
        reason: `the worker may not list its subscriptions (${statusOf(err)})`,
        resources: 0,
      });
    }
    return ids;
  }

  private async scanSubscription(subscriptionId: string): Promise<void> {
    const scope = `/subscriptions/${subscriptionId}`;
    const { web } = this.deps.clients(subscriptionId);
    let resources =
      (await this.scanContainerApps(subscriptionId)) +
      (await this.scanSearchServices(subscriptionId)) +
      (await this.scanMlConnections(subscriptionId));
    try {
      for await (const app of web.webApps.list()) {
        const ref = siteRefOf(subscriptionId, app);
        if (!ref) continue;
        resources += await this.check(ref, app.id ?? siteResourceId(ref), app.tags);
        for await (const slot of web.webApps.listSlots(ref.resourceGroup, ref.name)) {
          const slotName = (slot.name ?? '').split('/').pop() ?? '';
          if (!slotName) continue;
          const slotRef = { ...ref, slot: slotName };
          resources += await this.check(slotRef, slot.id ?? siteResourceId(slotRef));
        }
      }
      this.scopes.push({ scope, status: 'scanned', resources });
    } catch (err) {
      if (!isPermanent(err)) throw toFailure(`listing the apps of subscription ${subscriptionId}`, err);
      this.scopes.push({
        scope,
        status: 'unreadable',
        reason: `the worker may not list its apps (${statusOf(err)}; grant it Reader on the subscription)`,
        resources,
      });
    }
  }

  /**
   * The container apps (or search services, or ML connections) of a subscription; returns how many were read. A worker that may not
   * list them (no `…/read` there) leaves them unchecked: that is recorded among the ignored resources, not as an
   * unreadable subscription, so that estates whose worker reads only sites keep their verdict.
   */
  private async scanListed(
    subscriptionId: string,
    what: { readonly noun: string; readonly type: string },
    list: () => Promise<{ ref: SiteRef; id: string; tags?: Record<string, string> }[]>,
  ): Promise<number> {
    let resources = 0;
    try {
      for (const r of await list()) resources += await this.check(r.ref, r.id, r.tags);
    } catch (err) {
      if (!isPermanent(err)) throw toFailure(`listing the ${what.noun} of subscription ${subscriptionId}`, err);
      for (const search of this.searches)
        search.ignored.push({
          resourceId: `/subscriptions/${subscriptionId}/providers/${what.type}`,
          reason: `the worker may not list the ${what.noun} (${statusOf(err)}): they were not checked — grant it Reader on the subscription`,
        });
    }
    return resources;
  }

  private scanContainerApps(subscriptionId: string): Promise<number> {
    return this.scanListed(
      subscriptionId,
      { noun: 'container apps', type: 'Microsoft.App/containerApps' },
      async () => {
        const out = [];
        for await (const app of this.deps.clients(subscriptionId).containerApps.containerApps.listBySubscription()) {
          const rg = /resourceGroups\/([^/]+)/i.exec(app.id ?? '')?.[1];
          if (!rg || !app.name) continue;
          const ref: SiteRef = { subscriptionId, resourceGroup: rg, name: app.name, kind: 'container-app' };
          out.push({ ref, id: app.id ?? containerApp.resourceId(ref), ...(app.tags ? { tags: app.tags } : {}) });
        }
        return out;
      },
    );
  }

  private scanSearchServices(subscriptionId: string): Promise<number> {
    return this.scanListed(subscriptionId, { noun: 'search services', type: 'Microsoft.Search/searchServices' }, () =>
      searchServicesOf(this.deps.clients(subscriptionId), subscriptionId),
    );
  }

  /** The `ApiKey` connections of Machine Learning workspaces. */
  private scanMlConnections(subscriptionId: string): Promise<number> {
    return this.scanListed(
      subscriptionId,
      {
        noun: 'Machine Learning workspaces or their connections',
        type: 'Microsoft.MachineLearningServices/workspaces',
      },
      async () => {
        const out = [];
        for await (const c of apiKeyConnections(this.deps.clients(subscriptionId).machineLearning, subscriptionId))
          out.push({ ref: c.ref, id: c.resourceId, ...(c.tags ? { tags: c.tags } : {}) });
        return out;
      },
    );
  }

  /** Checks one app or slot for every account that does not leave it out; returns 1 when its settings were read. */
  private async check(site: SiteRef, resourceId: string, tags?: Record<string, string>): Promise<number> {
    const searches = this.searches.filter((s) => !s.excludes(resourceId));
    if (searches.length === 0) return 0;
    this.deps.progress?.({ checking: resourceId });
    let settings: Record<string, string>;
    try {
      settings = await callerSettings(
        {
          clients: this.deps.clients(site.subscriptionId),
          credential: this.deps.credential,
          endpoints: this.deps.endpoints,
        },
        site,
      );
    } catch (err) {
      if (!isPermanent(err)) throw toFailure(`reading the app settings of ${resourceId}`, err);
      for (const search of searches)
        search.holders.push({ resourceId, ...kindOf(site), settingNames: [], unverifiable: unreadableSettings(site) });
      return 0;
    }
    const tagged = tags && Object.keys(tags).length ? { tags: { ...tags } } : {};
    for (const search of searches) await this.compare(search, site, resourceId, settings, tagged);
    return 1;
  }

  /** One app's settings against one account's keys, Key Vault references followed. */
  private async compare(
    search: AccountSearch,
    site: SiteRef,
    resourceId: string,
    settings: Readonly<Record<string, string>>,
    tagged: { tags?: Record<string, string> },
  ): Promise<void> {
    if (site.kind === 'ai-search') {
      // Keys read `<redacted>`: a key held for this account's endpoint is its key.
      const held = searchKeySettings(settings, (uri) => search.mentionsAccount({ uri }));
      if (held.length) search.holders.push({ resourceId, kind: 'ai-search', settingNames: held, ...tagged });
      return;
    }
    const settingNames: string[] = [];
    const references: { setting: string; vault: string; secret: string }[] = [];
    const doubts: string[] = [];
    for (const [name, value] of Object.entries(settings)) {
      if (search.keys.has(value)) {
        settingNames.push(name);
        continue;
      }
      const ref = parseKeyVaultReference(value);
      if (ref === undefined) continue;
      if (ref === 'malformed') {
        doubts.push(`setting ${name} is a Key Vault reference cutover cannot parse`);
        continue;
      }
      const secret = await this.secrets.read(ref);
      const vault = ref.vaultUrl ? ((await this.secrets.nameOf(ref.vaultUrl)) ?? ref.vaultName) : ref.vaultName;
      const where = { setting: name, vault, secret: ref.secretName };
      if (secret.value !== undefined) {
        if (search.keys.has(secret.value)) {
          settingNames.push(name);
          references.push(where);
        }
      } else {
        references.push(where);
        doubts.push(`setting ${name} references secret ${ref.secretName} of vault ${vault}: ${secret.error}`);
      }
    }
    if (settingNames.length === 0 && doubts.length > 0 && !search.mentionsAccount(settings)) {
      // Unreadable, but no setting of this app names the account: it is some other account's caller.
      search.ignored.push({ resourceId, reason: `${doubts.join('; ')} — no setting names this account` });
      return;
    }
    if (settingNames.length > 0 || doubts.length > 0)
      search.holders.push({
        resourceId,
        ...kindOf(site),
        settingNames: [...new Set([...settingNames, ...references.map((r) => r.setting)])],
        ...(references.length ? { references } : {}),
        ...(doubts.length && settingNames.length === 0 ? { unverifiable: doubts.join('; ') } : {}),
        ...tagged,
      });
  }
}

function siteRefOf(subscriptionId: string, app: Site): SiteRef | undefined {
  const rg = /resourceGroups\/([^/]+)/i.exec(app.id ?? '')?.[1];
  const kind = app.kind ? (kindOfResource(app.kind) as TargetKind | undefined) : undefined;
  return rg && app.name ? { subscriptionId, resourceGroup: rg, name: app.name, ...(kind ? { kind } : {}) } : undefined;
}

/** The holder's kind of caller, when Azure said it (function apps are sites too). */
const kindOf = (site: SiteRef) => (site.kind ? { kind: site.kind } : {});

/** What the caller read of an account: its current keys and endpoints, or that its local auth is off. */
export type AccountKeyRead =
  { readonly key1?: string; readonly key2?: string; readonly endpoints: readonly string[] } | 'local-auth-disabled';

/**
 * The key-holder check of an account. `keys` are its current keys, read by the caller (an account whose local
 * auth is off has none to read: then nobody can be calling with them).
 */
export async function scanKeyHolders(
  deps: KeyHolderDeps,
  input: ScanInput,
  account: AccountKeyRead,
): Promise<KeyHolderScan> {
  return (await scanKeyHoldersOfAccounts(deps, [{ input, account }]))[0];
}

/** The key-holder checks of several accounts in one pass over the estate, in the order asked. */
export async function scanKeyHoldersOfAccounts(
  deps: KeyHolderDeps,
  accounts: readonly { readonly input: ScanInput; readonly account: AccountKeyRead }[],
): Promise<KeyHolderScan[]> {
  const searches = accounts.flatMap(({ input, account }) =>
    account === 'local-auth-disabled'
      ? []
      : [
          new AccountSearch(input, {
            keys: new Set([account.key1, account.key2].filter((k): k is string => !!k)),
            endpoints: account.endpoints,
          }),
        ],
  );
  const scans = searches.length ? await new Scan(deps, searches).run() : [];
  let next = 0;
  return accounts.map(({ input, account }) =>
    account === 'local-auth-disabled'
      ? {
          account: accountResourceId(input.account),
          scannedAt: new Date().toISOString(),
          verdict: 'clear' as const,
          holders: [],
          scopes: [],
          excluded: [],
          localAuthDisabled: true,
        }
      : scans[next++],
  );
}
