/**
 * The quiet period before a key switch (observed-usage runs): the account's diagnostic logs must show no key call
 * over `localAuth.quietPeriod` but the migrated caller's own, before it moved. The window ends now and is read only
 * once the logs' ingestion delay has passed, so a key call made just before is still seen. Key callers found are
 * other callers like the key holders an inventory finds (`ifOtherCallers`); no logs to read follows
 * `observability.ifUnobservable`.
 */
import { sleep } from '@temporalio/workflow';
import type { StageId } from '../../../contracts/model';
import type { KeyUsageObservation } from '../../../contracts/observation';
import { formatDuration } from '../../../plan/durations';
import { plannedMoves } from '../../../plan/moves';
import { snapshotsOf } from '../../../contracts/targets';
import { StageFailure } from '../../kit/failures';
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

/** `quiet`: go on. `unobservable`: go on only with an acknowledgement. `skip`: leave key auth on. */
export type KeyUsageVerdict = 'quiet' | 'unobservable' | 'skip';

/** Whether this run looks at the logs before switching keys off. */
export function watchesKeyUsage(run: MigrationRun): boolean {
  return run.observed && (run.plan.localAuth.quietPeriodMs ?? 0) > 0 && run.plan.observability !== undefined;
}

export async function checkKeyUsage(
  run: MigrationRun,
  stageId: StageId,
  opts: { readonly final?: boolean } = {},
): Promise<KeyUsageVerdict> {
  const { board, plan } = run;
  const observability = plan.observability!;
  const deadline = Date.now() + plan.budgets.approvalTimeoutMs;
  for (;;) {
    const observation = await observe(run, stageId);
    if (observation.verdict === 'quiet') return 'quiet';
    const policy = observation.verdict === 'key-calls' ? plan.localAuth.ifOtherCallers : observability.ifUnobservable;
    if (policy === 'acknowledge') return 'unobservable';
    if (policy === 'fail') throw new StageFailure(stageId, observation.summary);
    if (policy === 'wait' && !opts.final && Date.now() + plan.localAuth.recheckIntervalMs < deadline) {
      board.wait(
        stageId,
        `${observation.summary} — looking again every ${formatDuration(plan.localAuth.recheckIntervalMs)} until ${new Date(deadline).toISOString()}`,
      );
      await sleep(plan.localAuth.recheckIntervalMs, { summary: 'waiting for key calls to stop' });
      board.mark(stageId, 'running');
      continue;
    }
    if (policy === 'wait' && opts.final) return 'skip'; // the caller goes back to waiting
    run.leaveKeysOn(observation.summary);
    return 'skip';
  }
}

async function observe(run: MigrationRun, stageId: StageId): Promise<KeyUsageObservation> {
  const { board, plan } = run;
  const end = Date.now();
  const delay = plan.observability!.logIngestionDelayMs;
  if (delay > 0) {
    board.note(stageId, `reading the account's logs once they are complete (${formatDuration(delay)} ingestion delay)`);
    await sleep(delay, { summary: 'waiting for the diagnostic logs to arrive' });
  }
  const ownIds = [snapshotsOf(run.b).target.resourceId, ...plannedMoves(plan)];
  const observation = await arm.observeKeyUsage.executeWithOptions(
    { ...armCall, summary: 'who called the account with a key?' },
    [
      {
        account: run.b.account.ref,
        window: { start: new Date(end - plan.localAuth.quietPeriodMs!).toISOString(), end: new Date().toISOString() },
        ...(run.recoveredAt ? { own: { resourceIds: [...new Set(ownIds)], movedAt: run.recoveredAt } } : {}),
        knownHolders: (run.keyHolders?.holders ?? []).map((h) => h.resourceId),
      },
    ],
  );
  run.keyUsage.push(observation);
  board.note(stageId, observation.summary);
  return observation;
}
