/**
 * A fleet: many callers of shared Azure OpenAI accounts, migrated in waves of child migrations, with the key switch
 * moved to the account (one per account, once every caller of it has moved). What the client resolves from a fleet
 * plan, what the fleet workflow carries across continue-as-new, and what it shows and records. Names and ids only.
 */
import type { MigrationPlan, TargetSpec } from '../plan/schema';
import type { AccountRef, ApprovalRecord, KeyHolderScan, PendingGate, StageProgress } from './model';

/** A stage of the fleet: one per wave and one per account's key switch (`wave-0`, `keys-1`), then `evidence`. */
export type FleetStageProgress = Omit<StageProgress, 'id'> & { readonly id: string };
import type { KeyUsageObservation } from './observation';

/** One account of the fleet and how its key switch goes. */
export interface FleetAccount {
  readonly ref: AccountRef;
  readonly deployment: string;
  readonly keySwitch: {
    /** Switch key auth off once every caller of the account has moved. */
    readonly disable: boolean;
    /** A gate (four-eyes per the fleet) before the switch. */
    readonly approval: boolean;
    /** The account's logs must show no key call for this long (0: no log check). */
    readonly quietPeriodMs: number;
    /** After the switch, how long to watch the callers before the account counts as done. */
    readonly bakeMs: number;
  };
}

/** Whole top-level sections of a caller's plan that differ from the fleet's template. */
export type CallerOverrides = Partial<
  Omit<MigrationPlan, 'changeTicket' | 'description' | 'tenantId' | 'subscriptionId' | 'target' | 'account'>
>;

export interface FleetCaller {
  /** How people name it: `<name>` or `<name>/<slot>`, unique in the fleet. */
  readonly id: string;
  readonly subscriptionId: string;
  readonly target: TargetSpec;
  /** Index into `accounts`. */
  readonly account: number;
  readonly overrides?: CallerOverrides;
}

export interface FleetWave {
  readonly name: string;
  /** Indexes into `callers`, in start order. */
  readonly callers: readonly number[];
  /** Child migrations running at once. */
  readonly concurrency: number;
  /** Failed callers the wave tolerates; one more stops the fleet (from `maxFailures` / `maxFailurePercent`). */
  readonly allowedFailures: number;
  /** Wait after the wave before the next one (and before its accounts' key switches). */
  readonly bakeMs: number;
  /** A gate before the wave starts. */
  readonly approval: boolean;
}

/** What the fleet plan resolves to: everything the workflow needs, without a secret. */
export interface FleetPlan {
  readonly changeTicket: string;
  readonly description?: string;
  readonly tenantId: string;
  /** The per-caller plan fields every caller shares (its target and account are replaced per caller). */
  readonly template: MigrationPlan;
  readonly accounts: readonly FleetAccount[];
  readonly callers: readonly FleetCaller[];
  readonly waves: readonly FleetWave[];
  /**
   * A stopped fleet (threshold, rejection, abort): `finish` lets running children end, `cancel` rolls them back,
   * `roll-back-wave` rolls back the whole wave it stopped in (its moved callers too: they are held until it ends).
   */
  readonly onStop: FleetOnStop;
  readonly approvals: { readonly fourEyes: boolean; readonly timeoutMs: number };
  /** Continue-as-new once the history holds this many events (between waves, with no child running). */
  readonly continueAsNewAfterEvents: number;
}

export type FleetOnStop = 'finish' | 'cancel' | 'roll-back-wave';

export const FLEET_ON_STOP: readonly FleetOnStop[] = ['finish', 'cancel', 'roll-back-wave'];

export type CallerState =
  | 'pending'
  | 'running'
  /** Moved to its identity, its migration held until the wave ends (`onStop: roll-back-wave`). */
  | 'held'
  | 'succeeded'
  | 'rolled-back'
  | 'preflight-failed'
  | 'rollback-incomplete'
  | 'failed'
  | 'not-started';

export const FAILED_CALLER_STATES: readonly CallerState[] = [
  'rolled-back',
  'preflight-failed',
  'rollback-incomplete',
  'failed',
];

export interface CallerRecord {
  readonly id: string;
  state: CallerState;
  workflowId?: string;
  runId?: string;
  startedAt?: string;
  /** When it moved and was held for its wave's end (`onStop: roll-back-wave`). */
  heldAt?: string;
  endedAt?: string;
  reason?: string;
  /** After a run: the caller's ARM id, where it answers, its identity and role assignment (for the inventory). */
  resourceId?: string;
  baseUrl?: string;
  principalId?: string;
  roleAssignmentId?: string;
  evidencePath?: string;
}

/** `failed`: the switch could not be made or undone (an activity out of retries): see the reason; keys may be off. */
export type AccountState =
  | 'waiting'
  | 'checking'
  | 'awaiting-approval'
  | 'switching'
  | 'baking'
  | 'off'
  | 'kept-on'
  | 'switched-back'
  | 'failed';

export interface AccountRecord {
  readonly name: string;
  state: AccountState;
  reason?: string;
  keyHolders?: KeyHolderScan;
  keyUsage?: KeyUsageObservation;
  /** Local auth was already off when the fleet looked: not the fleet's switch, never undone by it. */
  alreadyOff?: boolean;
  /** The account's endpoint, as its callers' migrations read it (for the proof that keys are refused). */
  endpoint?: string;
  switchedAt?: string;
}

/** What one run hands the next across continue-as-new. */
export interface FleetCarry {
  readonly nextWave: number;
  readonly callers: readonly CallerRecord[];
  readonly accounts: readonly AccountRecord[];
  readonly approvals: readonly ApprovalRecord[];
  readonly stages: readonly FleetStageProgress[];
  readonly startedAt: string;
  readonly runs: number;
  readonly stopped?: string;
}

export interface FleetInput {
  readonly plan: FleetPlan;
  readonly initiatedBy: string;
  readonly carry?: FleetCarry;
}

export type FleetOutcome = 'running' | 'succeeded' | 'stopped' | 'failed';

export interface FleetCounts {
  readonly pending: number;
  readonly running: number;
  readonly succeeded: number;
  /** Of `failed`: the callers whose migrations rolled back (the rest failed otherwise). */
  readonly rolledBack?: number;
  readonly failed: number;
}

/**
 * ARM requests as the governor of one worker process saw them when the fleet last asked (each worker process has
 * its own governor; with several workers this is one worker's share). Rates are over the last seconds.
 */
export interface ArmBudgetSample {
  readonly at: string;
  readonly classes: readonly {
    readonly class: string;
    readonly ratePerSec: number;
    /** The class's refill per subscription, and the subscriptions its requests went to. */
    readonly refillPerSec: number;
    readonly subscriptions: number;
    /** The fewest tokens left in one subscription's bucket (negative: requests wait for them). */
    readonly fewestTokens: number;
  }[];
  /** Since the worker started: requests that waited for a token, and 429 answers received. */
  readonly waits: number;
  readonly throttled: number;
}

const CLASS_NAMES: Readonly<Record<string, string>> = { roleAssignments: 'role assignments' };
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** One line for people: the worker's ARM rates against Azure's budgets, as the fleet last sampled them. */
export function describeArmBudget(b: ArmBudgetSample): string {
  const classes = b.classes.map(
    (c) =>
      `${CLASS_NAMES[c.class] ?? c.class} ${c.ratePerSec}/s (budget ${c.refillPerSec}/s × ${count(c.subscriptions, 'subscription')}${c.fewestTokens <= 0 ? ', a bucket is empty' : ''})`,
  );
  return `ARM (this worker, ${b.at.slice(11, 19)} UTC): ${classes.join(', ') || 'no requests yet'}; ${count(b.waits, 'request')} waited for budget, ${b.throttled} × 429`;
}

export interface FleetProgress {
  readonly workflowId: string;
  readonly changeTicket: string;
  readonly initiatedBy: string;
  readonly outcome: FleetOutcome;
  readonly reason?: string;
  readonly wave?: string;
  readonly stages: readonly FleetStageProgress[];
  readonly pendingGate?: PendingGate;
  readonly waitingFor?: string;
  readonly waves: readonly (FleetCounts & { readonly name: string })[];
  readonly accounts: readonly (FleetCounts & AccountRecord)[];
  readonly callers: readonly CallerRecord[];
  readonly approvals: readonly ApprovalRecord[];
  /** Runs of the fleet workflow so far (continue-as-new). */
  readonly runs: number;
  /** The ARM governor's rates, sampled while children run (fleets started before sampling have none). */
  readonly armBudget?: ArmBudgetSample;
}

export interface FleetEvidence {
  readonly schema: 'cutover.fleet-evidence/v1';
  readonly workflowId: string;
  /** The run that wrote the record (the last, after continue-as-new), and how many runs the fleet took. */
  readonly runId: string;
  readonly runs: number;
  readonly changeTicket: string;
  readonly initiatedBy: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: FleetOutcome;
  readonly reason?: string;
  readonly waves: readonly { readonly name: string; readonly callers: readonly string[] }[];
  /** Per account: its callers as they ended (kind, identity, role assignment), the last key checks, the switch. */
  readonly accounts: readonly (AccountRecord & {
    readonly callers: readonly (CallerRecord & { readonly kind: string })[];
  })[];
  readonly approvals: readonly ApprovalRecord[];
  readonly stages: readonly FleetStageProgress[];
}

export interface FleetResult {
  readonly outcome: FleetOutcome;
  readonly reason?: string;
  readonly evidence: FleetEvidence;
  readonly evidencePath?: string;
}

/** One fleet per change ticket at a time. */
export function fleetWorkflowId(changeTicket: string): string {
  return `cutover/fleet/${changeTicket}`.toLowerCase();
}

/** The child migration's plan: the template with the caller's own target, account and sections; keys stay on. */
export function callerPlan(plan: FleetPlan, index: number): MigrationPlan {
  const caller = plan.callers[index];
  const account = plan.accounts[caller.account];
  const merged = { ...plan.template, ...caller.overrides };
  return {
    ...merged,
    changeTicket: plan.changeTicket,
    ...(plan.description ? { description: plan.description } : {}),
    tenantId: plan.tenantId,
    subscriptionId: caller.subscriptionId,
    target: caller.target,
    account: { ...account.ref, deployment: account.deployment },
    // Inside a fleet the key switch is the account's, made by the fleet once every caller has moved.
    localAuth: { ...merged.localAuth, disable: false },
    approvals: { ...merged.approvals, beforeDisableLocalAuth: false },
  };
}
