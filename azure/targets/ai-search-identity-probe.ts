/**
 * The identity probe of an AI Search service (`ai-search://…/health/identity[?index=…&vectorizer=…&clientId=…]`),
 * asked during propagation, before anything moves off the key: can the service's identity — the system-assigned
 * one, or the user-assigned one `clientId` names — call the account? A search service runs no code of ours, so the
 * probe makes a throwaway index, `cutover-identity-probe-{service}`, whose one vectorizer copies the vectorizer to
 * be migrated (the one named, else the first azureOpenAI vectorizer with a key) without its key, runs a `text`
 * vector query through it — the service embeds the text with its identity — and deletes the index again. The
 * service's own indexes and skillsets are only read.
 */
import type { AzureOpenAIVectorizer, SearchIndex, SearchIndexerDataIdentity } from '@azure/search-documents';
import type { ProbeResult } from '../../contracts/model';
import type { AzureContext } from '../context';
import { azureErrorInfo } from '../errors';
import { searchClientsOf } from './ai-search';

export interface IdentityProbeTarget {
  readonly ref: { subscriptionId: string; resourceGroup: string; name: string };
  readonly query: URLSearchParams;
}

const probeIndexName = (service: string) => `cutover-identity-probe-${service}`.slice(0, 128);

export async function searchIdentityProbe(ctx: AzureContext, p: IdentityProbeTarget, at: string): Promise<ProbeResult> {
  const fail = (errorCode: string, message: string, status?: number): ProbeResult => ({
    ok: false,
    ...(status !== undefined ? { status } : {}),
    errorCode,
    message,
    at,
  });
  const clients = await searchClientsOf(ctx, p.ref);
  const wantIndex = p.query.get('index');
  const wantVectorizer = p.query.get('vectorizer');
  let source: { index: SearchIndex; vectorizer: AzureOpenAIVectorizer } | undefined;
  for await (const index of clients.indexes.listIndexes()) {
    if (source || (wantIndex && index.name !== wantIndex)) continue;
    const v = (index.vectorSearch?.vectorizers ?? []).find(
      (x): x is AzureOpenAIVectorizer =>
        x.kind === 'azureOpenAI' && (wantVectorizer ? x.vectorizerName === wantVectorizer : !!x.parameters?.apiKey),
    );
    if (v) source = { index, vectorizer: v };
  }
  if (!source) return fail('NothingToProbe', 'no azureOpenAI vectorizer to probe the identity with', 404);
  const profiles = (source.index.vectorSearch?.profiles ?? []).filter(
    (x) => x.vectorizerName === source.vectorizer.vectorizerName,
  );
  const field = source.index.fields.find(
    (f) => 'vectorSearchProfileName' in f && profiles.some((x) => x.name === f.vectorSearchProfileName),
  );
  const dimensions = field && 'vectorSearchDimensions' in field ? field.vectorSearchDimensions : undefined;
  const clientId = p.query.get('clientId');
  let authIdentity: SearchIndexerDataIdentity | undefined;
  if (clientId) {
    const service = await ctx.clients(p.ref.subscriptionId).search.services.get(p.ref.resourceGroup, p.ref.name);
    const id = Object.entries(service.identity?.userAssignedIdentities ?? {}).find(
      ([, u]) => u.clientId?.toLowerCase() === clientId.toLowerCase(),
    )?.[0];
    if (!id) return fail('IdentityNotAttached', `no user-assigned identity of client id ${clientId} is attached yet`);
    authIdentity = { odatatype: '#Microsoft.Azure.Search.DataUserAssignedIdentity', resourceId: id };
  }
  const { apiKey: _key, ...parameters } = source.vectorizer.parameters ?? {};
  const name = probeIndexName(p.ref.name);
  const probe: SearchIndex = {
    name,
    fields: [
      { name: 'id', type: 'Edm.String', key: true },
      {
        name: 'v',
        type: 'Collection(Edm.Single)',
        searchable: true,
        vectorSearchDimensions: dimensions ?? 1536,
        vectorSearchProfileName: 'p',
      },
    ],
    vectorSearch: {
      algorithms: [{ name: 'a', kind: 'hnsw' }],
      profiles: [{ name: 'p', algorithmConfigurationName: 'a', vectorizerName: 'v' }],
      vectorizers: [
        {
          vectorizerName: 'v',
          kind: 'azureOpenAI',
          parameters: { ...parameters, ...(authIdentity ? { authIdentity } : {}) },
        },
      ],
    },
  };
  try {
    await clients.indexes.createOrUpdateIndex(probe);
    const result = await clients.indexes.getSearchClient(name).search(undefined, {
      top: 1,
      vectorSearchOptions: { queries: [{ kind: 'text', text: 'cutover identity probe', fields: ['v'] }] },
    });
    for await (const _ of result.results) break;
    return { ok: true, status: 200, authMode: 'identity', at };
  } catch (err) {
    const info = azureErrorInfo(err);
    return fail(info.code ?? 'SearchRequestFailed', info.message, info.statusCode);
  } finally {
    await clients.indexes.deleteIndex(name).catch(() => undefined);
  }
}
