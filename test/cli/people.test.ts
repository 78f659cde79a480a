/**
 * Who acts, through the real CLI: every command that records a person (start, approve, reject, abort, retry, skip)
 * needs `--as NAME` or the configured `CUTOVER_USER` — never the operating-system account — and `approve --gate`
 * names the gate meant, which the workflow refuses unless it is the open one. Runs on inplace-bot (its own workflow
 * id), so it never meets the migrations of test/cli/migrations.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StartResult } from '../../cli/commands/start';
import { progressQuery } from '../../workflows/migration/messages';
import type { ApprovalRecord, MigrationProgress, MigrationResult } from '../../contracts/model';
import { assertUserError, type Cli, cliFor } from '../support/cli';
import { type Estate, estatePlanFields, RG, startEstate, SUB } from '../support/estate';
import { waitForProgress } from '../support/progress';

// inplace-bot: the only caller of its account, so its key switch (and gate) happens; no other CLI test migrates it.
const WORKFLOW_ID = `cutover/app-service/${SUB}/${RG}/inplace-bot`;
const NO_NAME = /^error: who .+ is not known: pass --as NAME, or set CUTOVER_USER$/;

describe('cutover commands that record a person', () => {
  let estate: Estate;
  /** A user with no CUTOVER_USER. */
  let anonymous: Cli;
  /** A user whose CUTOVER_USER is carol. */
  let carol: Cli;
  before(async () => {
    estate = await startEstate('cli-people');
    anonymous = cliFor(estate, 'people-anonymous');
    carol = cliFor(estate, 'people-carol', { CUTOVER_USER: 'carol' });
  });
  after(async () => {
    await estate.temporal.client.workflow
      .getHandle(WORKFLOW_ID)
      .terminate('test cleanup')
      .catch(() => undefined);
    await estate.close();
  });

  test('no --as and no CUTOVER_USER is refused; CUTOVER_USER names the person; --gate must be the open gate', async () => {
    const file = anonymous.writePlan('people', {
      ...estatePlanFields('inplace-bot', 'inplace-openai'),
      approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: true },
    });
    const handle = estate.temporal.client.workflow.getHandle(WORKFLOW_ID);
    await estate.temporal.withWorker(estate.activities(), async () => {
      assertUserError(await anonymous.run('start', file), NO_NAME);
      await assert.rejects(handle.describe(), 'nothing was started without a name');

      const started = await carol.json<StartResult>('start', file);
      assert.equal(started.workflowId, WORKFLOW_ID);
      await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings', 'the settings gate');
      assert.equal((await handle.query(progressQuery)).initiatedBy, 'carol', 'CUTOVER_USER started it');

      for (const args of [
        ['approve', WORKFLOW_ID],
        ['reject', WORKFLOW_ID, '--comment', 'no'],
        ['abort', WORKFLOW_ID, '--reason', 'no'],
        ['retry', WORKFLOW_ID],
        ['skip', WORKFLOW_ID, '--reason', 'no'],
      ])
        assertUserError(await anonymous.run(...args), NO_NAME);
      // CUTOVER_USER approves as carol, who started it: the four-eyes rule, not an anonymous approval.
      assertUserError(await carol.run('approve', WORKFLOW_ID), /^error: refused: four-eyes rule: carol started/);

      const wrongGate = await anonymous.run('approve', WORKFLOW_ID, '--as', 'bob', '--gate', 'local-auth');
      const error = assertUserError(wrongGate, /refused/);
      assert.equal(error, 'error: refused: gate "local-auth" is not open; the open gate is "settings"');
      assert.match(wrongGate.stderr, /^hint: nothing was recorded; see which gate is open with `cutover status /m);
      assert.deepEqual((await handle.query(progressQuery)).approvals, [], 'the refused decision left no trace');

      const approved = await anonymous.json<ApprovalRecord>(
        'approve',
        WORKFLOW_ID,
        '--as',
        'bob',
        '--gate',
        'settings',
        '--comment',
        'CAB ok',
      );
      assert.deepEqual([approved.gate, approved.decision, approved.by], ['settings', 'approved', 'bob']);
      await waitForProgress(handle, (p) => p.pendingGate?.gate === 'local-auth', 'the local-auth gate');

      const aborted = await carol.json<MigrationProgress>('abort', WORKFLOW_ID, '--reason', 'freeze');
      assert.equal(aborted.workflowId, WORKFLOW_ID);
      const result = (await handle.result()) as MigrationResult;
      assert.equal(result.outcome, 'rolled-back');
      assert.equal(result.reason, 'aborted by carol: freeze');
    });
  });

  test('an unknown --gate is a usage error', async () => {
    const result = await anonymous.run('approve', WORKFLOW_ID, '--as', 'bob', '--gate', 'everything');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Allowed choices are settings, local-auth/);
  });
});
