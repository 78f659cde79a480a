/**
 * Entra security groups in the simulator, on the access estate (test/fixtures/scenarios/access.yaml): group role
 * assignments as ARM lists them (`assignedTo` transitive, `principalId eq` direct), data-plane access through a
 * group (membership at request time, a deleted group assignment honoured for `propagationMs`), and the identity
 * probe of the simulated apps while an identity's assignment propagates out. Everything through SDK clients.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { AzureOpenAI } from 'openai';
import { COGNITIVE_SERVICES_SCOPE } from '../../azure/clients';
import { effectivePrincipalIds } from '../../simulator/groups';
import { buildState } from '../../simulator/scenario';
import { type ParsedScenario, ScenarioError, loadScenario, parseScenario } from '../../simulator/scenario-schema';
import { eventually, failure, fetchWithCa, httpsJson, simulatorForFile } from './support';

const ACCESS = path.join(__dirname, '..', 'fixtures', 'scenarios', 'access.yaml');
const RG = 'rg-ai';
const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';
const PROPAGATION_MS = 1_500;
/** Long enough that nothing in a test outlives it: "before the delay ends" without racing the clock. */
const LONG_PROPAGATION_MS = 3_600_000;

const ID_RESEARCH = {
  principalId: '1d000000-0000-4000-8000-000000000001',
  clientId: '1d000000-0000-4000-8000-0000000000c1',
};
const ID_DOCS = '1d000000-0000-4000-8000-000000000002';
const GRP_RESEARCH = '9a000000-0000-4000-8000-000000000001';
const WORKER = 'a1000000-0000-4000-8000-000000000001';
const RA = {
  researchDirect: 'b2000000-0000-4000-8000-000000000001',
  docsDirect: 'b2000000-0000-4000-8000-000000000002',
  readerRg: 'b2000000-0000-4000-8000-000000000003',
  researchGroup: 'b2000000-0000-4000-8000-000000000004',
  docsIdDocs: 'b2000000-0000-4000-8000-000000000005',
  researchOld: 'b2000000-0000-4000-8000-000000000006',
};

const s = simulatorForFile({ scenario: ACCESS });
const rgScope = () => `subscriptions/${s.sub}/resourceGroups/${RG}`;
const accountScope = (name: string) => `${rgScope()}/providers/Microsoft.CognitiveServices/accounts/${name}`;

async function list<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

interface Health {
  status: string;
  authMode: string;
  error?: { code: string; message: string };
}
const probe = async (site: string, query = '') => {
  const res = await httpsJson(`${s.t.sim.control.siteUrl(RG, site)}/health/identity${query}`, s.t.sim.info.caCert);
  return { status: res.status, body: res.body as Health };
};
/** The first answer of the probe that is not a restart's 503 (the apps start with the scenario). */
const probeWhenUp = (site: string, query = '') =>
  eventually(async () => {
    const r = await probe(site, query);
    return r.status === 503 && r.body.status !== 'error' ? undefined : r;
  });

/** A chat completion on an account with the worker's own Entra token (the real openai package). */
async function chatAs(principal: string, account: string): Promise<{ ok: true } | { ok: false; status?: number }> {
  const credential = s.t.credentialOf(principal);
  const client = new AzureOpenAI({
    endpoint: `${s.t.sim.info.armEndpoint}/aoai/${account}/`,
    azureADTokenProvider: async () => (await credential.getToken(COGNITIVE_SERVICES_SCOPE))!.token,
    apiVersion: '2024-10-21',
    maxRetries: 0,
    fetch: fetchWithCa(s.t.sim.info.caCert),
  });
  try {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return { ok: true };
  } catch (err) {
    return { ok: false, status: (err as { status?: number }).status };
  }
}

beforeEach(async () => {
  await s.t.sim.control.reset();
});

describe('access.yaml', () => {
  test('loads with its fixed ids; grp-research holds id-research; every app answers its identity probe', async () => {
    const state = s.t.sim.control.state();
    assert.equal(s.sub, 'cccccccc-cccc-4ccc-8ccc-cccccccccccc');
    assert.deepEqual(state.groups[GRP_RESEARCH], {
      objectId: GRP_RESEARCH,
      tenantId: '11111111-1111-4111-8111-111111111111',
      name: 'grp-research',
      members: [ID_RESEARCH.principalId],
      createdAt: state.groups[GRP_RESEARCH].createdAt,
    });
    const byName = Object.fromEntries(Object.values(state.roleAssignments).map((ra) => [ra.name, ra]));
    assert.equal(byName[RA.researchGroup].principalId, GRP_RESEARCH);
    assert.equal(byName[RA.researchGroup].principalType, 'Group');
    assert.equal(byName[RA.researchDirect].principalType, 'ServicePrincipal');
    assert.equal(byName[RA.researchOld].scope, `/${accountScope('research-openai')}`);
    for (const site of ['notebook-a', 'notebook-b', 'docs-bot']) {
      const r = await probeWhenUp(site);
      assert.equal(r.status, 200, `${site}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.authMode, 'identity');
    }
    const r = await probeWhenUp('notebook-b', `?clientId=${ID_RESEARCH.clientId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
});

describe('group role assignments in ARM', () => {
  test("assignedTo('{member}') lists the group's assignment too, principalId eq only the direct ones", async () => {
    const { authorization } = s.t.clientsAs('cutover-worker');
    const research = accountScope('research-openai');
    const assigned = await list(
      authorization.roleAssignments.listForScope(research, { filter: `assignedTo('${ID_RESEARCH.principalId}')` }),
    );
    // At the account or above: the two on the account, the Reader on the resource group.
    assert.deepEqual(assigned.map((ra) => ra.name).sort(), [RA.researchDirect, RA.readerRg, RA.researchGroup].sort());
    const group = assigned.find((ra) => ra.name === RA.researchGroup)!;
    assert.equal(group.principalId, GRP_RESEARCH);
    assert.equal(group.principalType, 'Group');

    const direct = await list(
      authorization.roleAssignments.listForScope(research, { filter: `principalId eq '${ID_RESEARCH.principalId}'` }),
    );
    assert.deepEqual(direct.map((ra) => ra.name).sort(), [RA.researchDirect, RA.readerRg].sort());

    const subWide = await list(
      authorization.roleAssignments.listForSubscription({ filter: `assignedTo('${ID_RESEARCH.principalId}')` }),
    );
    assert.deepEqual(
      subWide.map((ra) => ra.name).sort(),
      [RA.researchDirect, RA.docsDirect, RA.readerRg, RA.researchGroup].sort(),
    );
    const groupItself = await list(
      authorization.roleAssignments.listForSubscription({ filter: `principalId eq '${GRP_RESEARCH}'` }),
    );
    assert.deepEqual(
      groupItself.map((ra) => ra.name),
      [RA.researchGroup],
    );
    // Not a member: no group assignment.
    const docs = await list(authorization.roleAssignments.listForSubscription({ filter: `assignedTo('${ID_DOCS}')` }));
    assert.deepEqual(
      docs.map((ra) => ra.name),
      [RA.docsIdDocs],
    );
  });

  test('membership changes list at once: a principal added to the group lists its assignment, removed does not', async () => {
    const { authorization } = s.t.clientsAs('cutover-worker');
    const listed = async () =>
      (await list(authorization.roleAssignments.listForSubscription({ filter: `assignedTo('${WORKER}')` })))
        .map((ra) => ra.name)
        .includes(RA.researchGroup);
    assert.equal(await listed(), false);
    s.t.sim.control.setGroupMembers('grp-research', ['id-research', 'cutover-worker']);
    assert.equal(await listed(), true);
    s.t.sim.control.setGroupMembers('grp-research', ['id-research']);
    assert.equal(await listed(), false);
  });

  test('setGroupMembers over HTTP: replaces the members; an unknown group 404, an unknown member 400 and no change', async () => {
    const url = (group: string) => `${s.t.sim.info.controlUrl}/groups/${group}/members`;
    const put = (group: string, members: unknown) =>
      httpsJson(url(group), s.t.sim.info.caCert, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(members),
      });
    const ok = await put('grp-research', ['cutover-worker', { identity: 'id-research', resourceGroup: RG }]);
    assert.equal(ok.status, 200);
    assert.deepEqual((ok.body as { members: string[] }).members, [WORKER, ID_RESEARCH.principalId]);
    assert.equal((await put('grp-nobody', [])).status, 404);
    const bad = await put(GRP_RESEARCH, ['id-research', 'id-nobody']);
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { code: string } }).error.code, 'InvalidGroupMembers');
    assert.deepEqual(s.t.sim.control.state().groups[GRP_RESEARCH].members, [WORKER, ID_RESEARCH.principalId]);
  });

  test('create for a group: principalType Group found without being given, a wrong one refused', async () => {
    const { authorization } = s.t.clientsAs('cutover-worker');
    const scope = accountScope('docs-openai');
    const roleDefinitionId = `/subscriptions/${s.sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}`;
    const created = await authorization.roleAssignments.create(scope, randomUUID(), {
      roleDefinitionId,
      principalId: GRP_RESEARCH,
    });
    assert.equal(created.principalType, 'Group');
    const wrong = await failure(
      authorization.roleAssignments.create(accountScope('research-openai'), randomUUID(), {
        roleDefinitionId: roleDefinitionId.replace(OPENAI_USER, 'acdd72a7-3385-48ef-bd42-f606fba81ae7'),
        principalId: GRP_RESEARCH,
        principalType: 'ServicePrincipal',
      }),
    );
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.code, 'UnmatchedPrincipalType');
  });
});

describe('data plane through a group', () => {
  test('a member calls through the group grant; out of the group it cannot; a deleted group grant propagates out', async () => {
    const control = s.t.sim.control;
    // cutover-worker holds no data-plane role of its own.
    assert.deepEqual(await chatAs('cutover-worker', 'research-openai'), { ok: false, status: 401 });
    control.setGroupMembers('grp-research', ['id-research', 'cutover-worker']);
    assert.deepEqual(await chatAs('cutover-worker', 'research-openai'), { ok: true });
    // The group's role is on research-openai only.
    assert.deepEqual(await chatAs('cutover-worker', 'docs-openai'), { ok: false, status: 401 });
    // Membership is read at request time (no token cache modelled): removed, refused with the same token.
    control.setGroupMembers('grp-research', ['id-research']);
    assert.deepEqual(await chatAs('cutover-worker', 'research-openai'), { ok: false, status: 401 });
    control.setGroupMembers('grp-research', ['id-research', 'cutover-worker']);

    control.setDelays({ propagationMs: LONG_PROPAGATION_MS });
    try {
      const { authorization } = s.t.clientsAs('cutover-worker');
      await authorization.roleAssignments.delete(accountScope('research-openai'), RA.researchGroup);
      // Deleted, not yet propagated out: still honoured.
      assert.deepEqual(await chatAs('cutover-worker', 'research-openai'), { ok: true });
      control.setDelays({ propagationMs: PROPAGATION_MS });
      const refused = await eventually(async () => {
        const r = await chatAs('cutover-worker', 'research-openai');
        return r.ok ? undefined : r;
      });
      assert.equal(refused.status, 401);
      assert.equal(
        control.state().revokedAssignments.find((ra) => ra.name === RA.researchGroup)?.principalType,
        'Group',
      );
    } finally {
      control.setDelays({ propagationMs: PROPAGATION_MS });
    }
  });
});

describe('identity probe while an assignment propagates out', () => {
  test('503 once the identity has no grant left and propagationMs passed, 200 before; a group grant keeps it 200', async () => {
    const control = s.t.sim.control;
    const { authorization } = s.t.clientsAs('cutover-worker');
    for (const site of ['notebook-a', 'notebook-b']) assert.equal((await probeWhenUp(site)).status, 200);
    control.setDelays({ propagationMs: LONG_PROPAGATION_MS });
    try {
      // notebook-b calls docs-openai, where id-research's only grant is the direct one.
      await authorization.roleAssignments.delete(accountScope('docs-openai'), RA.docsDirect);
      // notebook-a calls research-openai, where id-research also holds grp-research's grant.
      await authorization.roleAssignments.delete(accountScope('research-openai'), RA.researchDirect);
      const withClientId = `?clientId=${ID_RESEARCH.clientId}`;
      assert.equal((await probe('notebook-b')).status, 200, 'before propagationMs ends');
      assert.equal((await probe('notebook-b', withClientId)).status, 200, 'before propagationMs ends');
      control.setDelays({ propagationMs: PROPAGATION_MS });
      const gone = await eventually(async () => {
        const r = await probe('notebook-b');
        return r.status === 200 ? undefined : r;
      });
      assert.equal(gone.status, 503);
      assert.equal(gone.body.error?.code, 'PermissionDenied');
      const goneToo = await probe('notebook-b', withClientId);
      assert.equal(goneToo.status, 503);
      assert.equal(goneToo.body.error?.code, 'PermissionDenied');
      // The group grant is untouched: id-research still reaches research-openai.
      assert.equal((await probe('notebook-a')).status, 200);
      // docs-bot's identity never lost anything.
      assert.equal((await probe('docs-bot')).status, 200);
    } finally {
      control.setDelays({ propagationMs: PROPAGATION_MS });
    }
  });
});

describe('scenario validation of groups', () => {
  const base = (): ParsedScenario => structuredClone(loadScenario(ACCESS));
  const build = (sc: ParsedScenario) =>
    buildState(parseScenario(sc), { baseUrl: 'https://127.0.0.1:1', now: Date.now() });

  test('members by name, ARM id, site system identity and nested group resolve; unknown ones are named', () => {
    const sc = base();
    sc.subscriptions[0].resourceGroups![0].sites![2].identity = {
      type: 'SystemAssigned, UserAssigned',
      userAssigned: ['id-docs'],
    };
    sc.groups!.push({
      name: 'grp-all',
      members: [
        'grp-research',
        `/subscriptions/${sc.subscriptions[0].id}/resourceGroups/rg-ai/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-old`,
        { site: 'docs-bot' },
        'cutover-worker',
      ],
    });
    const { state } = build(sc);
    const all = Object.values(state.groups).find((g) => g.name === 'grp-all')!;
    const docsBot = Object.values(state.principals).find((p) => p.name === 'docs-bot')!;
    assert.deepEqual(all.members, [GRP_RESEARCH, '1d000000-0000-4000-8000-000000000003', docsBot.objectId, WORKER]);
    // Transitive: id-research is in grp-all through grp-research.
    assert.deepEqual(
      [...effectivePrincipalIds(state, ID_RESEARCH.principalId)].sort(),
      [ID_RESEARCH.principalId, GRP_RESEARCH, all.objectId].sort(),
    );
    assert.deepEqual([...effectivePrincipalIds(state, ID_DOCS)], [ID_DOCS]);

    const unknown = base();
    unknown.groups![0].members = ['id-nobody'];
    assert.throws(
      () => build(unknown),
      (e: Error) => e instanceof ScenarioError && /id-nobody/.test(e.message),
    );
    const noSystem = base();
    noSystem.groups![0].members = [{ site: 'notebook-a' }];
    assert.throws(() => build(noSystem), /has no system-assigned identity/);
  });

  test('a cycle, another tenant and a name shared with a principal are refused', () => {
    const cycle = base();
    cycle.groups!.push({ name: 'grp-outer', members: ['grp-research'] });
    cycle.groups![0].members = ['grp-outer'];
    assert.throws(() => build(cycle), /cycle/);

    const tenant = base();
    tenant.tenants.push({ name: 'fabrikam' });
    tenant.groups![0].tenant = 'fabrikam';
    assert.throws(() => build(tenant), /another tenant/);

    const clash = base();
    clash.groups!.push({ name: 'cutover-worker' });
    assert.throws(() => build(clash), /also a principal's name/);
  });
});
