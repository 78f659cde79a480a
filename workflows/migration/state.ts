/**
 * One migration run's state, in one object (the manager-class pattern of Temporal's safe-message-handlers sample):
 * the stage board, the gates, the saga, and what the run has learnt and changed. Stages read and write it; message
 * handlers read it; the evidence record is made from it.
 */
import { setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type {
  BeforeState,
  Compensation,
  GateId,
  KeyHolderScan,
  MigrationInput,
  MigrationProgress,
  Outcome,
  PreflightProblem,
  RoleAssignmentResult,
  SmokeTestRecord,
  StageId,
  WaveEnd,
  WaveHold,
} from '../../contracts/model';
import type { AnalysisRecord, ConsumedDowntime, KeyUsageObservation } from '../../contracts/observation';
import type { MigrationPlan } from '../../plan/schema';
import { Gates } from '../kit/gate';
import { StageBoard } from '../kit/run-state';
import { Saga } from '../kit/saga';
import { Notifications } from './notify';
import { renderDetails } from './render';

export const STAGE_TITLES: Record<StageId, string> = {
  preflight: 'Preflight (read-only checks, before-state)',
  identity: 'Enable managed identity',
  role: 'Assign role',
  propagation: 'Wait for role propagation',
  'approve-settings': 'Approval: swap settings',
  settings: 'Swap settings and smoke-test',
  analysis: 'Analysis after the switch',
  'key-holders': 'Check who still holds or uses the key',
  'approve-local-auth': 'Approval: disable local auth',
  'local-auth': 'Disable local (key) auth',
  'key-analysis': 'Analysis after the key switch',
  rollback: 'Rollback',
  evidence: 'Evidence record',
};

/** The migration's gates (a revoke has its own). */
type MigrationGate = Exclude<GateId, 'revoke'>;

const GATE_STAGE: Record<MigrationGate, StageId> = {
  settings: 'approve-settings',
  'local-auth': 'approve-local-auth',
  'key-usage': 'key-holders',
  analysis: 'analysis',
  'key-analysis': 'key-analysis',
};

/** Which of the workflow's changes (versions.ts) this execution runs: decided once, at its start. */
export interface RunVersions {
  readonly keySwitchV2: boolean;
  readonly observedUsage: boolean;
  readonly pollInActivity: boolean;
  /** `LEAN_HISTORY`: it implies the three above and the wave hold. */
  readonly lean: boolean;
}

export class MigrationRun {
  readonly plan: MigrationPlan;
  readonly initiatedBy: string;
  readonly info = workflowInfo();
  readonly startedAt = new Date().toISOString();
  readonly board: StageBoard<StageId>;
  readonly gates: Gates<MigrationGate, StageId>;
  readonly saga = new Saga<Compensation>();
  readonly notices: Notifications = new Notifications(this);

  outcome: Outcome = 'running';
  reason: string | undefined;
  abortRequest: { by: string; reason: string } | undefined;
  /** In a fleet that rolls stopped waves back whole: the hold, and the fleet's answer once the wave ended. */
  readonly waveHold: WaveHold | undefined;
  waveEnd: WaveEnd | undefined;
  rollingBack = false;

  // What the run learnt and changed, for the rollback and the evidence record.
  before: BeforeState | undefined;
  preflightProblems: PreflightProblem[] | undefined;
  identityClientId: string | undefined;
  downtimeMs: number | undefined;
  localAuthAfter: boolean | undefined;
  localAuthSkipped: string | undefined;
  keyHolders: KeyHolderScan | undefined;
  /** Every look at the account's logs for key calls (observed-usage runs). */
  readonly keyUsage: KeyUsageObservation[] = [];
  readonly analyses: AnalysisRecord[] = [];
  consumedDowntime: ConsumedDowntime | undefined;
  /** When the caller's traffic was switched (the settings change or the swap) and when it answered again. */
  switchedAt: string | undefined;
  recoveredAt: string | undefined;
  /** A container app's traffic shift: its new revision, and the old revisions to retire at the end. */
  trafficShift: { readonly revision: string; readonly retire: readonly string[]; retired: boolean } | undefined;
  /** The standby slot of a swap could not run on its identity and keeps the key. */
  standbyKept = false;
  readonly warnings: string[] = [];
  readonly principalIds: string[] = [];
  readonly roleAssignments: RoleAssignmentResult[] = [];
  readonly smokeTests: SmokeTestRecord[] = [];
  readonly settingsSites: string[] = [];
  readonly resourcesTouched = new Set<string>();

  /** Whether this execution runs the key switch of `KEY_SWITCH_V2` (see versions.ts). */
  readonly v2: boolean;
  /** Whether it watches key usage and runs analyses (`OBSERVED_USAGE`). */
  readonly observed: boolean;
  /** Whether its probes poll inside one activity (`POLL_IN_ACTIVITY`). */
  readonly pollsInActivity: boolean;
  /** Whether it keeps its history small (`LEAN_HISTORY`). */
  readonly lean: boolean;

  constructor(input: MigrationInput, versions: RunVersions) {
    this.v2 = versions.keySwitchV2;
    this.observed = versions.observedUsage;
    this.pollsInActivity = versions.pollInActivity;
    this.lean = versions.lean;
    const { observed, v2 } = this;
    this.plan = input.plan;
    this.initiatedBy = input.initiatedBy;
    this.waveHold = input.waveHold;
    this.board = new StageBoard(STAGE_TITLES, 'preflight', () => this.refresh());
    this.gates = new Gates(this.board, GATE_STAGE, {
      timeoutMs: this.plan.budgets.approvalTimeoutMs,
      onTimeout: this.plan.approvals.onTimeout,
      fourEyes: this.plan.approvals.fourEyes,
      initiatedBy: this.initiatedBy,
      onOpen: (gate) =>
        this.notices.send(
          'gate-opened',
          `${gate.title}: waiting for approval until ${gate.deadline ?? 'no limit'}`,
          `cutover approve ${this.info.workflowId} --gate ${gate.gate} --as NAME`,
          { id: gate.gate, title: gate.title, ...(gate.deadline ? { deadline: gate.deadline } : {}) },
        ),
    });
    const { approvals, localAuth } = this.plan;
    const skip = (id: StageId, why: string) => this.board.skip(id, why);
    if (!approvals.beforeSettingsSwap) skip('approve-settings', 'not required by the plan');
    if (!localAuth.disable) {
      skip('key-holders', 'local auth stays on (plan)');
      skip('approve-local-auth', 'local auth stays on (plan)');
      skip('local-auth', 'local auth stays on (plan)');
    } else if (!approvals.beforeDisableLocalAuth) skip('approve-local-auth', 'not required by the plan');
    if (!v2) skip('key-holders', 'checked as part of local auth');
    const analysis = observed ? this.plan.analysis : undefined;
    if (!analysis?.after.includes('switch'))
      skip('analysis', observed ? 'not asked for by the plan' : 'not in this run’s version');
    if (!localAuth.disable) skip('key-analysis', 'local auth stays on (plan)');
    else if (!analysis?.after.includes('key-switch'))
      skip('key-analysis', observed ? 'not asked for by the plan' : 'not in this run’s version');
  }

  /** The before-state: set by preflight, so every later stage may rely on it. */
  get b(): BeforeState {
    return this.before!;
  }

  progress(): MigrationProgress {
    const { board, gates, saga } = this;
    return {
      workflowId: this.info.workflowId,
      changeTicket: this.plan.changeTicket,
      initiatedBy: this.initiatedBy,
      stage: board.current,
      stages: board.stages,
      ...(gates.pending ? { pendingGate: gates.pending } : {}),
      ...(saga.blocked ? { blocked: saga.blocked } : {}),
      outcome: this.outcome,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(board.waitingFor ? { waitingFor: board.waitingFor } : {}),
      ...(this.keyHolders ? { keyHolders: this.keyHolders } : {}),
      ...(this.keyUsage.length ? { keyUsage: this.keyUsage.at(-1)! } : {}),
      ...(this.analyses.length ? { analyses: this.analyses } : {}),
      approvals: gates.approvals,
    };
  }

  /** Re-renders the Web UI's current details. */
  refresh(): void {
    setCurrentDetails(renderDetails(this.plan, this.progress()));
  }

  /** Leaves key auth on, with the reason in the evidence and on every key-switch stage not yet done. */
  leaveKeysOn(why: string): void {
    const { board } = this;
    this.localAuthSkipped = why;
    this.localAuthAfter = false;
    this.warnings.push(`local auth left enabled: ${why}`);
    const open = (id: StageId) => ['pending', 'running', 'waiting'].includes(board.get(id).status);
    if (open('key-holders') && board.get('key-holders').status !== 'pending') board.end('key-holders', 'done', why);
    for (const id of ['approve-local-auth', 'local-auth', 'key-analysis'] as const)
      if (open(id)) board.end(id, 'skipped', why);
  }

  /** Records how to undo a change that is about to be made. */
  compensate(step: Compensation, description: string): void {
    this.saga.record(step, description);
  }
}
