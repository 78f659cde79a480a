/**
 * One fleet run's state in one object: the stage board (a stage per wave and per account's key switch), the gates,
 * every caller's and account's record, and what continue-as-new carries to the next run.
 */
import { patched, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import {
  type AccountRecord,
  type ArmBudgetSample,
  type CallerRecord,
  FAILED_CALLER_STATES,
  type FleetCarry,
  type FleetCounts,
  type FleetInput,
  type FleetOutcome,
  type FleetPlan,
  type FleetProgress,
} from '../../contracts/fleet';
import type { GateId } from '../../contracts/model';
import { Gates } from '../kit/gate';
import { StageBoard } from '../kit/run-state';
import { renderFleetDetails } from './render';
import { ARM_BUDGET_SAMPLE, PARALLEL_KEY_SWITCH, SHARED_KEY_SCAN, WAVE_ROLLBACK } from './versions';

export type FleetStageId = `wave-${number}` | `keys-${number}` | 'evidence';
export type FleetGate = `wave-${number}` | `keys-${number}`;

export class FleetRun {
  readonly plan: FleetPlan;
  readonly initiatedBy: string;
  readonly info = workflowInfo();
  readonly board: StageBoard<FleetStageId>;
  readonly gates: Gates<FleetGate, FleetStageId>;
  readonly callers: CallerRecord[];
  readonly accounts: AccountRecord[];
  readonly startedAt: string;
  readonly runs: number;
  nextWave: number;
  outcome: FleetOutcome = 'running';
  /** Why the fleet stopped starting children (threshold, rejection, abort); undefined while it goes on. */
  stopped: string | undefined;
  abortRequest: { by: string; reason: string } | undefined;
  /** Whether ready accounts switch side by side (`PARALLEL_KEY_SWITCH`, decided once at the run's start). */
  readonly parallelKeySwitch = patched(PARALLEL_KEY_SWITCH);
  /** Whether key-holder checks share passes over the estate (`SHARED_KEY_SCAN`, decided once at the run's start). */
  readonly sharedKeyScan = this.parallelKeySwitch && patched(SHARED_KEY_SCAN);
  /** Whether the fleet samples its worker's ARM governor while children run (`ARM_BUDGET_SAMPLE`). */
  readonly samplesArmBudget = this.sharedKeyScan && patched(ARM_BUDGET_SAMPLE);
  /** Whether a stopped wave can be rolled back whole (`WAVE_ROLLBACK`; the plan asks with `onStop`). */
  readonly rollsBackWaves = this.samplesArmBudget && patched(WAVE_ROLLBACK);
  /** `callerHeld` signals received: the running wave's window watches the count. */
  heldSignals = 0;
  armBudget: ArmBudgetSample | undefined;
  /** Workflow time of the last sample. */
  armBudgetAt: number | undefined;

  constructor(input: FleetInput) {
    const { plan, carry } = input;
    this.plan = plan;
    this.initiatedBy = input.initiatedBy;
    const titles: Record<string, string> = {};
    plan.waves.forEach((w, i) => (titles[`wave-${i}`] = `Wave ${w.name} (${w.callers.length} callers)`));
    plan.accounts.forEach((a, i) => (titles[`keys-${i}`] = `Key auth off on ${a.ref.name}`));
    titles.evidence = 'Evidence record';
    this.board = new StageBoard<FleetStageId>(titles as Record<FleetStageId, string>, 'wave-0', () => this.refresh());
    const gateStages: Record<string, FleetStageId> = {};
    for (const id of Object.keys(titles)) if (id !== 'evidence') gateStages[id] = id as FleetStageId;
    this.gates = new Gates(this.board, gateStages, {
      timeoutMs: plan.approvals.timeoutMs,
      onTimeout: 'rollback',
      fourEyes: plan.approvals.fourEyes,
      initiatedBy: this.initiatedBy,
      runNoun: 'fleet',
    });
    this.callers = carry
      ? carry.callers.map((c) => ({ ...c }))
      : plan.callers.map((c) => ({ id: c.id, state: 'pending' }));
    this.accounts = carry
      ? carry.accounts.map((a) => ({ ...a }))
      : plan.accounts.map((a) => ({ name: a.ref.name, state: 'waiting' }));
    if (carry) {
      this.gates.approvals.push(...carry.approvals);
      carry.stages.forEach((s, i) => Object.assign(this.board.stages[i], s));
      this.board.current = (carry.stages.find((s) => s.status !== 'pending' && s.status !== 'done')?.id ??
        `wave-${Math.min(carry.nextWave, plan.waves.length - 1)}`) as FleetStageId;
    }
    this.startedAt = carry?.startedAt ?? new Date().toISOString();
    this.runs = (carry?.runs ?? 0) + 1;
    this.nextWave = carry?.nextWave ?? 0;
    this.stopped = carry?.stopped;
  }

  /** A held child reports its caller moved: its wave's window may start another. */
  held(i: number): void {
    if (this.callers[i]?.state !== 'running') return;
    Object.assign(this.callers[i], { state: 'held', heldAt: new Date().toISOString() });
    this.heldSignals++;
    this.refresh();
  }

  /** No new child starts from now on. */
  stop(reason: string): void {
    this.stopped ??= reason;
    this.board.refresh();
  }

  /** Callers of account `a`, by index. */
  callersOf(a: number): number[] {
    return this.plan.callers.flatMap((c, i) => (c.account === a ? [i] : []));
  }

  failed(i: number): boolean {
    return FAILED_CALLER_STATES.includes(this.callers[i].state);
  }

  counts(indexes: readonly number[]): FleetCounts {
    const states = indexes.map((i) => this.callers[i].state);
    return {
      pending: states.filter((s) => s === 'pending').length,
      running: states.filter((s) => s === 'running' || s === 'held').length,
      succeeded: states.filter((s) => s === 'succeeded').length,
      rolledBack: states.filter((s) => s === 'rolled-back').length,
      failed: indexes.filter((i) => this.failed(i)).length,
    };
  }

  carry(): FleetCarry {
    return {
      nextWave: this.nextWave,
      callers: this.callers,
      accounts: this.accounts,
      approvals: this.gates.approvals,
      stages: this.board.stages,
      startedAt: this.startedAt,
      runs: this.runs,
      ...(this.stopped ? { stopped: this.stopped } : {}),
    };
  }

  progress(): FleetProgress {
    const { plan, board } = this;
    return {
      workflowId: this.info.workflowId,
      changeTicket: plan.changeTicket,
      initiatedBy: this.initiatedBy,
      outcome: this.outcome,
      ...(this.stopped ? { reason: this.stopped } : {}),
      ...(this.nextWave < plan.waves.length ? { wave: plan.waves[this.nextWave].name } : {}),
      stages: board.stages,
      ...(this.gates.pending ? { pendingGate: this.gates.pending } : {}),
      ...(board.waitingFor ? { waitingFor: board.waitingFor } : {}),
      waves: plan.waves.map((w) => ({ name: w.name, ...this.counts(w.callers) })),
      accounts: this.accounts.map((a, i) => ({ ...a, ...this.counts(this.callersOf(i)) })),
      callers: this.callers,
      approvals: this.gates.approvals,
      runs: this.runs,
      ...(this.armBudget ? { armBudget: this.armBudget } : {}),
    };
  }

  /** Re-renders the Web UI's current details. */
  refresh(): void {
    setCurrentDetails(renderFleetDetails(this.progress()));
  }

  /** The gate id of wave `i` or account `i`'s key switch. */
  static gate(kind: 'wave' | 'keys', i: number): FleetGate & GateId {
    return `${kind}-${i}`;
  }
}
