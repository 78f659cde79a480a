/**
 * A wave: its callers' migrations as child workflows in a sliding window of `concurrency`, each started as soon as
 * another ends, until the wave is done or the fleet stops (one failure more than the wave tolerates, a rejection,
 * an abort). A stopped fleet starts no new child; running ones finish, or with `onStop: cancel` are cancelled and
 * roll back (the child's own saga). Children outlive their parent (`ABANDON`): a terminated fleet never kills a
 * migration halfway; the fleet continues as new only between waves, when no child runs.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  isCancellation,
  ParentClosePolicy,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { callerPlan } from '../../contracts/fleet';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationResult } from '../../contracts/model';
import { formatDuration } from '../../plan/durations';
import { targetLabel } from '../../plan/targets';
import { failureMessage } from '../kit/failures';
import { migrateToManagedIdentity } from '../migration/workflow';
import { arm, armCall } from './activities';
import type { FleetRun } from './state';

export async function runWave(run: FleetRun, w: number): Promise<void> {
  const { plan, board } = run;
  const wave = plan.waves[w];
  const stage = `wave-${w}` as const;
  const queue = wave.callers.filter((i) => run.callers[i].state === 'pending');
  const running = new Map<number, CancellationScope>();
  let settled = 0;
  board.begin(stage, `${wave.callers.length} callers, ${wave.concurrency} at a time`);
  const note = () => {
    const c = run.counts(wave.callers);
    board.note(stage, `${c.succeeded} done, ${c.running} running, ${c.pending} pending, ${c.failed} failed`);
  };
  while ((queue.length > 0 && !run.stopped) || running.size > 0) {
    while (!run.stopped && queue.length > 0 && running.size < wave.concurrency) {
      const i = queue.shift()!;
      const scope = new CancellationScope();
      running.set(i, scope);
      void scope
        .run(() => migrateCaller(run, i))
        .finally(() => {
          running.delete(i);
          settled++;
        });
    }
    note();
    const seen = settled;
    const stoppedBefore = run.stopped;
    await condition(() => settled !== seen || run.stopped !== stoppedBefore);
    await sampleArmBudget(run);
    const failures = wave.callers.filter((i) => run.failed(i)).length;
    if (!run.stopped && failures > wave.allowedFailures)
      run.stop(
        `wave ${wave.name}: ${failures} caller${failures === 1 ? '' : 's'} failed, the wave tolerates ${wave.allowedFailures}`,
      );
    if (run.stopped && plan.onStop === 'cancel') for (const scope of running.values()) scope.cancel();
  }
  for (const i of queue) run.callers[i].state = 'not-started';
  const c = run.counts(wave.callers);
  const summary = `${c.succeeded} of ${wave.callers.length} moved, ${c.failed} failed`;
  board.end(stage, c.failed > wave.allowedFailures || run.stopped ? 'failed' : 'done', summary);
  if (!run.stopped && wave.bakeMs > 0) {
    board.wait(stage, `${summary}; baking for ${formatDuration(wave.bakeMs)}`);
    await sleep(wave.bakeMs, { summary: `bake after wave ${wave.name}` });
    board.waitingFor = undefined;
    board.note(stage, summary);
  }
}

/** How often, at most, a wave samples its worker's ARM governor (when a child ends). */
const ARM_BUDGET_EVERY_MS = 30_000;

/** The worker's ARM rates against its budgets, for the fleet's progress; a sample that fails is left out. */
async function sampleArmBudget(run: FleetRun): Promise<void> {
  if (!run.samplesArmBudget) return;
  const now = Date.now();
  if (run.armBudgetAt !== undefined && now - run.armBudgetAt < ARM_BUDGET_EVERY_MS) return;
  run.armBudgetAt = now;
  try {
    const { sample } = await arm.armBudget.executeWithOptions(
      { ...armCall, retry: { maximumAttempts: 1 }, summary: 'ARM request rates against budgets' },
      [],
    );
    run.armBudget = sample;
    run.refresh();
  } catch (err) {
    // A worker without the activity (an older one, mid-deploy): the progress goes without rates.
    if (isCancellation(err)) throw err;
  }
}

/** One caller's migration as a child; its record says how it ended (its own evidence says everything else). */
async function migrateCaller(run: FleetRun, i: number): Promise<void> {
  const plan = callerPlan(run.plan, i);
  const record = run.callers[i];
  const workflowId = migrationWorkflowId(plan);
  Object.assign(record, { state: 'running', workflowId, startedAt: new Date().toISOString() });
  run.refresh();
  try {
    const child = await startChild(migrateToManagedIdentity, {
      workflowId,
      args: [{ plan, initiatedBy: run.initiatedBy }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      staticSummary: `Migration of ${targetLabel(plan.target)} (fleet ${run.plan.changeTicket})`,
    });
    record.runId = child.firstExecutionRunId;
    settle(run, i, await child.result());
  } catch (err) {
    // A child that could not start (one is already running for this caller) or ended without a result.
    Object.assign(record, {
      state: isCancellation(err) ? 'rolled-back' : 'failed',
      reason: isCancellation(err) ? `cancelled: ${run.stopped ?? 'the fleet stopped'}` : failureMessage(err),
      endedAt: new Date().toISOString(),
    });
  }
  run.refresh();
}

function settle(run: FleetRun, i: number, result: MigrationResult): void {
  const record = run.callers[i];
  const { evidence } = result;
  const site = evidence.before?.sites[0];
  const state = result.outcome === 'running' ? 'failed' : result.outcome;
  Object.assign(record, {
    state,
    endedAt: evidence.endedAt,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(site ? { resourceId: site.resourceId, baseUrl: site.baseUrl } : {}),
    ...(evidence.identity?.principalIds[0] ? { principalId: evidence.identity.principalIds[0] } : {}),
    ...(evidence.roleAssignments[0] ? { roleAssignmentId: evidence.roleAssignments[0].roleAssignmentId } : {}),
    ...(result.evidencePath ? { evidencePath: result.evidencePath } : {}),
  });
  const account = run.accounts[run.plan.callers[i].account];
  if (evidence.before && !account.endpoint) account.endpoint = evidence.before.account.endpoint;
}
