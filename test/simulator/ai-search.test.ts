/**
 * Azure AI Search in the simulator (issue 11, kind 3): Microsoft's examples in ../shared/azure-examples/search/
 * replayed against it — the ARM service (create with identity, get, list, update, remove the identity) and the data
 * plane (skillsets, indexes with vectorizers, a vector query, an indexer run) — each answer's status and shape
 * (field names and JSON types) compared with the example's; then the behaviour a cutover relies on, through the
 * real @azure/search-documents client: keys read `<redacted>` and survive a read-modify-write, the key wins over
 * `authIdentity`, a vector query and an indexer run really call Azure OpenAI with the configured auth, and RBAC.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AzureOpenAIEmbeddingSkill, AzureOpenAIVectorizer } from '@azure/search-documents';
import { createSearchClients } from '../../azure/clients';
import { type Example, readExample } from './conformance-shape';
import { type TestSim, httpsJson, startTestSimulator } from './support';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'ai-search.yaml');
const RG = 'rg-search';

let t: TestSim;
before(async () => {
  t = await startTestSimulator({ scenario: SCENARIO });
});
after(() => t.close());

const sub = () => t.sim.info.subscriptionId;
const uami = () =>
  `/subscriptions/${sub()}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-search`;

async function token(principal: string, scope: string): Promise<string> {
  const got = await t.credentialOf(principal).getToken(scope);
  return got!.token;
}

async function call(
  method: string,
  url: string,
  scope: string,
  body?: unknown,
  principal = 'cutover-worker',
): Promise<{ status: number; body: unknown }> {
  const res = await httpsJson(url, t.sim.info.caCert, {
    method,
    headers: {
      authorization: `Bearer ${await token(principal, scope)}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.body };
}

const ARM = 'https://management.azure.com/.default';
const SEARCH = 'https://search.azure.com/.default';
const arm = (method: string, p: string, body?: unknown) =>
  call(method, `${t.sim.info.armEndpoint}${p}?api-version=2025-05-01`, ARM, body);
const servicePath = (name: string) =>
  `/subscriptions/${sub()}/resourceGroups/${RG}/providers/Microsoft.Search/searchServices/${name}`;
async function data(
  service: string,
  method: string,
  p: string,
  body?: unknown,
  version = '2026-04-01',
  principal?: string,
) {
  const endpoint = ((await arm('GET', servicePath(service))).body as { properties: { endpoint: string } }).properties
    .endpoint;
  return call(method, `${endpoint.replace(/\/$/, '')}${p}?api-version=${version}`, SEARCH, body, principal);
}

/** Fields the simulator answers beyond an example, and why. */
const EXTRAS: Record<string, string> = {
  '.identity': 'Identity (2025-05-01 spec): the example service has no identity; the simulated one may',
  '.@odata.etag': 'the etag of the write: the index examples were captured without it, the skillset ones have it',
  '.cognitiveServices': 'sent by the PUT example, whose skillset the GET replays (the GET example is another skillset)',
  '.skills[].chunkingProperties': 'as above: a property of a skill the PUT example sent',
  '.skills[].context':
    "a skill's context as stored (`/document` when not given): the GET example has it on every skill, the PUT one's answer not on all",
};

/** `.properties.authOptions` is a one-of (`apiKeyOnly` or `aadOrApiKey`): only its type is compared. */
const DICTIONARIES = ['.tags', '.identity.userAssignedIdentities', '.properties.authOptions'];

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Field names and JSON types, recursively; arrays of as many items as the example's are compared item by item (the
 * data plane's arrays are polymorphic: skills, vectorizers, compressions), others item by item with its first.
 */
function shapeDiff(expected: unknown, actual: unknown, at: string, extras: Set<string>): string[] {
  const te = jsonType(expected);
  const ta = jsonType(actual);
  if (te !== 'null' && te !== ta) return [`${at || '(body)'}: expected ${te}, got ${ta}`];
  if (te === 'object' && !DICTIONARIES.includes(at.replace(/\[\d*\]/g, '[]').replace(/^\.value\[\]/, ''))) {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const out = Object.keys(e).flatMap((k) =>
      k in a ? shapeDiff(e[k], a[k], `${at}.${k}`, extras) : [`${at}.${k}: missing`],
    );
    for (const k of Object.keys(a)) if (!(k in e)) extras.add(`${at}.${k}`.replace(/\[\d*\]/g, '[]'));
    return out;
  }
  if (te !== 'array') return [];
  const e = expected as unknown[];
  const a = actual as unknown[];
  if (e.length === 0) return [];
  if (a.length === 0) return [`${at}: expected elements, got an empty array`];
  return a.flatMap((item, i) => shapeDiff(e.length === a.length ? e[i] : e[0], item, `${at}[${i}]`, extras));
}

function assertLike(file: string, status: string, actual: { status: number; body: unknown }, example: Example) {
  assert.equal(String(actual.status), status, `${file}: status`);
  const expected = example.responses[status]?.body;
  if (expected === undefined) return;
  const extras = new Set<string>();
  assert.deepEqual(shapeDiff(expected, actual.body, '', extras), [], `${file} ${status}: shape differs`);
  const unjustified = [...extras].map((e) => e.replace(/^\.value\[\]/, '')).filter((e) => !EXTRAS[e]);
  assert.deepEqual(unjustified, [], `${file} ${status}: fields the example does not have`);
}

/** An example's request body with its identity ids replaced by the scenario's one (the example's do not exist). */
function withScenarioIdentity(body: unknown): unknown {
  const json = JSON.stringify(body).replace(/\/subscriptions\/[^"]*\/userAssignedIdentities\/[^"]+/gi, uami());
  return JSON.parse(json) as unknown;
}

describe('AI Search on ARM: the examples replayed', () => {
  test('SearchCreateOrUpdateServiceWithIdentity.json: 201 created, then 200 updated, identity as asked', async () => {
    const file = 'search/SearchCreateOrUpdateServiceWithIdentity.json';
    const ex = readExample(file);
    const body = withScenarioIdentity(ex.parameters.service);
    const created = await arm('PUT', servicePath('mysearchservice'), body);
    assertLike(file, '201', created, ex);
    const identity = (created.body as { identity: { type: string; userAssignedIdentities: Record<string, unknown> } })
      .identity;
    assert.equal(identity.type, 'SystemAssigned, UserAssigned');
    assert.deepEqual(Object.keys(identity.userAssignedIdentities), [uami()]);
    assertLike(file, '200', await arm('PUT', servicePath('mysearchservice'), body), ex);
  });

  test('SearchGetService.json and SearchListServicesByResourceGroup.json', async () => {
    const get = readExample('search/SearchGetService.json');
    const got = await arm('GET', servicePath('docs-search'));
    assertLike('search/SearchGetService.json', '200', got, get);
    assert.match((got.body as { properties: { endpoint: string } }).properties.endpoint, /\/search\/docs-search\/$/);
    const list = readExample('search/SearchListServicesByResourceGroup.json');
    const listed = await arm(
      'GET',
      `/subscriptions/${sub()}/resourceGroups/${RG}/providers/Microsoft.Search/searchServices`,
    );
    assertLike('search/SearchListServicesByResourceGroup.json', '200', listed, list);
    const names = (listed.body as { value: { name: string }[] }).value.map((s) => s.name).sort();
    assert.deepEqual(names, [
      'brown-search',
      'docs-search',
      'kh-search',
      'load-search',
      'mysearchservice',
      'rollback-search',
      'uami-search',
    ]);
    assert.equal((await arm('GET', servicePath('no-such-service'))).status, 404);
  });

  test('SearchUpdateService.json (tags, replicas) and SearchUpdateServiceToRemoveIdentity.json', async () => {
    const file = 'search/SearchUpdateService.json';
    const ex = readExample(file);
    const updated = await arm('PATCH', servicePath('mysearchservice'), ex.parameters.service);
    assertLike(file, '200', updated, ex);
    const b = updated.body as {
      tags: Record<string, string>;
      properties: { replicaCount: number };
      identity?: unknown;
    };
    assert.deepEqual(b.tags, { 'app-name': 'My e-commerce app', 'new-tag': 'Adding a new tag' });
    assert.equal(b.properties.replicaCount, 2);
    assert.ok(b.identity, 'a PATCH without identity leaves it');
    const remove = readExample('search/SearchUpdateServiceToRemoveIdentity.json');
    const removed = await arm('PATCH', servicePath('mysearchservice'), remove.parameters.service);
    assertLike('search/SearchUpdateServiceToRemoveIdentity.json', '200', removed, remove);
    assert.equal((removed.body as { identity?: unknown }).identity, undefined);
    const bad = await arm('PATCH', servicePath('mysearchservice'), { properties: { replicaCount: 13 } });
    assert.equal(bad.status, 400);
  });
});

/**
 * `SearchServiceCreateOrUpdate{What}.json` replayed twice (201 created, 200 updated), then its definition read back
 * and compared with `SearchServiceGet{What}.json`.
 */
async function putThenGet(
  what: 'Skillset' | 'Index',
  collection: string,
  bodyOf: (ex: Example) => Record<string, unknown>,
): Promise<{ status: number; body: unknown }> {
  const file = `search/SearchServiceCreateOrUpdate${what}.json`;
  const ex = readExample(file);
  const body = bodyOf(ex);
  const p = `/${collection}('${String(body.name)}')`;
  assertLike(file, '201', await data('docs-search', 'PUT', p, body), ex);
  assertLike(file, '200', await data('docs-search', 'PUT', p, body), ex);
  const got = await data('docs-search', 'GET', p);
  assertLike(`search/SearchServiceGet${what}.json`, '200', got, readExample(`search/SearchServiceGet${what}.json`));
  return got;
}

describe('AI Search data plane: the examples replayed', () => {
  test('SearchServiceCreateOrUpdateSkillset.json: 201, then 200; GET (SearchServiceGetSkillset.json) redacts keys', async () => {
    const got = await putThenGet('Skillset', 'skillsets', (ex) => ({
      ...(ex.parameters.skillset as Record<string, unknown>),
      name: 'tempskillset',
    }));
    const chat = (got.body as { skills: { name: string; apiKey?: string }[] }).skills.find(
      (s) => s.name === 'chatCompletionSkill',
    );
    assert.equal(chat?.apiKey, '<redacted>');
  });

  test('SearchServiceCreateOrUpdateIndex.json: 201, then 200; GET (SearchServiceGetIndex.json) redacts the vectorizer key', async () => {
    const got = await putThenGet('Index', 'indexes', (ex) => ex.parameters.index as Record<string, unknown>);
    const v = (
      got.body as { vectorSearch: { vectorizers: { name: string; azureOpenAIParameters?: { apiKey?: string } }[] } }
    ).vectorSearch.vectorizers.find((x) => x.name === 'openai');
    assert.equal(v?.azureOpenAIParameters?.apiKey, '<redacted>');
  });

  test('SearchServiceRunIndexer.json: 202 without a body; the run embeds the document through the skill', async () => {
    const ex = readExample('search/SearchServiceRunIndexer.json');
    const run = await data(
      'docs-search',
      'POST',
      `/indexers('docs-search-indexer')/search.run`,
      undefined,
      '2025-09-01',
    );
    assert.equal(String(run.status), Object.keys(ex.responses)[0]);
    assert.equal(run.body, undefined);
    let status;
    for (let i = 0; i < 100; i++) {
      status = (await data('docs-search', 'GET', `/indexers('docs-search-indexer')/search.status`)).body as {
        lastResult: { status: string; itemsProcessed: number; itemsFailed: number } | null;
      };
      if (status.lastResult && status.lastResult.status !== 'inProgress') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const last = status?.lastResult;
    assert.ok(last, 'the run ended');
    assert.deepEqual(
      { status: last.status, itemsProcessed: last.itemsProcessed, itemsFailed: last.itemsFailed },
      { status: 'success', itemsProcessed: 1, itemsFailed: 0 },
    );
  });

  test('SearchIndexSearchDocumentsPost.json: its vector query answers value[] with @search.score and the fields', async () => {
    const ex = readExample('search/SearchIndexSearchDocumentsPost.json');
    const body = ex.parameters.body as { vectorQueries: Record<string, unknown>[] };
    // The example's query as the simulator answers it: a vector query (its other options are not modelled) on the
    // example index's `vector1b` (10 dimensions), which the index example above created.
    const query = { ...body.vectorQueries[0], fields: 'vector1b', threshold: undefined, filterOverride: undefined };
    const res = await data('docs-search', 'POST', `/indexes('temp-example-index')/docs/search.post.search`, {
      vectorQueries: [query],
      top: 10,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { value: [] }, 'the example index holds no documents');
    const wrong = await data('docs-search', 'POST', `/indexes('temp-example-index')/docs/search.post.search`, {
      vectorQueries: [{ ...query, vector: [1, 2, 3] }],
    });
    assert.equal(wrong.status, 400, 'a vector of the wrong dimensions');
  });
});

describe('AI Search behaviour a cutover relies on (through @azure/search-documents)', () => {
  const clients = async (service: string, principal = 'cutover-worker') => {
    const svc = await t.clientsAs(principal).search.services.get(RG, service);
    return createSearchClients(t.credentialOf(principal), svc.endpoint!, t.endpoints);
  };
  const vectorQuery = async (service: string) => {
    const c = await clients(service);
    const r = await c.indexes.getSearchClient(`${service}-index`).search(undefined, {
      vectorSearchOptions: { queries: [{ kind: 'text', text: 'claims', fields: ['contentVector'] }] },
    });
    for await (const _ of r.results) break;
  };
  const embeddingCalls = () =>
    t.sim.control
      .requests()
      .filter((r) => r.surface === 'dataplane' && /\/embeddings$/.test(r.path))
      .map((r) => ({
        status: r.status,
        ...(r.principal ? { principal: r.principal } : {}),
        ...(r.code ? { code: r.code } : {}),
      }));

  test('a read-modify-write of a skillset keeps the keys it sends back as <redacted>', async () => {
    const c = await clients('brown-search');
    const ss = await c.indexers.getSkillset('brown-search-skills');
    const other = ss.skills.find((s) => s.name === 'embedOther') as AzureOpenAIEmbeddingSkill;
    assert.equal(other.apiKey, '<redacted>');
    ss.description = 'rewritten';
    await c.indexers.createOrUpdateSkillset(ss);
    const stored = Object.values(t.sim.control.state().searchServices!).find((s) => s.name === 'brown-search')!;
    const { key1 } = await t.clientsAs('cutover-worker').cognitive.accounts.listKeys(RG, 'other-openai');
    const skill = (stored.skillsets['brown-search-skills'].skills as { name: string; apiKey?: string }[]).find(
      (s) => s.name === 'embedOther',
    );
    assert.equal(skill?.apiKey, key1, 'the key survived');
  });

  test('the vectorizer calls Azure OpenAI with its key; without one, with a token of the service’s identity', async () => {
    t.sim.control.clearRequests();
    await vectorQuery('docs-search');
    assert.deepEqual(embeddingCalls(), [{ status: 200 }], 'a key call names no principal');
    const c = await clients('docs-search');
    const index = await c.indexes.getIndex('docs-search-index');
    const v = index.vectorSearch!.vectorizers!.find((x) => x.vectorizerName === 'aoai') as AzureOpenAIVectorizer;
    delete v.parameters!.apiKey;
    await c.indexes.createOrUpdateIndex(index);
    t.sim.control.clearRequests();
    // No system-assigned identity: the service cannot get a token.
    await assert.rejects(vectorQuery('docs-search'), (e: { statusCode?: number }) => e.statusCode === 400);
    assert.deepEqual(embeddingCalls(), []);
    const svc = await t.clientsAs('cutover-worker').search.services.update(RG, 'docs-search', {
      identity: { type: 'SystemAssigned' },
    });
    t.sim.control.clearRequests();
    // An identity without a role on the account: refused by Azure OpenAI.
    await assert.rejects(vectorQuery('docs-search'), (e: { statusCode?: number }) => e.statusCode === 400);
    assert.ok(svc.identity?.principalId);
    assert.deepEqual(embeddingCalls(), [{ status: 401, code: 'PermissionDenied' }], 'a token of the identity, refused');
  });

  test('RBAC: writing needs a Search role of the caller, and a token for https://search.azure.com', async () => {
    const skillset = { name: 'auditors', skills: [] };
    const denied = await data('docs-search', 'PUT', `/skillsets('auditors')`, skillset, '2026-04-01', 'auditor');
    assert.equal(denied.status, 403, 'a Reader may not write a skillset');
    assert.equal((await data('docs-search', 'PUT', `/skillsets('auditors')`, skillset)).status, 201);
    const endpoint = `${t.sim.info.armEndpoint}/search/docs-search/skillsets?api-version=2026-04-01`;
    const wrongAudience = await call('GET', endpoint, ARM);
    assert.equal(wrongAudience.status, 401);
  });
});
