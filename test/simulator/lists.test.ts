/**
 * ARM lists and their paging through the real SDK clients: accounts by subscription and resource group, sites,
 * slots, deployments, role assignments and role definitions, each followed page by page (`nextLink`) at page size
 * 1, the `nextLink` itself (absolute, on the simulator's host, with api-version and a skip token), and the knob in
 * both its forms (control API, scenario field).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { KINDS_AND_LISTS, RG, httpsJson, simulatorForFile, startTestSimulator } from './support';

const sim = simulatorForFile({ scenario: KINDS_AND_LISTS });

async function names(it: AsyncIterable<{ name?: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x.name!);
  return out;
}

/** Runs `list` at page size 1 and at the default, and checks that page size 1 took one request per item. */
async function pagedAndWhole(operation: string, list: () => AsyncIterable<{ name?: string }>) {
  sim.t.sim.control.setPaging({ pageSize: 1 });
  sim.t.sim.control.clearRequests();
  const paged = await names(list());
  const requests = sim.t.sim.control.requests().filter((r) => r.operation === operation && r.status === 200);
  sim.t.sim.control.setPaging({ pageSize: 1000 });
  const whole = await names(list());
  assert.deepEqual(paged, whole, `${operation}: the pages add up to the whole list`);
  assert.ok(whole.length >= 2, `${operation}: the estate lists more than one item`);
  assert.equal(requests.length, whole.length, `${operation}: one request per page of one`);
  return whole;
}

describe('lists follow nextLink at page size 1 through the SDKs', () => {
  test('Cognitive Services accounts by subscription and resource group, and deployments', async () => {
    const { cognitive } = sim.t.clientsAs('owner');
    const all = await pagedAndWhole('Microsoft.CognitiveServices/accounts/read', () => cognitive.accounts.list());
    assert.deepEqual(all.sort(), ['claims-foundry', 'claims-multi', 'claims-openai', 'other-openai']);
    const inRg = await pagedAndWhole('Microsoft.CognitiveServices/accounts/read', () =>
      cognitive.accounts.listByResourceGroup(RG),
    );
    assert.deepEqual(inRg.sort(), ['claims-foundry', 'claims-multi', 'claims-openai']);
    const deployments = await pagedAndWhole('Microsoft.CognitiveServices/accounts/deployments/read', () =>
      cognitive.deployments.list(RG, 'claims-openai'),
    );
    assert.deepEqual(deployments, ['gpt-4o-mini', 'gpt-4o', 'embeddings']);
  });

  test('sites by subscription and resource group, and slots', async () => {
    const { web } = sim.t.clientsAs('owner');
    assert.deepEqual((await pagedAndWhole('Microsoft.Web/sites/read', () => web.webApps.list())).sort(), [
      'lists-bot',
      'lists-func',
      'lists-win',
    ]);
    assert.deepEqual(
      (await pagedAndWhole('Microsoft.Web/sites/read', () => web.webApps.listByResourceGroup(RG))).sort(),
      ['lists-bot', 'lists-func'],
    );
    const slots = await pagedAndWhole('Microsoft.Web/sites/slots/read', () => web.webApps.listSlots(RG, 'lists-bot'));
    assert.deepEqual(slots, ['lists-bot/staging', 'lists-bot/canary', 'lists-bot/qa']);
  });

  test('role assignments at every scope and role definitions (with $filter kept across pages)', async () => {
    const { authorization } = sim.t.clientsAs('owner');
    const op = 'Microsoft.Authorization/roleAssignments/read';
    await pagedAndWhole(op, () => authorization.roleAssignments.listForSubscription());
    await pagedAndWhole(op, () => authorization.roleAssignments.listForResourceGroup(RG));
    await pagedAndWhole(op, () =>
      authorization.roleAssignments.listForResource(RG, 'Microsoft.Web', 'sites', 'lists-bot'),
    );
    await pagedAndWhole(op, () => authorization.roleAssignments.listForScope(`subscriptions/${sim.sub}`));
    const definitions = await pagedAndWhole('Microsoft.Authorization/roleDefinitions/read', () =>
      authorization.roleDefinitions.list(`subscriptions/${sim.sub}`),
    );
    assert.ok(definitions.includes('5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'));
    const filtered = await names(
      authorization.roleDefinitions.list(`subscriptions/${sim.sub}`, { filter: "roleName eq 'Reader'" }),
    );
    assert.deepEqual(filtered, ['acdd72a7-3385-48ef-bd42-f606fba81ae7']);
    sim.t.sim.control.setPaging({ pageSize: 1 });
    try {
      const owner = sim.t.sim.control.state().roleAssignments;
      const ownerId = Object.values(owner).find((ra) => ra.roleDefinitionId.startsWith('8e3af657'))!.principalId;
      const mine = await names(
        authorization.roleAssignments.listForSubscription({ filter: `assignedTo('${ownerId}')` }),
      );
      assert.equal(mine.length, 1, 'the filter applies on every page');
    } finally {
      sim.t.sim.control.setPaging({ pageSize: 1000 });
    }
  });
});

describe('nextLink and the paging knob', () => {
  test('nextLink is absolute on the simulator host, keeps the query, and a forged skip token is a 400', async () => {
    sim.t.sim.control.setPaging({ pageSize: 2 });
    try {
      const { cognitive } = sim.t.clientsAs('owner');
      const url = `${sim.t.sim.info.armEndpoint}/subscriptions/${sim.sub}/providers/Microsoft.CognitiveServices/accounts?api-version=2025-09-01`;
      const first = await cognitive.sendRequest(createPipelineRequest({ url }));
      const body = JSON.parse(first.bodyAsText!) as { value: unknown[]; nextLink?: string };
      assert.equal(body.value.length, 2);
      const next = new URL(body.nextLink!);
      assert.equal(next.origin, new URL(sim.t.sim.info.armEndpoint).origin);
      assert.equal(next.searchParams.get('api-version'), '2025-09-01');
      assert.ok(next.searchParams.get('$skiptoken'));
      const second = JSON.parse(
        (await cognitive.sendRequest(createPipelineRequest({ url: body.nextLink! }))).bodyAsText!,
      ) as { value: unknown[]; nextLink?: string };
      assert.equal(second.value.length, 2);
      assert.equal(second.nextLink, undefined, 'the last page has no nextLink');
      const forged = await cognitive.sendRequest(createPipelineRequest({ url: `${url}&$skiptoken=bm90LWEtdG9rZW4` }));
      assert.equal(forged.status, 400);
      assert.equal((JSON.parse(forged.bodyAsText!) as { error: { code: string } }).error.code, 'InvalidSkipToken');
    } finally {
      sim.t.sim.control.setPaging({ pageSize: 1000 });
    }
  });

  test('the control API sets and reads the page size; a scenario can set it too', async () => {
    const control = `${sim.t.sim.info.controlUrl}/paging`;
    const put = await httpsJson(control, sim.t.sim.info.caCert, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pageSize: 3 }),
    });
    assert.deepEqual(put.body, { pageSize: 3 });
    assert.deepEqual((await httpsJson(control, sim.t.sim.info.caCert)).body, { pageSize: 3 });
    assert.equal(sim.t.sim.control.state().paging.pageSize, 3);
    const bad = await httpsJson(control, sim.t.sim.info.caCert, {
      method: 'PUT',
      body: JSON.stringify({ pageSize: 0 }),
    });
    assert.equal(bad.status, 400);
    sim.t.sim.control.setPaging({ pageSize: 1000 });

    const other = await startTestSimulator({
      scenario: {
        paging: { pageSize: 1 },
        tenants: [{ name: 'contoso' }],
        principals: [{ name: 'owner' }],
        subscriptions: [
          {
            resourceGroups: [
              { name: 'rg', accounts: [{ name: 'a1' }, { name: 'a2' }, { name: 'a3', kind: 'AIServices' }] },
            ],
          },
        ],
        roleAssignments: [{ principal: 'owner', role: 'Owner', scope: { subscription: true } }],
      },
    });
    try {
      assert.equal(other.sim.control.state().paging.pageSize, 1);
      const listed = await names(other.clientsAs('owner').cognitive.accounts.listByResourceGroup('rg'));
      assert.deepEqual(listed, ['a1', 'a2', 'a3']);
      const pages = other.sim.control
        .requests()
        .filter((r) => r.operation === 'Microsoft.CognitiveServices/accounts/read');
      assert.equal(pages.length, 3);
    } finally {
      await other.close();
    }
  });
});
