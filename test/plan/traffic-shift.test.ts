/**
 * The traffic-shift strategy's plan validation: steps increasing, whole percentages, ending at 100, only for
 * traffic-shift, only for container apps; every problem listed at once, by its field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePlan, PlanValidationError } from '../../plan/schema';

function doc(strategy: Record<string, unknown>, kind = 'container-app') {
  return {
    changeTicket: 'CHG-1',
    tenantId: '11111111-1111-4111-8111-111111111111',
    subscriptionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
    target: { kind, resourceGroup: 'rg', name: 'claims-aca' },
    account: { name: 'openai', deployment: 'gpt-4o-mini' },
    identity: { type: 'system-assigned' },
    settings: { remove: ['AZURE_OPENAI_API_KEY'], set: { AZURE_OPENAI_AUTH_MODE: 'identity' } },
    strategy,
  };
}

function problems(document: unknown): { field: string; message: string }[] {
  try {
    parsePlan(document);
  } catch (err) {
    assert.ok(err instanceof PlanValidationError, String(err));
    return err.problems.map((p) => ({ field: p.field, message: p.message }));
  }
  assert.fail('the plan was accepted');
}

describe('traffic-shift plans', () => {
  test('steps default to all traffic at once; given steps are kept', () => {
    assert.deepEqual(parsePlan(doc({ type: 'traffic-shift' })).strategy, { type: 'traffic-shift', steps: [100] });
    assert.deepEqual(parsePlan(doc({ type: 'traffic-shift', steps: [10, 50, 100] })).strategy, {
      type: 'traffic-shift',
      steps: [10, 50, 100],
    });
    assert.deepEqual(parsePlan(doc({ type: 'in-place' })).strategy, { type: 'in-place' });
  });

  test('every bad step is named: not increasing, not a percentage, not ending at 100', () => {
    const found = problems(doc({ type: 'traffic-shift', steps: [50, 20, 0, 12.5, 'x', 90] }));
    const byField = (f: string) => found.filter((p) => p.field === f).map((p) => p.message);
    assert.match(byField('strategy.steps.1').join(), /more than the step before it \(50 %\)/);
    assert.match(byField('strategy.steps.2').join(), /whole percentage from 1 to 100/);
    assert.match(byField('strategy.steps.3').join(), /whole percentage/);
    assert.match(byField('strategy.steps.4').join(), /whole percentage/);
    assert.match(byField('strategy.steps.5').join(), /must be 100/);
    assert.equal(found.length, 5, JSON.stringify(found));
  });

  test('no steps at all, steps of another strategy, traffic-shift of a web app: refused', () => {
    assert.deepEqual(problems(doc({ type: 'traffic-shift', steps: [] })), [
      { field: 'strategy.steps', message: 'must list at least one percentage, the last 100' },
    ]);
    assert.deepEqual(problems(doc({ type: 'in-place', steps: [100] })), [
      { field: 'strategy.steps', message: 'only applies to the traffic-shift strategy' },
    ]);
    const web = problems(doc({ type: 'traffic-shift' }, 'app-service'));
    assert.equal(web.length, 1, JSON.stringify(web));
    assert.equal(web[0].field, 'strategy.type');
    assert.match(web[0].message, /not a way to switch an App Service app: use in-place or slot-swap/);
  });

  test('with other problems, all are listed together', () => {
    const found = problems({ ...doc({ type: 'traffic-shift', steps: [60, 40] }), role: 'Owner' });
    assert.deepEqual(found.map((p) => p.field).sort(), ['role', 'strategy.steps.1', 'strategy.steps.1'].sort());
  });
});
