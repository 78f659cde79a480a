/**
 * A wave: its callers' migrations as child workflows in a sliding window of `concurrency`, each started as soon as
 * another ends, until the wave is done or the fleet stops (one failure more than the wave tolerates, a rejection,
 * an abort). A stopped fleet starts no new child; running ones finish, or with `onStop: cancel` are cancelled and
 * roll back (the child's own saga). With `onStop: roll-back-wave` a child that has moved its caller is held (it
 * leaves the window but does not end) until the wave ends: kept, or rolled back with the wave if the fleet stopped. Children outlive their parent (`ABANDON`): a terminated fleet never kills a
 * migration halfway; the fleet continues as new only between waves, when no child runs.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  type ChildWorkflowHandle,
  condition,
  isCancellation,
  ParentClosePolicy,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { callerPlan } from '../../contracts/fleet';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationResult, WaveEnd } from '../../contracts/model';
import { formatDuration } from '../../plan/durations';
import { targetLabel } from '../../plan/targets';
import { failureMessage } from '../kit/failures';
import { waveEndedSignal } from '../migration/messages';
import { migrateToManagedIdentity } from '../migration/workflow';
import { arm, armCall } from './activities';
import type { FleetRun } from './state';

export async function runWave(run: FleetRun, w: number): Promise<void> {
  const { plan, board } = run;
  const wave = plan.waves[w];
  const stage = `wave-${w}` as const;
  const queue = wave.callers.filter((i) => run.callers[i].state === 'pending');
  const holds = run.rollsBackWaves && plan.onStop === 'roll-back-wave';
  const running = new Map<number, CancellationScope>();
  const children = new Map<number, ChildHandle>();
  const held = () => [...running.keys()].filter((i) => run.callers[i].state === 'held');
  let settled = 0;
  board.begin(stage, `${wave.callers.length} callers, ${wave.concurrency} at a time`);
  const note = () => {
    const c = run.counts(wave.callers);
    const waiting = holds ? `, ${held().length} moved and held until the wave ends` : '';
    board.note(stage, `${c.succeeded} done, ${c.running} running, ${c.pending} pending, ${c.failed} failed${waiting}`);
  };
  // A held child keeps its place in `running` (it has not ended) but not in the window.
  const moving = () => running.size - held().length;
  while ((queue.length > 0 && !run.stopped) || moving() > 0) {
    while (!run.stopped && queue.length > 0 && moving() < wave.concurrency) {
      const i = queue.shift()!;
      const scope = new CancellationScope();
      running.set(i, scope);
      void scope
        .run(() => migrateCaller(run, i, holds ? { wave: wave.name, children } : undefined))
        .finally(() => {
          running.delete(i);
          settled++;
        });
    }
    note();
    const seen = [settled, run.heldSignals];
    const stoppedBefore = run.stopped;
    await condition(() => settled !== seen[0] || run.heldSignals !== seen[1] || run.stopped !== stoppedBefore);
    await sampleArmBudget(run);
    const failures = wave.callers.filter((i) => run.failed(i)).length;
    if (!run.stopped && failures > wave.allowedFailures)
      run.stop(
        `wave ${wave.name}: ${failures} caller${failures === 1 ? '' : 's'} failed, the wave tolerates ${wave.allowedFailures}`,
      );
    if (run.stopped && plan.onStop !== 'finish')
      for (const [i, scope] of running) if (run.callers[i].state !== 'held') scope.cancel();
  }
  for (const i of queue) run.callers[i].state = 'not-started';
  if (holds) await endHeldWave(run, w, children, () => running.size === 0, note);
  const c = run.counts(wave.callers);
  const summary = `${c.succeeded} of ${wave.callers.length} moved, ${c.failed} failed${c.rolledBack && holds && run.stopped ? ` (the wave rolled back: ${run.stopped})` : ''}`;
  board.end(stage, c.failed > wave.allowedFailures || run.stopped ? 'failed' : 'done', summary);
  if (!holds && !run.stopped && wave.bakeMs > 0) {
    board.wait(stage, `${summary}; baking for ${formatDuration(wave.bakeMs)}`);
    await sleep(wave.bakeMs, { summary: `bake after wave ${wave.name}` });
    board.waitingFor = undefined;
    board.note(stage, summary);
  }
}

type ChildHandle = ChildWorkflowHandle<typeof migrateToManagedIdentity>;

/** How long a held child waits for its wave's end before it keeps its change (a fleet that was terminated). */
export const HOLD_TIMEOUT_MS = 7 * 24 * 3_600_000;

/**
 * Every caller of the wave has moved (held) or ended: the bake, cut short by a stop, then the answer to each held
 * child — kept, or rolled back with the wave when the fleet stopped — and the wait until every one has ended.
 */
async function endHeldWave(
  run: FleetRun,
  w: number,
  children: ReadonlyMap<number, ChildHandle>,
  allEnded: () => boolean,
  note: () => void,
): Promise<void> {
  const { board, plan } = run;
  const wave = plan.waves[w];
  const stage = `wave-${w}` as const;
  if (!run.stopped && wave.bakeMs > 0) {
    board.wait(stage, `every caller moved; baking for ${formatDuration(wave.bakeMs)} (an abort rolls the wave back)`);
    await condition(() => run.stopped !== undefined, wave.bakeMs);
    board.waitingFor = undefined;
  }
  const end: WaveEnd = run.stopped ? { decision: 'roll-back', reason: run.stopped } : { decision: 'keep' };
  const held = [...children.keys()].filter((i) => run.callers[i].state === 'held');
  board.note(stage, `${end.decision === 'keep' ? 'keeping' : 'rolling back'} ${held.length} moved callers`);
  // One signal per held child; each then ends on its own (its rollback or its evidence).
  await Promise.all(held.map((i) => children.get(i)!.signal(waveEndedSignal, end)));
  note();
  await condition(allEnded);
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
async function migrateCaller(
  run: FleetRun,
  i: number,
  hold?: { wave: string; children: Map<number, ChildHandle> },
): Promise<void> {
  const plan = callerPlan(run.plan, i);
  const record = run.callers[i];
  const workflowId = migrationWorkflowId(plan);
  Object.assign(record, { state: 'running', workflowId, startedAt: new Date().toISOString() });
  run.refresh();
  try {
    const child = await startChild(migrateToManagedIdentity, {
      workflowId,
      args: [
        {
          plan,
          initiatedBy: run.initiatedBy,
          ...(hold
            ? {
                waveHold: {
                  fleetWorkflowId: run.info.workflowId,
                  caller: i,
                  wave: hold.wave,
                  timeoutMs: HOLD_TIMEOUT_MS,
                },
              }
            : {}),
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      staticSummary: `Migration of ${targetLabel(plan.target)} (fleet ${run.plan.changeTicket})`,
    });
    record.runId = child.firstExecutionRunId;
    hold?.children.set(i, child);
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
