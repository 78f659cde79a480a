/**
 * `migrateFleet`: migrates an estate — many callers of shared Azure OpenAI accounts — in waves of child migrations
 * (`migrateToManagedIdentity`, keys left on), then switches key auth off once per account, when every caller of it
 * has moved. The entry function below is the runbook; waves are ./waves.ts, the account's key switch ./key-switch.ts.
 *
 * Stops (no new child starts) on: one failure more than a wave tolerates, a rejected gate, an approval timeout, an
 * `abort`. Each child rolls itself back when it fails; a stopped fleet lets the running ones finish, or cancels them
 * (`onStop: cancel`) so they roll back. An account's failed key-switch proof switches only that account back on.
 * Continues as new between waves once its history is long, carrying every record.
 *
 * Messages (./messages.ts): updates `approve`, `reject` (gates `wave-<n>`, `keys-<n>`), `abort`; query `progress`.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AbortInput } from '../../contracts/messages';
import type { FleetEvidence, FleetInput, FleetResult } from '../../contracts/fleet';
import { AccountLocks } from '../kit/account-lock';
import { filled, refuse, StageFailure } from '../kit/failures';
import { registerGateHandlers } from '../kit/gate';
import { callerHeldSignal } from '../migration/messages';
import { arm, armCall } from './activities';
import { switchReadyAccounts } from './key-switch';
import {
  abortFleetUpdate,
  approveFleetUpdate,
  FLEET_MESSAGE_DESCRIPTIONS,
  fleetProgressQuery,
  rejectFleetUpdate,
} from './messages';
import { FleetRun } from './state';
import { runWave } from './waves';

export async function migrateFleet(input: FleetInput): Promise<FleetResult> {
  const run = new FleetRun(input);
  registerHandlers(run);
  const locks = new AccountLocks();
  run.refresh();

  for (let w = run.nextWave; w < run.plan.waves.length && !run.stopped; w++) {
    run.nextWave = w;
    if (run.plan.waves[w].callers.length === 0) {
      run.board.skip(`wave-${w}`, 'no caller was left for this wave');
      continue;
    }
    if (!(await waveApproved(run, w))) break; //  [approval] before the wave
    await runWave(run, w); //                       child migrations in a sliding window, up to the failure threshold
    await switchReadyAccounts(run, locks); //        key auth off on each account whose callers have all moved
    run.nextWave = w + 1;
    if (w + 1 < run.plan.waves.length && longHistory(run)) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof migrateFleet>({ plan: run.plan, initiatedBy: run.initiatedBy, carry: run.carry() });
    }
  }
  for (const c of run.callers) if (c.state === 'pending') c.state = 'not-started'; // a stopped fleet's later waves
  await switchReadyAccounts(run, locks); //          every account left says why its keys stay on
  return finish(run); //                            evidence, whatever happened
}

/** The wave's gate, when the plan asks for one; a rejection (or a timeout) stops the fleet. */
async function waveApproved(run: FleetRun, w: number): Promise<boolean> {
  const wave = run.plan.waves[w];
  if (!wave.approval) return true;
  try {
    await run.gates.open(FleetRun.gate('wave', w), `Start wave ${wave.name} (${wave.callers.length} callers)`);
    return true;
  } catch (err) {
    if (!(err instanceof StageFailure)) throw err;
    run.stop(err.message);
    return false;
  }
}

function longHistory(run: FleetRun): boolean {
  const info = workflowInfo();
  return info.historyLength >= run.plan.continueAsNewAfterEvents || info.continueAsNewSuggested;
}

function registerHandlers(run: FleetRun): void {
  const { gates } = run;
  registerGateHandlers(gates, { approve: approveFleetUpdate, reject: rejectFleetUpdate }, FLEET_MESSAGE_DESCRIPTIONS);
  setHandler(
    abortFleetUpdate,
    (a) => {
      const by = a.by.trim();
      run.abortRequest = { by, reason: a.reason.trim() };
      run.stop(`aborted by ${by}: ${a.reason.trim()}`);
      // An open gate is answered by the abort, so the fleet does not wait out its timeout.
      if (gates.pending) gates.decide('rejected', { approver: by, comment: `aborted: ${a.reason.trim()}` });
      return run.progress();
    },
    {
      validator: (a: AbortInput) => {
        if (!filled(a?.by)) throw refuse('"by" is required');
        if (!filled(a.reason)) throw refuse('a reason is required');
        if (run.outcome !== 'running' || run.stopped) throw refuse('the fleet is not going forward: nothing to abort');
      },
      description: FLEET_MESSAGE_DESCRIPTIONS.abort,
    },
  );
  setHandler(fleetProgressQuery, () => run.progress(), { description: FLEET_MESSAGE_DESCRIPTIONS.progress });
  setHandler(callerHeldSignal, (i) => run.held(i), { description: FLEET_MESSAGE_DESCRIPTIONS.callerHeld });
}

async function finish(run: FleetRun): Promise<FleetResult> {
  const { plan, board } = run;
  const failed = run.callers.some((_, i) => run.failed(i));
  const switchFailed = run.accounts.filter((a) => a.state === 'failed' || a.state === 'switched-back');
  run.outcome = run.stopped ? 'stopped' : failed || switchFailed.length ? 'failed' : 'succeeded';
  const reason =
    run.stopped ??
    (switchFailed.length
      ? `the key switch failed on ${switchFailed.map((a) => `${a.name} (${a.reason ?? a.state})`).join('; ')}`
      : undefined);
  board.begin('evidence');
  const evidence: FleetEvidence = {
    schema: 'cutover.fleet-evidence/v1',
    workflowId: run.info.workflowId,
    runId: run.info.runId,
    runs: run.runs,
    changeTicket: plan.changeTicket,
    initiatedBy: run.initiatedBy,
    startedAt: run.startedAt,
    endedAt: new Date().toISOString(),
    outcome: run.outcome,
    ...(reason ? { reason } : {}),
    waves: plan.waves.map((w) => ({ name: w.name, callers: w.callers.map((i) => plan.callers[i].id) })),
    accounts: run.accounts.map((a, ai) => ({
      ...a,
      callers: run.callersOf(ai).map((i) => ({ ...run.callers[i], kind: plan.callers[i].target.kind })),
    })),
    approvals: run.gates.approvals,
    stages: board.stages,
  };
  let evidencePath: string | undefined;
  try {
    ({ path: evidencePath } = await arm.writeFleetEvidence.executeWithOptions(
      { ...armCall, summary: 'write the fleet’s evidence record' },
      [evidence],
    ));
    board.end('evidence', 'done', evidencePath);
  } catch (err) {
    board.end('evidence', 'failed', String(err));
  }
  const result: FleetResult = {
    outcome: run.outcome,
    ...(reason ? { reason } : {}),
    evidence: { ...evidence, stages: board.stages },
    ...(evidencePath ? { evidencePath } : {}),
  };
  run.refresh();
  return result;
}
