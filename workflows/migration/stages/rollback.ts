/**
 * The rollback: what stopped the run, then every recorded change undone in reverse (outside the cancelled forward
 * scope). A compensation that keeps failing blocks visibly (`CutoverOutcome=rollback-blocked`) until an operator
 * retries or skips it.
 */
import { CancellationScope, isCancellation, upsertSearchAttributes } from '@temporalio/workflow';
import type { Compensation } from '../../../contracts/model';
import { CutoverOutcome } from '../../../contracts/search-attributes';
import { failureMessage, preflightProblemsOf, StageFailure } from '../../kit/failures';
import { compensationCall, undo } from '../activities';
import type { MigrationRun } from '../state';
import type { AccountLock } from './lock';
import { undoTrafficStep } from './traffic';

/** Records why the forward path stopped; rolls back if anything may have changed. */
export async function stopAndRollBack(run: MigrationRun, lock: AccountLock, err: unknown): Promise<void> {
  const { board } = run;
  const failedStage = board.current;
  if (err instanceof StageFailure) run.reason = err.message;
  else if (isCancellation(err))
    run.reason = run.abortRequest
      ? `aborted by ${run.abortRequest.by}: ${run.abortRequest.reason}`
      : 'the workflow was cancelled';
  else run.reason = failureMessage(err);
  run.gates.pending = undefined;
  board.waitingFor = undefined;
  const problems = preflightProblemsOf(err);
  if (problems) run.preflightProblems = problems;
  const st = board.get(failedStage);
  if (st.status === 'running' || st.status === 'waiting') board.end(failedStage, 'failed', run.reason);
  if (!run.before) run.outcome = problems ? 'preflight-failed' : 'failed';
  else {
    run.notices.send('rollback-started', `rolling back: ${run.reason}`, `cutover watch ${run.info.workflowId}`);
    await CancellationScope.nonCancellable(() => rollback(run, lock));
  }
}

async function rollback(run: MigrationRun, lock: AccountLock): Promise<void> {
  const { board, saga } = run;
  run.rollingBack = true;
  board.begin('rollback', `undoing ${saga.size} change(s) in reverse`);
  const skipped = await saga.unwind((step, description) => undoStep(step, description, lock), {
    blocked: (blocked) => {
      board.waitingFor = `an operator: rollback step "${blocked.compensation}" failed (${blocked.error}); send retryCompensation or skipCompensation`;
      board.mark('rollback', 'blocked');
      upsertSearchAttributes([{ key: CutoverOutcome, value: 'rollback-blocked' }]);
      board.refresh();
      run.notices.send(
        'rollback-blocked',
        `rollback step "${blocked.compensation}" failed (${blocked.error}): fix the cause and retry, or skip it`,
        `cutover retry ${run.info.workflowId} --as NAME   (or: cutover skip ${run.info.workflowId} --reason … --as NAME)`,
      );
    },
    resumed: () => {
      board.waitingFor = undefined;
      board.mark('rollback', 'running');
      upsertSearchAttributes([{ key: CutoverOutcome, value: 'running' }]);
    },
    refresh: () => board.refresh(),
  });
  board.end('rollback', 'done', skipped ? `${skipped} step(s) skipped by an operator` : 'every change undone');
  const kept = new Set(['preflight', 'rollback', 'key-holders']);
  for (const s of board.stages)
    if (s.status === 'done' && !kept.has(s.id) && !s.id.startsWith('approve')) s.status = 'rolled-back';
  run.outcome = skipped ? 'rollback-incomplete' : 'rolled-back';
}

async function undoStep(step: Compensation, description: string, lock: AccountLock): Promise<void> {
  const opts = { ...compensationCall, summary: description };
  switch (step.kind) {
    case 'restore-identity':
      await undo.restoreIdentity.executeWithOptions(opts, [{ site: step.site, before: step.before }]);
      return;
    case 'delete-role-assignment':
      await undo.deleteRoleAssignment.executeWithOptions(opts, [step]);
      return;
    case 'restore-settings':
      await undo.restoreSettings.executeWithOptions(opts, [
        { site: step.site, before: step.before, account: step.account },
      ]);
      return;
    case 'swap-back':
      await undo.swapSlots.executeWithOptions(opts, [
        { site: step.site, slot: step.slot, direction: 'back', marker: step.marker },
      ]);
      return;
    case 'enable-local-auth':
      await undo.setLocalAuth.executeWithOptions(opts, [{ account: step.account, disabled: false }]);
      await lock.release();
      return;
    case 'restore-traffic':
    case 'set-revisions-active':
      return undoTrafficStep(step, opts);
    case 'restore-secret':
      await undo.restoreKeySecret.executeWithOptions(opts, [
        { site: step.site, name: step.secret, keyName: step.keyName, account: step.account },
      ]);
      return;
  }
}
