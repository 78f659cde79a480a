/**
 * Azure AI Search (Microsoft.Search/searchServices) as a cutover target: `@azure/arm-search` for the service and
 * its managed identity (the identity the role on the account goes to), `@azure/search-documents` for the callers —
 * the skillsets' embedding skills and the indexes' vectorizers, read and written as settings
 * (ai-search-settings.ts). Writing them puts back each skillset or index that changed, whole, with the keys it
 * keeps still `"<redacted>"` (Azure keeps them). Its smoke test is ai-search-smoke.ts: the probe URL
 * `ai-search://{subscription}/{resourceGroup}/{service}{path}` is answered by a vector query and an indexer run.
 */
import type { Identity, SearchService } from '@azure/arm-search';
import type { SiteRef } from '../../contracts/model';
import { targetResourceId } from '../../plan/targets';
import type { TokenCredential } from '@azure/core-auth';
import { type AzureClients, type AzureEndpoints, createSearchClients } from '../clients';
import type { AzureContext } from '../context';
import type { TargetAdapter, TargetView } from './adapter';
import { identityViewOf } from './identity-view';
import { checkSearchPlan, snapshotHiddenKey } from './ai-search-checks';
import { applySearchSettings, searchSettings } from './ai-search-settings';

/** The scheme of an AI Search service's probe URLs (see ai-search-smoke.ts). */
export const SEARCH_PROBE_SCHEME = 'ai-search:';

export const searchProbeBase = (ref: Pick<SiteRef, 'subscriptionId' | 'resourceGroup' | 'name'>) =>
  `${SEARCH_PROBE_SCHEME}//${ref.subscriptionId}/${ref.resourceGroup}/${ref.name}`;

function view(service: SearchService, ref: SiteRef): TargetView {
  const identity = identityViewOf(service.identity);
  return { id: service.id ?? targetResourceId(ref.subscriptionId, ref), identity, defaultUrl: searchProbeBase(ref) };
}

type Ref = Pick<SiteRef, 'subscriptionId' | 'resourceGroup' | 'name'>;

/** What reading a service needs: its subscription's ARM clients, the credential and the cloud's endpoints. */
export interface SearchAccess {
  readonly clients: AzureClients;
  readonly credential: TokenCredential;
  readonly endpoints: AzureEndpoints;
}

const accessOf = (ctx: AzureContext, ref: Ref): SearchAccess => ({
  clients: ctx.clients(ref.subscriptionId),
  credential: ctx.credential(),
  endpoints: ctx.endpoints,
});

const isAccess = (x: AzureContext | SearchAccess): x is SearchAccess => typeof x.clients !== 'function';

/** The data-plane clients of the service the ref names (its endpoint as ARM reports it). */
export async function searchClientsOf(ctx: AzureContext | SearchAccess, ref: Ref) {
  const access = isAccess(ctx) ? ctx : accessOf(ctx, ref);
  const service = await access.clients.search.services.get(ref.resourceGroup, ref.name);
  const endpoint = service.endpoint;
  if (!endpoint) throw new Error(`search service ${ref.name} reports no endpoint`);
  return createSearchClients(access.credential, endpoint, access.endpoints);
}

async function readAll(clients: Awaited<ReturnType<typeof searchClientsOf>>) {
  const [skillsets, indexes] = await Promise.all([
    clients.indexers.listSkillsets(),
    (async () => {
      const out = [];
      for await (const ix of clients.indexes.listIndexes()) out.push(ix);
      return out;
    })(),
  ]);
  return { skillsets, indexes };
}

/** A service's callers as settings (see ai-search-settings.ts); the key-holder check reads them too. */
export async function searchServiceSettings(
  ctx: AzureContext | SearchAccess,
  ref: Ref,
): Promise<Record<string, string>> {
  const { skillsets, indexes } = await readAll(await searchClientsOf(ctx, ref));
  return searchSettings(skillsets, indexes);
}

export const aiSearch: TargetAdapter = {
  kind: 'ai-search',

  // Search services carry no Azure `kind`.
  isKind: (resourceKind) => resourceKind.toLowerCase() === 'searchservice',

  describe: (ref) => ref.name,

  resourceId: (ref) => targetResourceId(ref.subscriptionId, { ...ref, kind: 'ai-search' }),

  async read(ctx, ref) {
    return view(await ctx.clients(ref.subscriptionId).search.services.get(ref.resourceGroup, ref.name), ref);
  },

  async patchIdentity(ctx, ref, identity) {
    // null detaches a user-assigned identity in an ARM PATCH; the SDK's types do not say so.
    const patched = await ctx
      .clients(ref.subscriptionId)
      .search.services.update(ref.resourceGroup, ref.name, { identity: identity as Identity });
    return view(patched, ref);
  },

  readSettings: (ctx, ref) => searchServiceSettings(ctx, ref),

  async writeSettings(ctx, ref, settings) {
    const clients = await searchClientsOf(ctx, ref);
    const { skillsets, indexes } = await readAll(clients);
    const changed = applySearchSettings(skillsets, indexes, settings);
    const opts = { abortSignal: ctx.signal() };
    for (const name of changed.skillsets)
      await clients.indexers.createOrUpdateSkillset(
        skillsets.find((s) => s.name === name)!,
        opts,
      );
    for (const name of changed.indexes)
      await clients.indexes.createOrUpdateIndex(
        indexes.find((i) => i.name === name)!,
        opts,
      );
  },

  checkHosting: (ctx, view, plan) =>
    checkSearchPlan(ctx, view, plan, () =>
      searchServiceSettings(ctx, { subscriptionId: plan.subscriptionId, ...plan.target }),
    ),

  snapshotHidden: snapshotHiddenKey,

  stickySettingNames: () => Promise.resolve([]),

  swap() {
    return Promise.reject(new Error('search services have no deployment slots to swap'));
  },

  requiredActions: () => [
    'Microsoft.Search/searchServices/read',
    'Microsoft.Search/searchServices/write',
    'Microsoft.Search/searchServices/skillsets/read',
    'Microsoft.Search/searchServices/skillsets/write',
    'Microsoft.Search/searchServices/indexes/read',
    'Microsoft.Search/searchServices/indexes/write',
    'Microsoft.Search/searchServices/indexes/delete',
    'Microsoft.Search/searchServices/indexers/read',
    'Microsoft.Search/searchServices/indexers/run/action',
    'Microsoft.Search/searchServices/indexers/reset/action',
  ],
};
