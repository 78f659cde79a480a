/**
 * The identity probe of an AI Search service (`ai-search://…/health/identity[?index=…&vectorizer=…&clientId=…]`),
 * asked during propagation, before anything moves off the key: can the service's identity — the system-assigned
 * one, or the user-assigned one `clientId` names — call the account? A search service runs no code of ours, so the
 * probe makes a throwaway index, `cutover-identity-probe-{service}`, whose one vectorizer copies the vectorizer to
 * be migrated (the one named, else the first azureOpenAI vectorizer with a key, else the first embedding skill with
 * one, or the one `skill` names) without its key, runs a `text`
 * vector query through it — the service embeds the text with its identity — and deletes the index again. The
 * service's own indexes and skillsets are only read.
 */
import type {
  AzureOpenAIEmbeddingSkill,
  AzureOpenAIParameters,
  AzureOpenAIVectorizer,
  SearchIndex,
  SearchIndexerDataIdentity,
} from '@azure/search-documents';
import type { ProbeResult } from '../../contracts/model';
import type { AzureContext } from '../context';
import { azureErrorInfo } from '../errors';
import { searchClientsOf } from './ai-search';
import { callersOf } from './ai-search-settings';

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
  let source: { parameters: AzureOpenAIParameters; dimensions?: number } | undefined;
  for await (const index of clients.indexes.listIndexes()) {
    if (source || (wantIndex && index.name !== wantIndex)) continue;
    const v = (index.vectorSearch?.vectorizers ?? []).find(
      (x): x is AzureOpenAIVectorizer =>
        x.kind === 'azureOpenAI' && (wantVectorizer ? x.vectorizerName === wantVectorizer : !!x.parameters?.apiKey),
    );
    if (!v) continue;
    const profiles = (index.vectorSearch?.profiles ?? []).filter((x) => x.vectorizerName === v.vectorizerName);
    const field = index.fields.find(
      (f) => 'vectorSearchProfileName' in f && profiles.some((x) => x.name === f.vectorSearchProfileName),
    );
    const dimensions = field && 'vectorSearchDimensions' in field ? field.vectorSearchDimensions : undefined;
    source = { parameters: v.parameters ?? {}, ...(dimensions ? { dimensions } : {}) };
  }
  // A service whose only callers are embedding skills: the probe's vectorizer copies a skill's parameters.
  const wantSkill = p.query.get('skill');
  if (!source && !wantIndex && !wantVectorizer) {
    const skill = callersOf(await clients.indexers.listSkillsets(), []).find((c) =>
      wantSkill ? c.address.item === wantSkill : !!c.params.apiKey,
    )?.params as AzureOpenAIEmbeddingSkill | undefined;
    if (skill)
      source = {
        parameters: { resourceUrl: skill.resourceUrl, deploymentId: skill.deploymentId, modelName: skill.modelName },
        ...(skill.dimensions ? { dimensions: skill.dimensions } : {}),
      };
  }
  if (!source)
    return fail('NothingToProbe', 'no azureOpenAI vectorizer or embedding skill to probe the identity with', 404);
  const dimensions = source.dimensions;
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
  // Without the key, as the migrated caller will be: its own authIdentity, or the plan's user-assigned identity.
  const { apiKey: _key, ...parameters } = source.parameters;
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
