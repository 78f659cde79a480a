/**
 * A change manager approves a migration in the Temporal Web UI, in headless Debian Chromium: the workflow page
 * shows the summary and the stage table while the settings gate waits, the `approve` update is listed with its
 * description, and sending it from the UI's Send an Update dialog moves the migration on to success, with the
 * approver and comment in the evidence. Screenshots of the page go to the run's work dir.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { MESSAGE_DESCRIPTIONS, progressQuery } from '../../workflows/migration/messages';
import type { Evidence } from '../../contracts/model';
import { chromiumOrSkip } from '../support/browser';
import { waitForProgress } from '../support/progress';
import { testEnv } from '../support/env';
import { estatePlan, startEstate } from '../support/estate';
import { WorkflowPage, withPage } from './workflow-page';

describe('Temporal Web UI', () => {
  test('a change manager approves the settings gate in the Web UI', { timeout: 900_000 }, async (t) => {
    const skip = chromiumOrSkip();
    if (skip) {
      console.log(`browser test skipped: ${skip}`);
      t.skip(skip);
      return;
    }
    const started = Date.now();
    const shots = path.join(testEnv('workDir'), 'ui');
    mkdirSync(shots, { recursive: true });
    const plan = estatePlan('claims-bot', 'claims-openai', {
      approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false },
      localAuth: { disable: false },
    });
    const summary = `${plan.changeTicket}: ${plan.target.name} → managed identity on ${plan.account.name}`;
    const approval = { approver: 'bob', comment: 'approved in the UI' };

    const estate = await startEstate('ui');
    try {
      await estate.temporal.withWorker(estate.activities(), async () => {
        const workflowId = `${migrationWorkflowId(plan)}/ui-${Date.now()}`;
        const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
          taskQueue: estate.temporal.taskQueue,
          workflowId,
          args: [{ plan, initiatedBy: 'alice' }],
          staticSummary: summary,
          staticDetails: `Plan: ui test · identity ${plan.identity.type} · strategy ${plan.strategy.type} · started by alice`,
        });
        await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings', 'the settings gate');

        await withPage(path.join(shots, 'approve-failure.png'), async (page) => {
          const ui = new WorkflowPage(page, testEnv('temporalUiUrl'), workflowId);
          await ui.open();
          await ui.waitForMetadata((p) => p.summary().getByText(summary, { exact: true }), 'the summary');
          await ui.waitForMetadata(
            (p) => p.currentDetails().getByRole('row', { name: /^Approval: swap settings \S+ waiting / }),
            'the settings gate waiting in the stage table',
          );
          await ui.currentDetails().getByText('Waiting for approval:').waitFor();
          await ui.waitForMetadata((p) => p.status('Running'), 'the Running status');
          const atGate = path.join(shots, 'approve-at-gate.png');
          await page.screenshot({ path: atGate, fullPage: true });
          console.log(`screenshot (gate open): ${atGate}`);

          // Approving the wrong gate is refused in the dialog, with the validator's reason, and changes nothing.
          const wrongGate = await ui.sendUpdate('approve', MESSAGE_DESCRIPTIONS.approve, {
            ...approval,
            gate: 'local-auth',
          });
          assert.deepEqual(wrongGate, {
            accepted: false,
            message: 'gate "local-auth" is not open; the open gate is "settings"',
          });
          assert.equal((await handle.query(progressQuery)).pendingGate?.gate, 'settings', 'the gate is still open');

          assert.deepEqual(await ui.sendUpdate('approve', MESSAGE_DESCRIPTIONS.approve, approval), {
            accepted: true,
          });

          const result = await handle.result();
          assert.equal(result.outcome, 'succeeded', result.reason);
          const expected = [{ gate: 'settings', decision: 'approved', by: 'bob', comment: 'approved in the UI' }];
          const approvals = (e: Evidence) =>
            e.approvals.map(({ gate, decision, by, comment }) => ({ gate, decision, by, comment }));
          assert.deepEqual(approvals(result.evidence), expected);
          assert.ok(result.evidencePath, 'evidence file written');
          assert.deepEqual(approvals(JSON.parse(readFileSync(result.evidencePath, 'utf8')) as Evidence), expected);

          // What the change manager sees afterwards: the run completed, the gate approved by bob.
          await ui.waitForMetadata(
            (p) =>
              p.currentDetails().getByRole('row', {
                name: /^Approval: swap settings \S+ done .* approved by bob: approved in the UI$/,
              }),
            'the approval in the stage table',
          );
          await ui.currentDetails().getByText('succeeded', { exact: true }).waitFor();
          await ui.waitForMetadata((p) => p.status('Completed'), 'the Completed status');
          const done = path.join(shots, 'approve-done.png');
          await page.screenshot({ path: done, fullPage: true });
          console.log(`screenshot (approved, completed): ${done}`);
        });
      });
    } finally {
      await estate.close();
    }
    console.log(`Web UI approval test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
