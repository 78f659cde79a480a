/**
 * The smoke test of an AI Search service, behind its probe URL
 * `ai-search://{subscription}/{resourceGroup}/{service}/health[?index=…&vectorizer=…&indexer=…&skill=…]`:
 * - for each `azureOpenAI` vectorizer (of the indexes and vectorizers named, else of every index), a vector query
 *   of kind `text` on a vector field whose profile uses it — the service embeds the text by calling Azure OpenAI;
 * - for each indexer named (else every indexer whose skillset has an embedding skill), its change tracking reset
 *   and a run, which must process at least one document with none failed — each through the embedding skills.
 * The answer is a probe result as an app's health endpoint gives one: `authMode` is `identity` when every
 * vectorizer and embedding skill tested (those named by `skill`, else all of the tested indexers' skillsets) has no
 * key, `key` when all have one, else `mixed`. A reset makes the run reprocess the data source: name a small
 * indexer. Read-only but for the run (and what it writes into the index, as any run does).
 */
import type { AzureOpenAIVectorizer, SearchIndex, SearchIndexerSkillset } from '@azure/search-documents';
import type { ProbeResult } from '../../contracts/model';
import type { ProbeInput } from '../../contracts/probes';
import type { AzureContext } from '../context';
import { azureErrorInfo } from '../errors';
import { searchClientsOf } from './ai-search';
import { callersOf } from './ai-search-settings';
import { searchIdentityProbe } from './ai-search-identity-probe';

const SMOKE_TEXT = 'cutover smoke test';
const STATUS_POLL_MS = 250;

interface Probe {
  readonly ref: { subscriptionId: string; resourceGroup: string; name: string };
  readonly path: string;
  readonly query: URLSearchParams;
  readonly only: (what: 'index' | 'vectorizer' | 'indexer' | 'skill') => (name: string) => boolean;
}

function parse(url: string): Probe {
  const m = /^ai-search:\/\/([^/]+)\/([^/]+)\/([^/?]+)([^?]*)(?:\?(.*))?$/i.exec(url);
  if (!m) throw new Error(`not an AI Search probe URL: ${url}`);
  const q = new URLSearchParams(m[5] ?? '');
  return {
    ref: { subscriptionId: m[1], resourceGroup: m[2], name: m[3] },
    path: m[4] || '/',
    query: q,
    only: (what) => {
      const names = q.getAll(what).flatMap((v) => v.split(','));
      return (name) => names.length === 0 || names.includes(name);
    },
  };
}

const fail = (at: string, errorCode: string, message: string, status?: number): ProbeResult => ({
  ok: false,
  ...(status !== undefined ? { status } : {}),
  errorCode,
  message,
  at,
});

async function vectorQueries(
  clients: Awaited<ReturnType<typeof searchClientsOf>>,
  indexes: readonly SearchIndex[],
  p: Probe,
  auth: ('key' | 'identity')[],
): Promise<void> {
  for (const index of indexes.filter((i) => p.only('index')(i.name))) {
    const vs = index.vectorSearch;
    const vectorizers = (vs?.vectorizers ?? []).filter(
      (v): v is AzureOpenAIVectorizer => v.kind === 'azureOpenAI' && p.only('vectorizer')(v.vectorizerName),
    );
    for (const v of vectorizers) {
      const profiles = (vs?.profiles ?? []).filter((x) => x.vectorizerName === v.vectorizerName).map((x) => x.name);
      const field = index.fields.find(
        (f) => 'vectorSearchProfileName' in f && profiles.includes(f.vectorSearchProfileName ?? ''),
      );
      if (!field)
        throw new SmokeFailure(
          'NoVectorField',
          `no vector field of index ${index.name} uses vectorizer ${v.vectorizerName}`,
        );
      const result = await clients.indexes.getSearchClient(index.name).search(undefined, {
        top: 1,
        vectorSearchOptions: {
          queries: [{ kind: 'text', text: SMOKE_TEXT, fields: [field.name], kNearestNeighborsCount: 1 }],
        },
      });
      for await (const _ of result.results) break;
      auth.push(v.parameters?.apiKey ? 'key' : 'identity');
    }
  }
}

class SmokeFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function indexerRuns(
  ctx: AzureContext,
  clients: Awaited<ReturnType<typeof searchClientsOf>>,
  skillsets: readonly SearchIndexerSkillset[],
  p: Probe,
  deadline: number,
  auth: ('key' | 'identity')[],
): Promise<void> {
  const embedding = callersOf(skillsets, []).filter((c) => p.only('skill')(c.address.item));
  const named = (await clients.indexers.listIndexers()).filter((i) => p.only('indexer')(i.name));
  const indexers = named.filter((i) => embedding.some((c) => c.address.container === i.skillsetName));
  for (const indexer of indexers) {
    const idle = async () => {
      for (;;) {
        const status = await clients.indexers.getIndexerStatus(indexer.name);
        if (status.lastResult?.status !== 'inProgress') return status;
        if (Date.now() > deadline) throw new SmokeFailure('IndexerTimeout', `indexer ${indexer.name} is still running`);
        await ctx.pause(STATUS_POLL_MS);
      }
    };
    await idle();
    const started = Date.now();
    await clients.indexers.resetIndexer(indexer.name);
    await clients.indexers.runIndexer(indexer.name);
    let last;
    do {
      await ctx.pause(STATUS_POLL_MS);
      last = (await idle()).lastResult;
    } while (!last?.startTime || last.startTime.getTime() < started - 1000);
    if (last.status !== 'success' || last.failedItemCount > 0)
      throw new SmokeFailure(
        'IndexerRunFailed',
        `indexer ${indexer.name}: ${last.errorMessage ?? last.status}${last.errors[0] ? ` (${last.errors[0].errorMessage})` : ''}`,
      );
    if (last.itemCount < 1) throw new SmokeFailure('IndexerRunEmpty', `indexer ${indexer.name} processed no document`);
    for (const c of embedding.filter((e) => e.address.container === indexer.skillsetName))
      auth.push(c.params.apiKey ? 'key' : 'identity');
  }
}

export async function searchProbe(ctx: AzureContext, input: ProbeInput): Promise<ProbeResult> {
  const at = new Date().toISOString();
  const p = parse(input.url);
  const path = p.path.replace(/\/+$/, '');
  if (path === '/health/identity') {
    try {
      return await searchIdentityProbe(ctx, { ref: p.ref, query: p.query }, at);
    } catch (err) {
      const info = azureErrorInfo(err);
      return fail(at, info.code ?? 'SearchRequestFailed', info.message, info.statusCode);
    }
  }
  if (path !== '/health')
    return fail(
      at,
      'NoSuchProbe',
      `a search service answers /health (its smoke test) and /health/identity, not ${p.path}`,
      404,
    );
  const auth: ('key' | 'identity')[] = [];
  try {
    const clients = await searchClientsOf(ctx, p.ref);
    const [skillsets, indexes] = await Promise.all([
      clients.indexers.listSkillsets(),
      (async () => {
        const out: SearchIndex[] = [];
        for await (const ix of clients.indexes.listIndexes()) out.push(ix);
        return out;
      })(),
    ]);
    await vectorQueries(clients, indexes, p, auth);
    await indexerRuns(ctx, clients, skillsets, p, Date.now() + Math.max(input.timeoutMs, 30_000), auth);
  } catch (err) {
    if (err instanceof SmokeFailure) return fail(at, err.code, err.message, 500);
    const info = azureErrorInfo(err);
    return fail(at, info.code ?? 'SearchRequestFailed', info.message, info.statusCode);
  }
  if (auth.length === 0)
    return fail(
      at,
      'NothingToTest',
      'no azureOpenAI vectorizer or embedding-skill indexer matches the smoke test',
      404,
    );
  const authMode = auth.every((a) => a === 'identity') ? 'identity' : auth.every((a) => a === 'key') ? 'key' : 'mixed';
  const body: Record<string, unknown> = { authMode };
  const mismatched = Object.entries(input.expectJson).filter(([k, v]) => body[k] !== v);
  const ok = input.expectStatus === 200 && mismatched.length === 0;
  return {
    ok,
    status: 200,
    authMode,
    ...(ok
      ? {}
      : {
          message:
            input.expectStatus !== 200
              ? `HTTP 200 (expected ${input.expectStatus})`
              : `expected ${mismatched.map(([k, v]) => `${k}=${String(v)}`).join(', ')}, got ${mismatched.map(([k]) => `${k}=${String(body[k])}`).join(', ')}`,
        }),
    at,
  };
}
