/**
 * Azure Functions end to end (issue 11, kind 1): the real workflow on the dev server, real activities over the real
 * Azure SDK clients, the simulator playing Azure with function apps on Consumption (Y1), Flex Consumption (FC1) and
 * Elastic Premium (EP1) plans (test/fixtures/scenarios/functions.yaml). Each final state is compared field by field
 * with the expected after-state (success) or the before-state (rollback); host keys must come through untouched.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MigrationPlan } from '../../plan/schema';
import { type LoadReport, startLoad } from '../../simulator';
import { appHealth, type Estate, estatePlan, footprint, runMigration, startEstate, SUB } from '../support/estate';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'functions.yaml');
const RG = 'rg-functions';
/** Cognitive Services OpenAI User, the plan's default role. */
const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

function plan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-FUNC-${app}`,
    target: { kind: 'function-app', resourceGroup: RG, name: app },
    ...overrides,
  });
}

type Footprint = ReturnType<typeof footprint>;
type SlotPrint = Footprint['sites'][number]['slots'][number];

/** The slot `name/slot` of a footprint. */
function slotOf(fp: Footprint, name: string, slot = 'production'): SlotPrint {
  const found = fp.sites.find((s) => s.name === name)?.slots.find((s) => s.name === slot);
  assert.ok(found, `${name}/${slot} in the footprint`);
  return found;
}

/** `settings` without the key setting and with the identity mode: what the default plan leaves. */
function migratedSettings(settings: Record<string, string>): Record<string, string> {
  const { AZURE_OPENAI_API_KEY: _key, ...rest } = settings;
  return { ...rest, AZURE_OPENAI_AUTH_MODE: 'identity' };
}

/**
 * The after-state a successful system-assigned migration of `slots` of `app` must leave, built from the
 * before-state: those slots lose the key and gain a system identity (the principal ids Azure chose, read from
 * `actual`), each such principal one role assignment on the account, key auth off; everything else as it was.
 */
function expectedAfter(
  beforeState: Footprint,
  actual: Footprint,
  app: string,
  slots: readonly string[],
  accountId: string,
): Footprint {
  const expected = structuredClone(beforeState);
  const newPrincipals: string[] = [];
  for (const slotName of slots) {
    const slot = slotOf(expected, app, slotName);
    const principal = slotOf(actual, app, slotName).systemPrincipalId;
    assert.ok(principal, `${app}/${slotName} has a system-assigned identity`);
    assert.equal(slot.systemPrincipalId, null, `${app}/${slotName} had none before`);
    slot.systemPrincipalId = principal;
    slot.settings = migratedSettings(slot.settings);
    newPrincipals.push(principal);
  }
  const assignments = actual.roleAssignments.filter((ra) => !beforeState.roleAssignments.includes(ra));
  assert.equal(assignments.length, newPrincipals.length, 'one new role assignment per new identity');
  for (const ra of assignments) {
    const [, principalId, roleDefinitionId, scope] = ra.split('|');
    assert.ok(newPrincipals.includes(principalId), `${ra} is for a new identity`);
    assert.match(roleDefinitionId, new RegExp(`${OPENAI_USER}$`));
    assert.equal(scope, accountId.toLowerCase());
  }
  return {
    ...expected,
    disableLocalAuth: true,
    roleAssignments: [...expected.roleAssignments, ...assignments].sort(),
    principals: [...expected.principals, ...newPrincipals].sort(),
  };
}

const accountId = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/${name}`;

describe('Azure Functions migrations against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('functions', SCENARIO);
  });
  after(async () => {
    await estate.close();
  });

  const run = (name: string, p: MigrationPlan) => runMigration(estate, name, p);

  test('in place on Consumption (Y1): the function app calls with its identity, host keys untouched', async () => {
    const beforeState = footprint(estate, 'consumption-openai');
    const keysBefore = await estate.azure.web.webApps.listHostKeys(RG, 'claims-func');
    const result = await run('functions-in-place', plan('claims-func', 'consumption-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'consumption-openai');
    assert.deepEqual(
      actual,
      expectedAfter(beforeState, actual, 'claims-func', ['production'], accountId('consumption-openai')),
    );
    assert.deepEqual(await estate.azure.web.webApps.listHostKeys(RG, 'claims-func'), keysBefore);
    assert.equal((await appHealth(estate, RG, 'claims-func')).body.authMode, 'identity');
    assert.ok(
      result.evidence.warnings.some((w) => /^plan consumption-plan \(Y1, Consumption\) starts cold/.test(w)),
      `the cold start is a preflight warning: ${JSON.stringify(result.evidence.warnings)}`,
    );
  });

  test('a failing smoke test on Consumption rolls the function app back to the exact before-state', async () => {
    const beforeState = footprint(estate, 'rollback-openai');
    const keysBefore = await estate.azure.web.webApps.listHostKeys(RG, 'rollback-func');
    const result = await run(
      'functions-rollback',
      plan('rollback-func', 'rollback-openai', {
        budgets: {
          propagationWait: '10m',
          downtime: '3s',
          approvalTimeout: '15m',
          localAuthSwitch: '10m',
        },
      }),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /smoke test of rollback-func did not pass/);
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    assert.deepEqual(footprint(estate, 'rollback-openai'), beforeState);
    assert.deepEqual(await estate.azure.web.webApps.listHostKeys(RG, 'rollback-func'), keysBefore);
    assert.equal((await appHealth(estate, RG, 'rollback-func')).body.authMode, 'key', 'it works with its key again');
  });

  test('slot swap on Elastic Premium (EP1): staging migrated, swapped in, the standby too', async () => {
    const beforeState = footprint(estate, 'premium-openai');
    const keys = {
      production: await estate.azure.web.webApps.listHostKeys(RG, 'premium-func'),
      staging: await estate.azure.web.webApps.listHostKeysSlot(RG, 'premium-func', 'staging'),
    };
    const result = await run(
      'functions-slot-swap',
      plan('premium-func', 'premium-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } }),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'premium-openai');
    assert.deepEqual(
      actual,
      expectedAfter(beforeState, actual, 'premium-func', ['production', 'staging'], accountId('premium-openai')),
    );
    // Host keys belong to their slot, like identities: a swap moves neither.
    assert.deepEqual(await estate.azure.web.webApps.listHostKeys(RG, 'premium-func'), keys.production);
    assert.deepEqual(await estate.azure.web.webApps.listHostKeysSlot(RG, 'premium-func', 'staging'), keys.staging);
    assert.equal((await appHealth(estate, RG, 'premium-func')).body.authMode, 'identity');
    assert.equal((await appHealth(estate, RG, 'premium-func', 'staging')).body.authMode, 'identity');
  });

  test('a slot swap on Elastic Premium under load: production fails no request', async () => {
    const load = startLoad({
      url: `${estate.sim.control.siteUrl(RG, 'premium-load-func')}/health`,
      intervalMs: 50,
      ca: estate.sim.info.caCert,
    });
    let report: LoadReport | undefined;
    try {
      const result = await run(
        'functions-slot-swap-load',
        plan('premium-load-func', 'load-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } }),
      );
      assert.equal(result.outcome, 'succeeded', result.reason);
    } finally {
      report = await load.stop();
    }
    assert.ok(report.total > 20, `the load ran throughout (${report.total} requests)`);
    assert.equal(report.failed, 0, JSON.stringify(report.failures.slice(0, 5)));
  });

  test('brownfield on Flex Consumption (FC1): host keys and an unrelated setting added beforehand survive', async () => {
    const web = estate.azure.web.webApps;
    const settings = (await web.listApplicationSettings(RG, 'flex-func')).properties ?? {};
    await web.updateApplicationSettings(RG, 'flex-func', {
      properties: { ...settings, INVOICE_QUEUE: 'invoices-prod' },
    });
    const keysBefore = await web.listHostKeys(RG, 'flex-func');
    const beforeState = footprint(estate, 'flex-openai');
    assert.equal(slotOf(beforeState, 'flex-func').settings.INVOICE_QUEUE, 'invoices-prod');

    const result = await run('functions-brownfield', plan('flex-func', 'flex-openai'));
    assert.equal(result.outcome, 'succeeded', result.reason);
    const actual = footprint(estate, 'flex-openai');
    assert.deepEqual(actual, expectedAfter(beforeState, actual, 'flex-func', ['production'], accountId('flex-openai')));
    assert.equal(slotOf(actual, 'flex-func').settings.INVOICE_QUEUE, 'invoices-prod');
    assert.deepEqual(await web.listHostKeys(RG, 'flex-func'), keysBefore);
    assert.equal((await appHealth(estate, RG, 'flex-func')).body.authMode, 'identity');
  });
});
