/**
 * Approvals and operator decisions: updates the validators refuse (no gate open, the wrong gate, no approver,
 * self-approval under four eyes, a duplicate approval, a skip without a reason) fail for the caller and leave no
 * trace in the workflow history; the accepted ones are recorded, and the migration ends in the exact before-state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import {
  approveUpdate,
  rejectUpdate,
  retryCompensationUpdate,
  skipCompensationUpdate,
} from '../../workflows/migration/messages';
import type { Estate } from '../support/estate';
import { footprint, hostilePlan, reportSummary, startHostileEstate, waitForProgress } from './support';

const EventType = temporal.api.enums.v1.EventType;

describe('approvals', () => {
  let estate: Estate;
  let refusedCount = 0;
  let acceptedCount = 0;
  let traces = 0;

  before(async () => {
    estate = await startHostileEstate('approvals', ['gate-bot']);
  });
  after(async () => {
    const line = `${refusedCount} refused updates left no trace in history, ${acceptedCount} accepted recorded, ${traces} stray traces`;
    reportSummary('approvals', line, {
      file: 'test/reliability/approvals.test.ts',
      scenario: 'gate and rollback decisions',
      badInputs: refusedCount,
      lost: traces ? [`${traces} refused updates recorded in history`] : [],
    });
    await estate.close();
  });

  test('refused approvals and skips leave no trace; accepted ones are recorded', async () => {
    // The role does not propagate until an approval has been tried, so the gate is surely closed at that moment.
    estate.sim.control.setDelays({ propagationMs: 24 * 3600_000 });
    // gate-bot's smoke test fails (old code), and deleting the role assignment is denied: the rollback blocks.
    estate.sim.control.addFault({
      operation: 'Microsoft.Authorization/roleAssignments/delete',
      status: 403,
      count: 50,
    });
    const plan = hostilePlan('gate-bot', 'gate-openai', {
      approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false, fourEyes: true },
      // gate-bot cannot pass its smoke test at all, so the short downtime budget only makes the rollback come soon.
      budgets: { propagationWait: '10m', downtime: '3s', approvalTimeout: '15m', localAuthSwitch: '10m' },
    });
    const beforeState = footprint(estate.sim, ['gate-bot'], 'gate-openai');

    const result = await estate.temporal.withWorker(estate.activities(), async () => {
      const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
        taskQueue: estate.temporal.taskQueue,
        workflowId: `${migrationWorkflowId(plan)}/approvals/${Date.now()}`,
        args: [{ plan, initiatedBy: 'alice' }],
      });
      const refused = async (what: string, send: () => Promise<unknown>, message: RegExp) => {
        const err = await send().then(
          () => assert.fail(`${what} was accepted`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof WorkflowUpdateFailedError, `${what}: ${String(err)}`);
        assert.match(err.cause?.message ?? '', message, what);
        refusedCount++;
      };

      await refused(
        'an approval before any gate is open',
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }),
        /no approval gate is open/,
      );
      estate.sim.control.setDelays({ propagationMs: 0 });
      await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings');
      await refused(
        'an approval for the gate that is not open',
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', gate: 'local-auth' }] }),
        /gate "local-auth" is not open; the open gate is "settings"/,
      );
      await refused(
        'a self-approval under four eyes',
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: ' Alice ' }] }),
        /four-eyes rule: .*Alice.* started this migration/,
      );
      await refused(
        'a rejection without an approver',
        () => handle.executeUpdate(rejectUpdate, { args: [{ approver: '  ' }] }),
        /approver is required/,
      );
      const approval = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', comment: 'CAB ok' }] });
      assert.equal(approval.by, 'bob');
      acceptedCount++;
      await refused(
        'a duplicate approval',
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol' }] }),
        /no approval gate is open/,
      );

      const blocked = await waitForProgress(handle, (p) => p.blocked !== undefined);
      assert.match(blocked.blocked?.compensation ?? '', /delete the .* assignment/);
      await refused(
        'a skip without a reason',
        () => handle.executeUpdate(skipCompensationUpdate, { args: [{ by: 'oncall' }] }),
        /a reason is required to skip/,
      );
      await refused(
        'a skip with a blank reason',
        () => handle.executeUpdate(skipCompensationUpdate, { args: [{ by: 'oncall', reason: '   ' }] }),
        /a reason is required to skip/,
      );
      estate.sim.control.clearFaults();
      await handle.executeUpdate(retryCompensationUpdate, { args: [{ by: 'oncall' }] });
      acceptedCount++;
      const r = await handle.result();

      const history = await handle.fetchHistory();
      const updates = (type: temporal.api.enums.v1.EventType) =>
        (history.events ?? []).filter((e) => e.eventType === type).map((e) => e.eventId?.toString());
      const accepted = (history.events ?? [])
        .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name);
      traces = Math.max(0, accepted.length - acceptedCount);
      assert.deepEqual(accepted, ['approve', 'retryCompensation'], 'only the accepted updates are in history');
      assert.equal(updates(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).length, 2);
      assert.equal(updates(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED).length, 0);
      assert.equal(updates(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED).length, 0);
      return r;
    });

    assert.equal(result.outcome, 'rolled-back', result.reason);
    assert.deepEqual(
      result.evidence.approvals.map((a) => [a.gate, a.decision, a.by]),
      [['settings', 'approved', 'bob']],
      'only the accepted approval is in the evidence',
    );
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
    assert.deepEqual(footprint(estate.sim, ['gate-bot'], 'gate-openai'), beforeState);
  });
});
