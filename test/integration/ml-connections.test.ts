/**
 * Azure Machine Learning workspace connections end to end (issue 11, item 4): the real workflow on the dev server,
 * real activities over the real @azure/arm-machinelearning client, the simulator playing Azure
 * (test/fixtures/scenarios/ml-connections.yaml). An Azure OpenAI connection by key (`ApiKey`) becomes an Entra ID one
 * (`AAD`) used with the workspace's identity; the smoke test is a chat completion through the connection. Each final
 * state is compared field by field with the expected after-state (success) or the before-state (rollback): the
 * workspaces' identities, every connection (auth, credentials, target, metadata, other properties), computes, tags,
 * role assignments, principals and the account's key auth. The key never enters history or evidence: the snapshot
 * records which account key it was, and the rollback reads it from the account again.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MigrationPlan } from '../../plan/schema';
import { clientSecretCredential, createAzureClients } from '../../azure/clients';
import { scanKeyHolders } from '../../azure/inventory/key-holders';
import { httpRequest } from '../../azure/http';
import { startLoad } from '../../simulator';
import { type Estate, TEST_PLAN_TIMING, estatePlan, runMigration, startEstate, SUB } from '../support/estate';
import { assertKeyThenIdentity, assertNoFailedCall } from '../support/steady-calls';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'ml-connections.yaml');
const RG = 'rg-ml';
/** Cognitive Services OpenAI User, the plan's default role. */
const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

/** The plan for connection `ws/conn`, smoke-tested by code calling through it (on `compute`, when given). */
function plan(
  estate: Estate,
  target: string,
  account: string,
  options: { compute?: string; overrides?: Record<string, unknown>; smokeTest?: Record<string, unknown> } = {},
): MigrationPlan {
  const [ws, conn] = target.split('/');
  const where = options.compute ? `/computes/${options.compute}` : '';
  return estatePlan(ws, account, {
    changeTicket: `CHG-ML-${ws}`,
    target: { kind: 'ml-connection', resourceGroup: RG, name: target },
    settings: { remove: ['credentials.key'], set: { authType: 'AAD' } },
    smokeTest: {
      ...TEST_PLAN_TIMING.smokeTest,
      baseUrl: `${estate.sim.info.armEndpoint}/mlworkspaces/${ws}${where}/connections/${conn}/deployments/gpt-4o-mini`,
      ...options.smokeTest,
    },
    ...options.overrides,
  });
}

/** The parts of the estate a connection migration may change (timestamps aside). */
function footprint(estate: Estate, accountName: string) {
  const s = estate.sim.control.state();
  const workspaces = Object.values(s.mlWorkspaces ?? {})
    .map((ws) => ({
      name: ws.name,
      systemPrincipalId: ws.systemPrincipalId ?? null,
      userAssigned: ws.userAssigned.map((u) => u.toLowerCase()).sort(),
      primaryUserAssignedIdentity: ws.primaryUserAssignedIdentity ?? null,
      tags: ws.tags,
      connections: Object.values(ws.connections)
        .map(({ createdAt: _c, modifiedAt: _m, ...c }) => ({ ...c, credentials: c.credentials ?? null }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      computes: ws.computes,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const account = Object.values(s.accounts).find((a) => a.name === accountName)!;
  return {
    workspaces,
    disableLocalAuth: account.disableLocalAuth,
    roleAssignments: Object.values(s.roleAssignments)
      .map((ra) => `${ra.name}|${ra.principalId}|${ra.roleDefinitionId}|${ra.scope.toLowerCase()}`)
      .sort(),
    principals: Object.keys(s.principals).sort(),
  };
}

type Footprint = ReturnType<typeof footprint>;

function workspaceOf(fp: Footprint, name: string) {
  const ws = fp.workspaces.find((w) => w.name === name);
  assert.ok(ws, `${name} in the footprint`);
  return ws;
}

/** The connection `name` of a workspace, migrated: Entra ID, no credentials, `extraMetadata` added. */
function migrated(ws: Footprint['workspaces'][number], name: string, extraMetadata: Record<string, string> = {}) {
  const c = ws.connections.find((x) => x.name === name);
  assert.ok(c, `connection ${name}`);
  c.authType = 'AAD';
  c.credentials = null;
  c.metadata = { ...c.metadata, ...extraMetadata };
}

const accountScope = (account: string) =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/${account}`.toLowerCase();

/** `GET …/health` through the connection until it answers 200 (or the last answer). */
async function smoke(estate: Estate, p: MigrationPlan) {
  const res = await fetchJson(estate, `${p.smokeTest.baseUrl}/health`);
  return res;
}

async function fetchJson(estate: Estate, url: string): Promise<{ status: number; body: { authMode?: string } }> {
  const res = await httpRequest(url, { timeoutMs: 30_000, ca: estate.sim.info.caCert });
  return { status: res.status, body: res.json<{ authMode?: string }>() ?? {} };
}

/** Runs the migration; returns its result and its history (as JSON). */
async function migrate(estate: Estate, name: string, p: MigrationPlan) {
  let handle: Parameters<NonNullable<Parameters<typeof runMigration>[3]>>[0] | undefined;
  const result = await runMigration(estate, name, p, (h) => {
    handle = h;
    return Promise.resolve();
  });
  return { result, history: JSON.stringify(await handle!.fetchHistory()) };
}

/** The account's keys, read before a run (a run may switch keys off, and listKeys with them). */
async function keysOf(estate: Estate, account: string): Promise<string[]> {
  const keys = await estate.azure.cognitive.accounts.listKeys(RG, account);
  return [keys.key1, keys.key2].filter((k): k is string => !!k);
}

/** What a run's history and evidence must never hold: the account's keys. */
function assertNoKey(run: Awaited<ReturnType<typeof migrate>>, keys: readonly string[]) {
  assert.equal(keys.length, 2, 'the account had its two keys');
  for (const k of keys) {
    assert.ok(!run.history.includes(k), 'no account key in the workflow history');
    assert.ok(!JSON.stringify(run.result).includes(k), 'no account key in the result or its evidence');
  }
}

describe('Azure Machine Learning connection migrations against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('ml-connections', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  test('an ApiKey connection becomes AAD on the workspace identity; the smoke test goes through the connection', async () => {
    const p = plan(estate, 'ws-claims/aoai', 'ml-openai');
    assert.equal((await smoke(estate, p)).body.authMode, 'key', 'it calls with its key before');
    const keys = await keysOf(estate, 'ml-openai');
    const beforeState = footprint(estate, 'ml-openai');
    const run = await migrate(estate, 'ml-connection-system', p);
    const { result } = run;
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'ml-openai');

    const expected = structuredClone(beforeState);
    const ws = workspaceOf(expected, 'ws-claims');
    const principal = workspaceOf(actual, 'ws-claims').systemPrincipalId;
    assert.ok(principal, 'the workspace has a system-assigned identity');
    assert.equal(ws.systemPrincipalId, null, 'it had none before');
    ws.systemPrincipalId = principal;
    migrated(ws, 'aoai');
    const added = actual.roleAssignments.filter((ra) => !beforeState.roleAssignments.includes(ra));
    assert.equal(added.length, 1, 'one new role assignment');
    const [, principalId, roleDefinitionId, scope] = added[0].split('|');
    assert.equal(principalId, principal);
    assert.match(roleDefinitionId, new RegExp(`${OPENAI_USER}$`));
    assert.equal(scope, accountScope('ml-openai'));
    assert.deepEqual(actual, {
      ...expected,
      disableLocalAuth: true,
      roleAssignments: [...expected.roleAssignments, ...added].sort(),
      principals: [...expected.principals, principal].sort(),
    });
    const after = await smoke(estate, p);
    assert.equal(after.status, 200);
    assert.equal(after.body.authMode, 'identity');
    const snap = result.evidence.before?.sites[0].touchedSettings['credentials.key'];
    assert.deepEqual(
      { kind: snap?.kind, keyName: snap && 'keyName' in snap ? snap.keyName : undefined },
      {
        kind: 'account-key',
        keyName: 'key1',
      },
    );
    assertNoKey(run, keys);
  });

  test('under load: steady calls through the connection see no failure while it is rewritten in place', async () => {
    const p = plan(estate, 'ws-load/aoai', 'load-ml-openai');
    assert.equal((await smoke(estate, p)).body.authMode, 'key', 'it calls with its key before');
    const from = estate.sim.control.requests().length;
    const load = startLoad({ url: `${p.smokeTest.baseUrl}/health`, intervalMs: 50, ca: estate.sim.info.caCert });
    await assertNoFailedCall(load, async () => (await migrate(estate, 'ml-connection-under-load', p)).result);
    // The account answered the code on the key, then on the workspace's identity, while the calls ran.
    const principal = workspaceOf(footprint(estate, 'load-ml-openai'), 'ws-load').systemPrincipalId;
    assertKeyThenIdentity(estate, from, 'load-ml-openai', principal ?? undefined);
    assert.equal(workspaceOf(footprint(estate, 'load-ml-openai'), 'ws-load').connections[0].authType, 'AAD');
    assert.equal(footprint(estate, 'load-ml-openai').disableLocalAuth, true, 'the load ran until key auth was off');
  });

  test('a failed smoke test rolls the connection back to its key (key2, read from the account again)', async () => {
    // The code runs on a compute with no identity: once the key is gone it cannot authenticate.
    const p = plan(estate, 'ws-rollback/aoai', 'rollback-ml-openai', {
      compute: 'cpu-no-identity',
      smokeTest: { identityProbePath: 'none' },
      overrides: { budgets: { propagationWait: '1s', downtime: '3s', approvalTimeout: '15m', localAuthSwitch: '10m' } },
    });
    const keys = await keysOf(estate, 'rollback-ml-openai');
    const beforeState = footprint(estate, 'rollback-ml-openai');
    const run = await migrate(estate, 'ml-connection-rollback', p);
    const { result } = run;
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /smoke test of ws-rollback\/aoai did not pass/);
    assert.ok(result.evidence.compensations.length >= 3, JSON.stringify(result.evidence.compensations));
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    assert.deepEqual(footprint(estate, 'rollback-ml-openai'), beforeState);
    const conn = workspaceOf(beforeState, 'ws-rollback').connections.find((c) => c.name === 'aoai');
    assert.equal(conn?.credentials?.key, keys[1], 'the key it held: key2');
    const snap = result.evidence.before?.sites[0].touchedSettings['credentials.key'];
    assert.equal(snap?.kind === 'account-key' ? snap.keyName : snap?.kind, 'key2');
    const health = await smoke(estate, p);
    assert.equal(health.status, 200, 'it works with its key again');
    assert.equal(health.body.authMode, 'key');
    assertNoKey(run, keys);
  });

  test('brownfield: a user-assigned identity that already holds the role, another connection and tags survive', async () => {
    const uami = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ml-brown`;
    const p = plan(estate, 'ws-brown/aoai', 'brown-ml-openai', {
      overrides: { identity: { type: 'user-assigned', resourceId: uami } },
    });
    const keys = await keysOf(estate, 'brown-ml-openai');
    const beforeState = footprint(estate, 'brown-ml-openai');
    const run = await migrate(estate, 'ml-connection-brownfield', p);
    const { result } = run;
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'brown-ml-openai');
    const expected = structuredClone(beforeState);
    const identity = estate.sim.control.state().identities[uami.toLowerCase()];
    // DefaultAzureCredential of code using the connection is given the identity's client id.
    migrated(workspaceOf(expected, 'ws-brown'), 'aoai', { AZURE_CLIENT_ID: identity.clientId });
    // The identity was attached and held the role already: nothing else changes, nothing is assigned.
    assert.deepEqual(actual, { ...expected, disableLocalAuth: true });
    assert.equal(result.evidence.roleAssignments[0]?.ours, false, JSON.stringify(result.evidence.roleAssignments));
    const after = await smoke(estate, p);
    assert.equal(after.status, 200);
    assert.equal(after.body.authMode, 'identity');
    assertNoKey(run, keys);
  });

  /** The key-holder check of holder-ml-openai as `credential` runs it. */
  async function holderScan(credential = estate.credential) {
    const accounts = estate.azure.cognitive.accounts;
    const [keys, props] = await Promise.all([
      accounts.listKeys(RG, 'holder-ml-openai'),
      accounts.get(RG, 'holder-ml-openai'),
    ]);
    return scanKeyHolders(
      {
        credential,
        endpoints: estate.endpoints,
        clients: (sub) => createAzureClients(credential, sub, estate.endpoints),
      },
      { account: { subscriptionId: SUB, resourceGroup: RG, name: 'holder-ml-openai' }, exclude: [] },
      { key1: keys.key1, key2: keys.key2, endpoints: [props.properties?.endpoint ?? ''] },
    );
  }

  test('the key-holder check finds ApiKey connections holding the account key, not AAD ones', async () => {
    const scan = await holderScan();
    assert.equal(scan.verdict, 'holders');
    assert.deepEqual(scan.holders, [
      {
        resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/ws-holder/connections/aoai-holder`,
        kind: 'ml-connection',
        settingNames: ['credentials.key'],
      },
    ]);
  });

  test('a worker that may not list the workspaces records their connections as unchecked', async () => {
    const scan = await holderScan(
      clientSecretCredential(estate.endpoints, estate.sim.control.credentials('sites-only-worker')),
    );
    assert.deepEqual(scan.holders, []);
    const ml = scan.ignored?.find(
      (i) => i.resourceId === `/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/workspaces`,
    );
    assert.ok(ml, JSON.stringify(scan));
    assert.match(ml.reason, /may not list the Machine Learning workspaces or their connections \(403\)/);
  });
});
