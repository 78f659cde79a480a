/**
 * Azure Container Apps end to end (issue 11, kind 2): the real workflow on the dev server, real activities over the
 * real @azure/arm-appcontainers client, the simulator playing Azure (test/fixtures/scenarios/container-apps.yaml).
 * In place, in single-revision mode: the env change makes a new revision, which replaces the old one. Each final
 * state is compared field by field with the expected after-state (success) or the before-state (rollback): the
 * identity, the secrets (the key's secret removed after the key switch), the live revision's env, traffic, tags, role assignments, principals
 * and the account's key auth; the revision history is asserted on its own (every write makes a revision).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MigrationPlan } from '../../plan/schema';
import { keyHoldersOf } from '../support/key-holders';
import {
  appOf,
  assertNoFailedRequest,
  expectedAfter,
  footprint,
  health,
  RG,
  revisions,
} from '../support/container-apps';
import { type Estate, estatePlan, runMigration, startEstate, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'container-apps.yaml');

function plan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-ACA-${app}`,
    target: { kind: 'container-app', resourceGroup: RG, name: app },
    ...overrides,
  });
}

const keyHolders = (estate: Estate, account: string) => keyHoldersOf(estate, RG, account);

describe('Azure Container Apps migrations against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('container-apps', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  const run = (name: string, p: MigrationPlan) => runMigration(estate, name, p);

  test('in place (single-revision mode): a new revision runs on the identity, the old one is deactivated', async () => {
    const beforeState = footprint(estate, 'aca-openai');
    const result = await run('container-app-in-place', plan('claims-aca', 'aca-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'aca-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'claims-aca', 'aca-openai'));
    const history = await revisions(estate, 'claims-aca');
    assert.equal(history.length, 2, JSON.stringify(history));
    assert.deepEqual(history[0], { name: 'claims-aca--v1', active: false });
    assert.equal(history[1].active, true);
    assert.equal((await health(estate, 'claims-aca')).authMode, 'identity');
  });

  test('a failing smoke test rolls the container app back to the exact before-state', async () => {
    const beforeState = footprint(estate, 'rollback-aca-openai');
    const result = await run(
      'container-app-rollback',
      plan('rollback-aca', 'rollback-aca-openai', {
        budgets: { propagationWait: '10m', downtime: '3s', approvalTimeout: '15m', localAuthSwitch: '10m' },
      }),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /smoke test of rollback-aca did not pass/);
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    assert.deepEqual(footprint(estate, 'rollback-aca-openai'), beforeState);
    // The migrated revision and the restored one: only the restored one runs.
    const history = await revisions(estate, 'rollback-aca');
    assert.equal(history.length, 3, JSON.stringify(history));
    assert.deepEqual(
      history.map((r) => r.active),
      [false, false, true],
    );
    assert.equal((await health(estate, 'rollback-aca')).authMode, 'key', 'it works with its key again');
  });

  test('the key-holder check finds container apps holding a key in a secret, by value or through Key Vault', async () => {
    const appId = (name: string) =>
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.App/containerApps/${name}`;
    const byValue = await keyHolders(estate, 'canary-openai');
    assert.equal(byValue.verdict, 'holders');
    assert.deepEqual(byValue.holders, [
      { resourceId: appId('canary-aca'), kind: 'container-app', settingNames: ['AZURE_OPENAI_API_KEY'] },
    ]);
    const throughVault = await keyHolders(estate, 'kv-aca-openai');
    assert.deepEqual(throughVault.holders, [
      {
        resourceId: appId('kv-aca'),
        kind: 'container-app',
        settingNames: ['AZURE_OPENAI_API_KEY'],
        references: [{ setting: 'AZURE_OPENAI_API_KEY', vault: 'kv-aca', secret: 'aca-openai-key' }],
      },
    ]);
  });

  test('brownfield: a user-assigned identity, another secret, env vars and tags of its own survive', async () => {
    const beforeState = footprint(estate, 'brown-aca-openai');
    const brown = appOf(beforeState, 'brown-aca');
    assert.equal(brown.userAssigned.length, 1);
    const result = await run('container-app-brownfield', plan('brown-aca', 'brown-aca-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'brown-aca-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'brown-aca', 'brown-aca-openai'));
    assert.equal((await health(estate, 'brown-aca')).authMode, 'identity');
  });

  test('in place under load: the new revision takes the traffic once it runs, no request fails', async () => {
    await assertNoFailedRequest(estate, 'load-aca', () =>
      run('container-app-in-place-load', plan('load-aca', 'load-aca-openai')),
    );
  });
});
