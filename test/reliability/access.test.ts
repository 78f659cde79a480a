/**
 * Access: a worker without the README's roles gets a preflight error naming what it may not do — directly and
 * through the workflow — and nothing changes in Azure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { migrateToManagedIdentity } from '../../workflows';
import { FailureType } from '../../contracts/failures';
import { migrationWorkflowId } from '../../contracts/ids';
import type { PreflightProblem } from '../../contracts/model';
import type { Estate } from '../support/estate';
import {
  activitiesAs,
  armWrites,
  azureState,
  describeRequest,
  hostilePlan,
  reportSummary,
  startHostileEstate,
} from './support';

const CASES = [
  {
    principal: 'powerless-worker',
    what: 'a worker with no role at all',
    expected: [
      { check: 'app', message: /reading app hostile-bot: 403 AuthorizationFailed.*Microsoft\.Web\/sites\/read/ },
      {
        check: 'account',
        message: /account hostile-openai: 403 AuthorizationFailed.*Microsoft\.CognitiveServices\/accounts\/read/,
      },
    ],
  },
  {
    principal: 'no-rbac-admin-worker',
    what: 'a worker without Role Based Access Control Administrator',
    expected: [
      {
        check: 'permissions',
        message:
          /may not Microsoft\.Authorization\/roleAssignments\/write, Microsoft\.Authorization\/roleAssignments\/delete on account hostile-openai/,
      },
    ],
  },
] as const;

describe('a worker lacking the README roles is stopped by preflight', () => {
  let estate: Estate;
  let initial: unknown;
  let refused = 0;
  const changes: string[] = [];

  before(async () => {
    estate = await startHostileEstate('access', ['hostile-bot']);
    initial = azureState(estate.sim);
  });
  after(async () => {
    const line = `${CASES.length} under-privileged workers tried, ${refused} refusals (direct and workflow) naming the missing permission, ${changes.length} changes`;
    reportSummary('access', line, {
      file: 'test/reliability/access.test.ts',
      scenario: 'under-privileged workers',
      badInputs: CASES.length,
      lost: changes,
    });
    await estate.close();
  });

  function assertNothingChanged(what: string) {
    const writes = armWrites(estate.sim).map(describeRequest);
    if (writes.length > 0) changes.push(`${what}: ${writes.join(', ')}`);
    assert.deepEqual(writes, [], `${what}: no ARM write`);
    assert.deepEqual(azureState(estate.sim), initial, `${what}: Azure state unchanged`);
  }

  function assertProblems(problems: readonly PreflightProblem[], expected: (typeof CASES)[number]['expected']) {
    for (const e of expected)
      assert.ok(
        problems.some((p) => p.check === e.check && e.message.test(p.message) && /README/.test(p.hint ?? '')),
        `expected ${e.check}: ${String(e.message)} (with a hint to the README) among ${JSON.stringify(problems)}`,
      );
  }

  for (const c of CASES) {
    test(`${c.what} (${c.principal}) gets a clear preflight error and changes nothing`, async () => {
      const plan = hostilePlan('hostile-bot', 'hostile-openai');
      const activities = activitiesAs(estate, c.principal);
      const err = await activities.preflight({ plan }).then(
        () => assert.fail('preflight passed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, FailureType.PreflightFailed);
      assertProblems((err.details ?? []) as PreflightProblem[], c.expected);
      assertNothingChanged(`${c.principal} preflight`);
      refused++;

      const result = await estate.temporal.withWorker(activities, async () => {
        const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
          taskQueue: estate.temporal.taskQueue,
          workflowId: `${migrationWorkflowId(plan)}/access/${c.principal}/${Date.now()}`,
          args: [{ plan, initiatedBy: 'alice' }],
        });
        return handle.result();
      });
      assert.equal(result.outcome, 'preflight-failed', result.reason);
      assertProblems(result.evidence.preflightProblems ?? [], c.expected);
      assert.deepEqual(result.evidence.resourcesTouched, []);
      assertNothingChanged(`${c.principal} workflow`);
      refused++;
    });
  }

  test('control: the worker with the README roles passes the same preflight', async () => {
    await estate.activities().preflight({ plan: hostilePlan('hostile-bot', 'hostile-openai') });
    assertNothingChanged('cutover-worker preflight');
  });
});
