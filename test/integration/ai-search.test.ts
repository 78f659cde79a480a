/**
 * Azure AI Search end to end (issue 11, kind 3): the real workflow on the dev server, real activities over the real
 * @azure/arm-search and @azure/search-documents clients, the simulator playing Azure
 * (test/fixtures/scenarios/ai-search.yaml). A service's embedding skill and azureOpenAI vectorizer move from the
 * account's key to the service's identity; the smoke test is a vector query through the vectorizer and an indexer
 * run through the skill, both of which really call the account. Each final state is compared field by field with the
 * expected after-state (success) or the before-state (rollback): the service's identity and tags, every skillset,
 * index (definitions), indexer and data source, role assignments, principals and the account's key auth. Keys show
 * in the footprint as which key of which account they are, never as values.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { MigrationPlan } from '../../plan/schema';
import { SearchClient } from '@azure/search-documents';
import { clientSecretCredential, createSearchClients, SEARCH_AUDIENCE } from '../../azure/clients';
import { createAzureContext } from '../../azure/context';
import { discoverCallers } from '../../azure/inventory/discover';
import { accessAfter, accessFootprint } from '../support/footprint';
import { keyHoldersOf } from '../support/key-holders';
import { type Estate, estatePlan, runMigration, startEstate, SUB, TEST_PLAN_TIMING } from '../support/estate';
import { assertKeyThenIdentity, assertNoFailedCall, startCalls } from '../support/steady-calls';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'ai-search.yaml');
const RG = 'rg-search';
const serviceId = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Search/searchServices/${name}`;

function plan(service: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(service, account, {
    changeTicket: `CHG-SEARCH-${service}`,
    target: { kind: 'ai-search', resourceGroup: RG, name: service, accountKey: 'key1' },
    account: { name: account, deployment: 'text-embedding-3-small' },
    settings: { remove: [`skillset:${service}-skills:embed:apiKey`, `index:${service}-index:aoai:apiKey`], set: {} },
    smokeTest: {
      ...TEST_PLAN_TIMING.smokeTest,
      path: `/health?index=${service}-index&vectorizer=aoai&indexer=${service}-indexer&skill=embed`,
      identityProbePath: 'none',
    },
    budgets: { ...TEST_PLAN_TIMING.budgets, propagationWait: '2s' },
    ...overrides,
  });
}

/** Replaces every key value in a definition by which key of which account it is. */
function keysNamed(value: unknown, keys: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => keysNamed(v, keys));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === 'apiKey' && typeof v === 'string' ? (keys.get(v) ?? 'an unknown key') : keysNamed(v, keys),
    ]),
  );
}

/** The parts of the estate a search migration may change (index documents aside: every indexer run rewrites them). */
function footprint(estate: Estate, accountName: string) {
  const s = estate.sim.control.state();
  const keys = new Map(
    Object.values(s.accounts).flatMap((a) => [
      [a.key1, `${a.name}/key1`],
      [a.key2, `${a.name}/key2`],
    ]),
  );
  const byName = <T>(r: Record<string, T>) =>
    Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
  const services = Object.values(s.searchServices ?? {})
    .map((svc) => ({
      name: svc.name,
      systemPrincipalId: svc.systemPrincipalId ?? null,
      userAssigned: svc.userAssigned.map((u) => u.toLowerCase()).sort(),
      tags: svc.tags,
      sku: svc.sku,
      skillsets: keysNamed(byName(svc.skillsets), keys) as Record<string, Record<string, unknown>>,
      indexes: keysNamed(
        byName(Object.fromEntries(Object.entries(svc.indexes).map(([k, v]) => [k, v.definition]))),
        keys,
      ) as Record<string, Record<string, unknown>>,
      indexers: byName(Object.fromEntries(Object.entries(svc.indexers).map(([k, v]) => [k, v.definition]))),
      dataSources: byName(Object.fromEntries(Object.entries(svc.dataSources).map(([k, v]) => [k, v.definition]))),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { services, ...accessFootprint(s, accountName) };
}

type Footprint = ReturnType<typeof footprint>;

function serviceOf(fp: Footprint, name: string) {
  const svc = fp.services.find((x) => x.name === name);
  assert.ok(svc, `${name} in the footprint`);
  return svc;
}

type Json = Record<string, unknown>;
const skillOf = (svc: ReturnType<typeof serviceOf>, skill: string) =>
  (svc.skillsets[`${svc.name}-skills`].skills as Json[]).find((x) => x.name === skill)!;
const vectorizerOf = (svc: ReturnType<typeof serviceOf>, name: string) =>
  ((svc.indexes[`${svc.name}-index`].vectorSearch as Json).vectorizers as Json[]).find((v) => v.name === name)!
    .azureOpenAIParameters as Json;

/**
 * What a successful system-assigned migration of `name` leaves: a system identity (the principal Azure chose), one
 * role assignment for it on the account, the `embed` skill and `aoai` vectorizer without their key (so on the
 * system identity), key auth off; everything else — other skills, vectorizers, indexers, data sources, tags — as it
 * was.
 */
function expectedAfter(beforeState: Footprint, actual: Footprint, name: string, account: string): Footprint {
  const expected = structuredClone(beforeState);
  const svc = serviceOf(expected, name);
  const principal = serviceOf(actual, name).systemPrincipalId;
  assert.ok(principal, `${name} has a system-assigned identity`);
  assert.equal(svc.systemPrincipalId, null, `${name} had none before`);
  svc.systemPrincipalId = principal;
  assert.equal(skillOf(svc, 'embed').apiKey, `${account}/key1`, 'the skill held key1 before');
  assert.equal(vectorizerOf(svc, 'aoai').apiKey, `${account}/key1`, 'the vectorizer held key1 before');
  delete skillOf(svc, 'embed').apiKey;
  delete vectorizerOf(svc, 'aoai').apiKey;
  return { ...expected, ...accessAfter(beforeState, actual, principal, RG, account) };
}

/** A history as JSON with every payload's base64 `data` decoded beside it. */
function decodedHistory(json: string): string {
  const decoded = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) =>
    Buffer.from(m[1], 'base64').toString('utf8'),
  );
  return [json, ...decoded].join('\n');
}

/** A vector query through the index's `aoai` vectorizer, as any client of the service sends it: its hits. */
async function vectorQuery(estate: Estate, service: string): Promise<number> {
  const svc = await estate.azure.search.services.get(RG, service);
  const clients = createSearchClients(estate.credential, svc.endpoint!, estate.endpoints);
  return hitsOf(clients.indexes.getSearchClient(`${service}-index`));
}

async function hitsOf(client: SearchClient<object>): Promise<number> {
  const result = await client.search(undefined, {
    top: 1,
    vectorSearchOptions: {
      queries: [{ kind: 'text', text: 'when are claims paid', fields: ['contentVector'], kNearestNeighborsCount: 1 }],
    },
  });
  let hits = 0;
  for await (const _ of result.results) hits++;
  return hits;
}

const keyHolders = (estate: Estate, account: string) => keyHoldersOf(estate, RG, account);

describe('Azure AI Search migrations against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('ai-search', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  const run = (name: string, p: MigrationPlan) => runMigration(estate, name, p);

  test('in place: the skill and the vectorizer run on the service’s system identity, the key is gone', async () => {
    const beforeState = footprint(estate, 'docs-search-openai');
    // With the identity probe: propagation waits until a throwaway index's vectorizer works on the identity.
    const withProbe = { identityProbePath: '/health/identity', path: '/health' };
    const result = await run(
      'ai-search-in-place',
      plan('docs-search', 'docs-search-openai', { smokeTest: { ...TEST_PLAN_TIMING.smokeTest, ...withProbe } }),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'docs-search-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'docs-search', 'docs-search-openai'));
    // The identity probe made its throwaway index, queried it and deleted it (the footprint shows it is gone).
    const probes = estate.sim.control
      .requests()
      .filter((r) => r.surface === 'search' && r.path.includes('cutover-identity-probe-docs-search'))
      .map((r) => `${r.method} ${r.status}`);
    assert.ok(probes.includes('POST 200'), `a vector query through the probe index passed: ${probes.join(', ')}`);
    assert.ok(probes.includes('DELETE 204'), 'the probe index was deleted');
    // The smoke test's answers: the service called the account on its identity.
    assert.ok(result.evidence.smokeTests.some((t) => t.passed));
    assert.equal(await vectorQuery(estate, 'docs-search'), 1, 'the vector query works on the identity');
  });

  test('under load: steady vector queries of a client through the vectorizer see no failure during the migration', async () => {
    const svc = await estate.azure.search.services.get(RG, 'load-search');
    // The RAG app querying the index, as its own principal (Search Index Data Reader); no retries: every failure counts.
    const app = clientSecretCredential(estate.endpoints, estate.sim.control.credentials('search-app'));
    const client = new SearchClient<object>(svc.endpoint!, 'load-search-index', app, {
      tlsOptions: { ca: estate.sim.info.caCert },
      audience: SEARCH_AUDIENCE,
      retryOptions: { maxRetries: 0 },
    });
    const query = () => hitsOf(client);
    await query();
    const from = estate.sim.control.requests().length;
    const smokeTest = { ...TEST_PLAN_TIMING.smokeTest, path: '/health', identityProbePath: '/health/identity' };
    await assertNoFailedCall(startCalls(query, 50), () =>
      run('ai-search-under-load', plan('load-search', 'load-search-openai', { smokeTest })),
    );
    // The account answered the service's embeddings on its key, then on its identity, while the queries ran.
    const principal = Object.values(estate.sim.control.state().searchServices ?? {}).find(
      (x) => x.name === 'load-search',
    )?.systemPrincipalId;
    assertKeyThenIdentity(estate, from, 'load-search-openai', principal);
    const account = Object.values(estate.sim.control.state().accounts).find((a) => a.name === 'load-search-openai')!;
    assert.equal(account.disableLocalAuth, true, 'the load ran until key auth was off');
    // The smoke test's indexer run filled the index: the last queries found its document.
    assert.equal(await query(), 1);
  });

  test('a failing smoke test rolls the service back to the exact before-state, its key read again from the account', async () => {
    const beforeState = footprint(estate, 'rollback-search-openai');
    // The identity's role never propagates within the downtime budget: the smoke test cannot pass.
    estate.sim.control.setDelays({ propagationMs: 3_600_000 });
    let result;
    let handle: Parameters<NonNullable<Parameters<typeof runMigration>[3]>>[0] | undefined;
    try {
      result = await runMigration(
        estate,
        'ai-search-rollback',
        plan('rollback-search', 'rollback-search-openai', {
          budgets: { ...TEST_PLAN_TIMING.budgets, propagationWait: '1s', downtime: '4s' },
        }),
        async (h) => {
          handle = h;
        },
      );
    } finally {
      estate.sim.control.setDelays({ propagationMs: 300 });
    }
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /smoke test of rollback-search did not pass/);
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    assert.deepEqual(footprint(estate, 'rollback-search-openai'), beforeState);
    assert.equal(await vectorQuery(estate, 'rollback-search'), 0, 'the vector query works with the key again');
    // Which key it was is recorded; the key itself, read again from the account to restore it, is not.
    const history = decodedHistory(historyToJSON(await handle!.fetchHistory()));
    assert.match(history, /"kind":"account-key","fingerprint":"sha256:[0-9a-f]+","keyName":"key1"/);
    const account = Object.values(estate.sim.control.state().accounts).find(
      (a) => a.name === 'rollback-search-openai',
    )!;
    for (const key of [account.key1, account.key2]) {
      assert.ok(!history.includes(key), 'no key in the workflow history');
      assert.ok(!JSON.stringify(result.evidence).includes(key), 'no key in the evidence');
    }
  });

  test('brownfield: a user-assigned identity, a skill on another account’s key and a vectorizer on the identity survive', async () => {
    const beforeState = footprint(estate, 'brown-search-openai');
    const brown = serviceOf(beforeState, 'brown-search');
    assert.equal(brown.userAssigned.length, 1);
    assert.equal(skillOf(brown, 'embedOther').apiKey, 'other-openai/key1');
    assert.equal(
      ((vectorizerOf(brown, 'other').authIdentity as Json).userAssignedIdentity as string).split('/').pop(),
      'id-search',
    );
    const result = await run('ai-search-brownfield', plan('brown-search', 'brown-search-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'brown-search-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'brown-search', 'brown-search-openai'));
  });

  test('user-assigned: the skill and the vectorizer name the attached identity in authIdentity, the role goes to it', async () => {
    const uami = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-search`;
    const authIdentity = {
      '@odata.type': '#Microsoft.Azure.Search.DataUserAssignedIdentity',
      userAssignedIdentity: uami,
    };
    const beforeState = footprint(estate, 'uami-search-openai');
    const result = await run(
      'ai-search-user-assigned',
      plan('uami-search', 'uami-search-openai', {
        identity: { type: 'user-assigned', resourceId: uami },
        smokeTest: { ...TEST_PLAN_TIMING.smokeTest, path: '/health', identityProbePath: '/health/identity' },
        settings: {
          remove: ['skillset:uami-search-skills:embed:apiKey', 'index:uami-search-index:aoai:apiKey'],
          set: {
            'skillset:uami-search-skills:embed:authIdentity': uami,
            'index:uami-search-index:aoai:authIdentity': uami,
          },
        },
      }),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'uami-search-openai');
    const expected = structuredClone(beforeState);
    const svc = serviceOf(expected, 'uami-search');
    svc.userAssigned = [uami.toLowerCase()];
    const skill = skillOf(svc, 'embed');
    const vectorizer = vectorizerOf(svc, 'aoai');
    delete skill.apiKey;
    delete vectorizer.apiKey;
    // Written by the SDK: in its property order, which JSON's equality ignores.
    skill.authIdentity = authIdentity;
    vectorizer.authIdentity = authIdentity;
    const principal = Object.values(estate.sim.control.state().identities).find(
      (u) => u.name === 'id-search',
    )!.principalId;
    const access = accessAfter(beforeState, actual, principal, RG, 'uami-search-openai');
    // The identity existed before: no new principal.
    assert.deepEqual(actual, { ...expected, ...access, principals: beforeState.principals });
    assert.equal(serviceOf(actual, 'uami-search').systemPrincipalId, null, 'no system identity was enabled');
  });

  test('the key-holder check finds skills and vectorizers holding a key for the account, not those on an identity', async () => {
    const kh = await keyHolders(estate, 'kh-openai');
    assert.equal(kh.verdict, 'holders');
    assert.deepEqual(kh.holders, [
      {
        resourceId: serviceId('kh-search'),
        kind: 'ai-search',
        settingNames: ['skillset:kh-search-skills:embed:apiKey', 'index:kh-search-index:aoai:apiKey'],
      },
    ]);
    // A fleet does not pick a search service up (its plan must name the callers and the key), but says so.
    const ctx = createAzureContext({ credential: estate.credential, endpoints: estate.endpoints, governor: null });
    const found = await discoverCallers(ctx, [{ subscriptionId: SUB, resourceGroup: RG, name: 'kh-openai' }], {
      envTag: 'env',
    });
    assert.deepEqual(found.callers, []);
    assert.deepEqual(found.notes, [
      'kh-openai: search service kh-search holds the key (skillset:kh-search-skills:embed:apiKey, index:kh-search-index:aoai:apiKey): migrate it with a plan of its own',
    ]);
    // kh-search's `other` vectorizer calls other-openai on its identity: only brown-search's skill holds that key.
    const other = await keyHolders(estate, 'other-openai');
    assert.deepEqual(other.holders, [
      {
        resourceId: serviceId('brown-search'),
        kind: 'ai-search',
        settingNames: ['skillset:brown-search-skills:embedOther:apiKey'],
        tags: { team: 'claims' },
      },
    ]);
  });
});
