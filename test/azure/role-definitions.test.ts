/**
 * Built-in role definitions are read once per worker process and subscription: every migration of a fleet checks
 * the same few roles. What is not a built-in role (here: no role of that name at all) is asked again every time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { roleDefinitionById, roleDefinitionsNamed } from '../../azure/role-definitions';
import { simulatorForFile } from '../simulator/support';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

describe('role definitions, read once', () => {
  const s = simulatorForFile();

  /** Role-definition reads the simulator answered while `f` ran. */
  async function reads(f: () => Promise<unknown>): Promise<number> {
    const from = s.t.sim.control.requests().length;
    await f();
    return s.t.sim.control
      .requests()
      .slice(from)
      .filter((r) => r.surface === 'arm' && /\/roleDefinitions/i.test(r.path)).length;
  }

  test('a built-in role by id and by name: the first read goes to Azure, the next ones do not', async () => {
    const { authorization } = s.t.clientsAs('owner');
    const id = `/subscriptions/${s.sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`;
    const scope = `/subscriptions/${s.sub}/resourceGroups/rg-claims`;
    let byId: unknown;
    assert.equal(await reads(async () => (byId = await roleDefinitionById(authorization, id))), 1);
    assert.equal(await reads(() => roleDefinitionById(authorization, id.toUpperCase())), 0);
    assert.deepEqual(await roleDefinitionById(authorization, id), byId);
    let named: { roleName?: string }[] = [];
    assert.equal(await reads(async () => (named = await roleDefinitionsNamed(authorization, scope, 'Reader'))), 1);
    assert.deepEqual(
      named.map((d) => d.roleName),
      ['Reader'],
    );
    assert.equal(await reads(() => roleDefinitionsNamed(authorization, scope, 'reader')), 0);
  });

  test('migrations asking at the same moment share one read', async () => {
    const { authorization } = s.t.clientsAs('owner');
    const scope = `/subscriptions/${s.sub}/resourceGroups/rg-claims`;
    assert.equal(
      await reads(() =>
        Promise.all(Array.from({ length: 5 }, () => roleDefinitionsNamed(authorization, scope, 'Contributor'))),
      ),
      1,
    );
  });

  test('a name no role has is asked again each time', async () => {
    const { authorization } = s.t.clientsAs('owner');
    const scope = `/subscriptions/${s.sub}`;
    for (let i = 0; i < 2; i++)
      assert.equal(await reads(() => roleDefinitionsNamed(authorization, scope, 'No Such Role')), 1);
  });
});
