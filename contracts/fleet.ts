/**
 * A fleet: many callers of a few shared accounts, migrated in waves of child migrations, with one key switch per
 * account done by the parent once every caller of that account has moved. The fleet plan (plan/fleet.ts) resolves
 * to this input: every caller's plan is complete and validated before the workflow starts, so the workflow never
 * validates; it only merges a caller's fields over the template (`callerPlan`).
 */
import type { MigrationPlan } from '../plan/schema';
import type { AccountRef, Outcome } from './model';

/** The fields a caller sets over the fleet's template (its target, its account, and any per-caller override). */
export type CallerFields = Partial<
  Pick<
    MigrationPlan,
    'subscriptionId' | 'target' | 'account' | 'identity' | 'strategy' | 'settings' | 'smokeTest' | 'role' | 'budgets'
  >
> &
  Pick<MigrationPlan, 'subscriptionId' | 'target' | 'account'>;

export interface FleetCaller {
  /** The child's workflow id (`migrationWorkflowId` of its plan): one migration per caller at a time. */
  readonly id: string;
  /** Index into `FleetInput.accounts`. */
  readonly account: number;
  readonly fields: CallerFields;
}

export interface FailureThreshold {
  /** Stop the wave (start no more of its children) after this many failed children. */
  readonly maxFailures?: number;
  /** …or once this share of the wave's children (0–100) has failed. */
  readonly maxFailurePercent?: number;
}

export interface FleetWave {
  readonly name: string;
  /** Children of this wave in flight at once (a sliding window). */
  readonly concurrency: number;
  readonly failureThreshold: FailureThreshold;
  /** Watch the wave's callers this long after the last child succeeded before the next wave (or key switch). */
  readonly bakeMs: number;
  /** An approval gate before the wave starts. */
  readonly approval: boolean;
  /** Indexes into `FleetInput.callers`. */
  readonly callers: readonly number[];
}

export interface FleetAccount {
  readonly ref: AccountRef;
  readonly deployment: string;
  readonly keySwitch: {
    /** Switch the account's key auth off once all its callers moved. */
    readonly disable: boolean;
    /** An approval gate before the switch. */
    readonly approval: boolean;
    /** How long the account's logs must show no key call before the switch (0: the log check is off). */
    readonly quietPeriodMs: number;
    /** Watch after the switch before calling it done (a failure in it switches keys back on). */
    readonly bakeMs: number;
  };
}

export interface FleetInput {
  readonly fleetId: string;
  readonly changeTicket: string;
  readonly initiatedBy: string;
  /** Every field of a child's plan that no caller overrides; its `localAuth.disable` is false (the parent switches). */
  readonly template: MigrationPlan;
  readonly accounts: readonly FleetAccount[];
  readonly callers: readonly FleetCaller[];
  readonly waves: readonly FleetWave[];
  /** What an abort or a stopped wave rolls back: the children still running, or the whole current wave. */
  readonly onAbort: 'running' | 'wave';
  readonly approvals: { readonly fourEyes: boolean; readonly timeoutMs: number };
  /** Continue-as-new once the history has this many events (tests set it tiny). */
  readonly continueAsNewAfterEvents?: number;
}

/** A caller's child migration plan: the template with the caller's fields over it, never switching keys. */
export function callerPlan(input: Pick<FleetInput, 'template' | 'changeTicket'>, caller: FleetCaller): MigrationPlan {
  return {
    ...input.template,
    ...caller.fields,
    changeTicket: input.changeTicket,
    localAuth: { ...input.template.localAuth, disable: false },
  };
}

/** Where one caller is in the fleet. */
export type CallerState = 'pending' | 'running' | Outcome;

export function fleetWorkflowId(changeTicket: string): string {
  return `cutover/fleet/${changeTicket}`.toLowerCase();
}
