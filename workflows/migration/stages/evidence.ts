/** The last stage, whatever happened: release the lock, write the evidence record, publish the outcome. */
import { allHandlersFinished, CancellationScope, condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { Evidence, MigrationResult } from '../../../contracts/model';
import { CutoverOutcome, CutoverStage } from '../../../contracts/search-attributes';
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';
import type { AccountLock } from './lock';

export function finish(run: MigrationRun, lock: AccountLock): Promise<MigrationResult> {
  return CancellationScope.nonCancellable(async () => {
    const { board } = run;
    await lock.release();
    if (board.get('rollback').status === 'pending') board.skip('rollback', 'not needed');
    board.skipUnreached('evidence');
    board.begin('evidence');
    // The record describes itself as written: it is, by the time anyone reads it.
    board.end('evidence', 'done', 'this record');
    // Notices sent so far are settled first, so the record says whether they were delivered.
    await run.notices.settle();
    const evidence = evidenceOf(run);
    const { path } = await arm.writeEvidence.executeWithOptions({ ...armCall, summary: 'write the evidence record' }, [
      evidence,
    ]);
    board.note('evidence', `written by the worker: ${path.split('/').pop() ?? path}`);
    run.notices.send(
      'finished',
      `the migration ended ${run.outcome}${run.reason ? `: ${run.reason}` : ''}`,
      `cutover evidence ${run.info.workflowId}`,
    );
    await run.notices.settle();
    upsertSearchAttributes([
      { key: CutoverStage, value: 'done' },
      { key: CutoverOutcome, value: run.outcome },
    ]);
    run.refresh();
    await condition(allHandlersFinished);
    const { outcome, reason } = run;
    return { outcome, ...(reason ? { reason } : {}), evidence, evidencePath: path };
  });
}

/** The audit record: names, ids and fingerprints only, never a secret. */
function evidenceOf(run: MigrationRun): Evidence {
  const { plan, before, outcome, reason } = run;
  return {
    schema: 'cutover.evidence/v1',
    workflowId: run.info.workflowId,
    runId: run.info.runId,
    changeTicket: plan.changeTicket,
    ...(plan.description ? { description: plan.description } : {}),
    initiatedBy: run.initiatedBy,
    startedAt: run.startedAt,
    endedAt: new Date().toISOString(),
    outcome,
    ...(reason ? { reason } : {}),
    plan,
    approvals: run.gates.approvals,
    resourcesTouched: [...run.resourcesTouched],
    ...(run.principalIds.length
      ? {
          identity: {
            type: plan.identity.type,
            principalIds: run.principalIds,
            ...(run.identityClientId ? { clientId: run.identityClientId } : {}),
          },
        }
      : {}),
    roleAssignments: run.roleAssignments,
    settingsChanged: {
      removed: [...plan.settings.remove],
      set: Object.keys(plan.settings.set),
      sites: run.settingsSites,
    },
    localAuth: {
      ...(before ? { before: before.account.disableLocalAuth } : {}),
      ...(run.localAuthAfter !== undefined
        ? { after: outcome === 'succeeded' ? run.localAuthAfter : before?.account.disableLocalAuth }
        : {}),
      ...(run.localAuthSkipped ? { skippedBecause: run.localAuthSkipped } : {}),
      ...(run.keyHolders ? { keyHolders: run.keyHolders } : {}),
      ...(run.keyUsage.length ? { keyUsage: run.keyUsage } : {}),
    },
    ...(run.analyses.length ? { analyses: run.analyses } : {}),
    ...(run.consumedDowntime ? { consumedDowntime: run.consumedDowntime } : {}),
    stages: run.board.stages.map((st) => ({ ...st })),
    ...(run.downtimeMs !== undefined ? { downtimeMs: run.downtimeMs } : {}),
    smokeTests: run.smokeTests,
    compensations: run.saga.records,
    ...(run.preflightProblems ? { preflightProblems: run.preflightProblems } : {}),
    warnings: run.warnings,
    ...(before ? { before } : {}),
    ...(run.notices.records.length ? { notifications: run.notices.records.map((r) => ({ ...r })) } : {}),
  };
}
