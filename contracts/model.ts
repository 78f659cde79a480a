/**
 * The data that crosses the workflow ↔ activity ↔ client boundary. Everything here is plain, serializable and
 * free of secrets: setting values appear only as fingerprints unless they are provably not secret.
 */
import type { MigrationPlan, TargetKind } from '../plan/schema';
import type { AnalysisRecord, ConsumedDowntime, KeyUsageObservation } from './observation';
import type { TrafficBefore } from './traffic';

/**
 * A caller of the account as the activities address it: for App Service an app or one of its slots (`slot` absent =
 * production). `kind` is absent in refs recorded before plans named a kind: they are App Service.
 */
export interface TargetRef {
  readonly kind?: TargetKind;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly slot?: string;
}

/** The name every recorded history and compensation uses for a target ref. */
export type SiteRef = TargetRef;

export interface AccountRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

/**
 * How a setting's earlier value can be brought back on rollback without the value ever entering history:
 * - `absent`: the setting did not exist;
 * - `plain`: not secret; `value` kept verbatim;
 * - `key-vault-reference`: an `@Microsoft.KeyVault(...)` reference, kept verbatim (it names a secret, holds none);
 * - `account-key`: one of the account's keys (`key1`/`key2`), read again from Azure on restore;
 * - `secret`: looks secret and is not an account key: cannot be restored, so preflight refuses to touch it.
 */
export type SettingSnapshot =
  | { readonly kind: 'absent' }
  | { readonly kind: 'plain'; readonly fingerprint: string; readonly value: string }
  | { readonly kind: 'key-vault-reference'; readonly fingerprint: string; readonly value: string }
  | { readonly kind: 'account-key'; readonly fingerprint: string; readonly keyName: 'key1' | 'key2' }
  | { readonly kind: 'secret'; readonly fingerprint: string };

export interface IdentitySnapshot {
  /** Azure's identity type: None, SystemAssigned, UserAssigned, "SystemAssigned, UserAssigned". */
  readonly type: string;
  readonly principalId?: string;
  /** ARM ids of attached user-assigned identities, lower-cased. */
  readonly userAssignedIdentityIds: readonly string[];
}

export interface SiteSnapshot {
  readonly site: SiteRef;
  readonly resourceId: string;
  /** Where the app answers, e.g. https://claims-bot.azurewebsites.net. */
  readonly baseUrl: string;
  readonly identity: IdentitySnapshot;
  /** Names of every app setting (values never recorded). */
  readonly settingNames: readonly string[];
  /** The settings this migration touches, as they were. */
  readonly touchedSettings: Readonly<Record<string, SettingSnapshot>>;
  /** Slot-sticky setting names (production's list; it applies to every slot), read for a slot swap; in place, none. */
  readonly slotConfigNames: readonly string[];
}

export interface RoleAssignmentSnapshot {
  readonly id: string;
  readonly name: string;
  readonly principalId: string;
  readonly roleDefinitionId: string;
  readonly scope: string;
}

/** Everything preflight read, before anything changed: the reference for rollback and for evidence. */
export interface BeforeState {
  readonly capturedAt: string;
  /** The sites the migration changes: the target, plus the staging slot for slot-swap. */
  readonly sites: readonly SiteSnapshot[];
  readonly account: {
    readonly ref: AccountRef;
    readonly resourceId: string;
    readonly endpoint: string;
    readonly customSubDomainName?: string;
    readonly disableLocalAuth: boolean;
    readonly keyFingerprints: readonly string[];
  };
  readonly role: { readonly name: string; readonly definitionId: string };
  readonly userAssignedIdentity?: {
    readonly resourceId: string;
    readonly principalId: string;
    readonly clientId: string;
    readonly tenantId: string;
  };
  /** Role assignments on the account scope (and inherited) that exist already. */
  readonly roleAssignments: readonly RoleAssignmentSnapshot[];
  /** Who else holds the account key, leaving out what this migration will move (when it is to disable local auth). */
  readonly keyHolders?: KeyHolderScan;
  /** Non-blocking observations for the change manager. */
  readonly warnings: readonly string[];
}

export interface PreflightProblem {
  readonly check: string;
  readonly message: string;
  readonly hint?: string;
}

export interface EnableIdentityResult {
  readonly principalId: string;
  readonly clientId?: string;
  readonly changed: boolean;
}

export interface RoleAssignmentResult {
  readonly roleAssignmentId: string;
  readonly name: string;
  readonly scope: string;
  readonly principalId: string;
  /** False when the same (principal, role, scope) existed already: never ours to delete. */
  readonly ours: boolean;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly authMode?: string;
  readonly requestId?: string;
  /** Azure's error code as reported by the app (PermissionDenied, AuthenticationTypeDisabled …) or a network error. */
  readonly errorCode?: string;
  readonly message?: string;
  readonly at: string;
}

export interface KeyCaller {
  readonly siteResourceId: string;
  /** Its kind of caller (`function-app` for a function app), when the scan could tell. */
  readonly kind?: TargetKind;
  readonly settingNames: readonly string[];
  /** Set when the app's settings could not be read: it might use the key, so it counts as a caller. */
  readonly unverifiable?: string;
}

/** A caller that holds (or may hold) one of an account's keys. Names and ids only, never a value. */
export interface KeyHolder {
  /** ARM id of the app or slot. */
  readonly resourceId: string;
  /** Its kind of caller (`function-app` for a function app), when the scan could tell. */
  readonly kind?: TargetKind;
  /** Settings that hold a key, directly or through a Key Vault reference. */
  readonly settingNames: readonly string[];
  /** Key Vault references whose secret is one of the account's keys (or could not be read). */
  readonly references?: readonly { readonly setting: string; readonly vault: string; readonly secret: string }[];
  /** Why it might hold a key although that could not be proven either way (counts as a holder). */
  readonly unverifiable?: string;
  /** Its resource tags, when it has any (fleet discovery filters on them). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** One subscription (or other scope) the key-holder check looked at. */
export interface ScannedScope {
  readonly scope: string;
  readonly name?: string;
  readonly status: 'scanned' | 'unreadable';
  readonly reason?: string;
  /** Apps and slots whose settings were read. */
  readonly resources: number;
}

/**
 * The key-holder check of an account: every readable subscription's apps and slots, their settings and the Key
 * Vault secrets they reference, compared with the account's keys. `clear` only when nothing holds a key and every
 * scope could be read; anything unreadable makes it `inconclusive`, which is handled like `holders`.
 */
export interface KeyHolderScan {
  readonly account: string;
  readonly scannedAt: string;
  readonly verdict: 'clear' | 'holders' | 'inconclusive';
  readonly holders: readonly KeyHolder[];
  readonly scopes: readonly ScannedScope[];
  /** What this migration moved off the key (or will): not counted. */
  readonly excluded: readonly string[];
  /** Apps with a reference the worker could not read, left out because no setting of theirs names the account. */
  readonly ignored?: readonly { readonly resourceId: string; readonly reason: string }[];
  /** Local auth is already off: the keys cannot be read, and nobody can be calling with them. */
  readonly localAuthDisabled?: boolean;
}

/**
 * How to tell from production's settings alone whether a swap has happened: production is "migrated" when every
 * `remove` setting is absent and every `set` setting has its value. Makes swap and swap-back idempotent.
 */
export interface SwapMarker {
  readonly remove: readonly string[];
  readonly set: Readonly<Record<string, string>>;
}

/** A step of rollback, recorded before the change it undoes. Plain data so it survives in history. */
export type Compensation =
  | { readonly kind: 'restore-identity'; readonly site: SiteRef; readonly before: IdentitySnapshot }
  | {
      readonly kind: 'delete-role-assignment';
      readonly scope: string;
      readonly principalId: string;
      readonly roleDefinitionId: string;
      /** Names that existed before this run: never deleted. */
      readonly preExistingNames: readonly string[];
    }
  | {
      readonly kind: 'restore-settings';
      readonly site: SiteRef;
      readonly before: Readonly<Record<string, SettingSnapshot>>;
      readonly account: AccountRef;
    }
  | { readonly kind: 'swap-back'; readonly site: SiteRef; readonly slot: string; readonly marker: SwapMarker }
  | { readonly kind: 'enable-local-auth'; readonly account: AccountRef }
  /**
   * A container app's traffic shift: the traffic as it was (pinned by revision name once `revision` exists: it is
   * the latest from then on), revisions (de)activated.
   */
  | {
      readonly kind: 'restore-traffic';
      readonly site: SiteRef;
      readonly before: TrafficBefore;
      readonly revision: string;
    }
  | {
      readonly kind: 'set-revisions-active';
      readonly site: SiteRef;
      readonly revisions: readonly string[];
      readonly active: boolean;
    }
  /** A container app's secret that held the key, removed after the key switch: which key it held, never its value. */
  | {
      readonly kind: 'restore-secret';
      readonly site: SiteRef;
      readonly secret: string;
      readonly keyName: 'key1' | 'key2';
      readonly account: AccountRef;
    };

export type StageId =
  | 'preflight'
  | 'identity'
  | 'role'
  | 'propagation'
  | 'approve-settings'
  | 'settings'
  | 'analysis'
  | 'key-holders'
  | 'approve-local-auth'
  | 'local-auth'
  | 'key-analysis'
  | 'rollback'
  | 'evidence';

export type StageStatus = 'pending' | 'running' | 'waiting' | 'done' | 'skipped' | 'failed' | 'rolled-back' | 'blocked';

export interface StageProgress {
  readonly id: StageId;
  readonly title: string;
  status: StageStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

/** `key-usage`: acknowledge switching keys off without log evidence; `analysis`, `key-analysis`: an inconclusive analysis. */
/** Fleets add `wave-<n>` (before a wave) and `keys-<n>` (before an account's key switch). */
export type GateId =
  | 'settings'
  | 'local-auth'
  | 'key-usage'
  | 'analysis'
  | 'key-analysis'
  | 'revoke'
  | `wave-${number}`
  | `keys-${number}`;

export interface PendingGate {
  readonly gate: GateId;
  readonly title: string;
  readonly openedAt: string;
  readonly deadline?: string;
}

export interface ApprovalRecord {
  readonly gate: GateId;
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly comment?: string;
  readonly at: string;
}

export interface CompensationRecord {
  readonly kind: Compensation['kind'];
  readonly description: string;
  status: 'pending' | 'done' | 'failed' | 'skipped';
  error?: string;
  skippedBy?: string;
  reason?: string;
  attempts: number;
}

export type Outcome = 'running' | 'succeeded' | 'rolled-back' | 'rollback-incomplete' | 'preflight-failed' | 'failed';

export interface BlockedRollback {
  readonly compensation: string;
  readonly error: string;
  readonly since: string;
}

export interface MigrationProgress {
  readonly workflowId: string;
  readonly changeTicket: string;
  readonly initiatedBy: string;
  readonly stage: StageId;
  readonly stages: readonly StageProgress[];
  readonly pendingGate?: PendingGate;
  readonly blocked?: BlockedRollback;
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly waitingFor?: string;
  /** The latest key-holder check (who else still holds the account key). */
  readonly keyHolders?: KeyHolderScan;
  /** The latest look at the account's diagnostic logs for key calls. */
  readonly keyUsage?: KeyUsageObservation;
  /** Analyses after the traffic changes, with their measurements as they arrive. */
  readonly analyses?: readonly AnalysisRecord[];
  readonly approvals: readonly ApprovalRecord[];
}

export interface SmokeTestRecord {
  readonly target: string;
  readonly passed: boolean;
  readonly status?: number;
  readonly requestId?: string;
  readonly errorCode?: string;
  /** When this answer came (the first of its repeats). */
  readonly at: string;
  /** Attempts in a row that gave this answer, when more than one: a poll inside one activity records changes. */
  readonly repeats?: number;
}

/** The audit record every run leaves, whatever its outcome. Names and ids only. */
export interface Evidence {
  readonly schema: 'cutover.evidence/v1';
  readonly workflowId: string;
  readonly runId: string;
  readonly changeTicket: string;
  readonly description?: string;
  readonly initiatedBy: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly plan: MigrationPlan;
  readonly approvals: readonly ApprovalRecord[];
  readonly resourcesTouched: readonly string[];
  readonly identity?: { readonly type: string; readonly principalIds: readonly string[]; readonly clientId?: string };
  readonly roleAssignments: readonly RoleAssignmentResult[];
  readonly settingsChanged: {
    readonly removed: readonly string[];
    readonly set: readonly string[];
    readonly sites: readonly string[];
  };
  readonly localAuth: {
    readonly before?: boolean;
    readonly after?: boolean;
    readonly skippedBecause?: string;
    /** The last key-holder check: every scope scanned or unreadable, every holder found. */
    readonly keyHolders?: KeyHolderScan;
    /** Every look at the account's logs for key calls, with its query (the last is the one the switch relied on). */
    readonly keyUsage?: readonly KeyUsageObservation[];
  };
  /** The analyses after the traffic changes: queries, measurements, verdicts. */
  readonly analyses?: readonly AnalysisRecord[];
  /** Downtime as Azure Monitor counted it (failed requests, and their window). */
  readonly consumedDowntime?: ConsumedDowntime;
  readonly stages: readonly StageProgress[];
  readonly downtimeMs?: number;
  readonly smokeTests: readonly SmokeTestRecord[];
  readonly compensations: readonly CompensationRecord[];
  readonly preflightProblems?: readonly PreflightProblem[];
  readonly warnings: readonly string[];
  readonly before?: BeforeState;
  /** Notices sent to the plan's webhooks before the record was written, and whether each was delivered. */
  readonly notifications?: readonly {
    readonly event: string;
    readonly webhook: string;
    readonly delivered?: boolean;
    readonly status?: number;
    readonly attempts?: number;
    readonly error?: string;
  }[];
}

export interface MigrationInput {
  readonly plan: MigrationPlan;
  /** Who started the migration (the CLI's --as, else the OS user): recorded, and used by the four-eyes rule. */
  readonly initiatedBy: string;
  /** Set by a fleet whose plan rolls a stopped wave back whole (`onStop: roll-back-wave`). */
  readonly waveHold?: WaveHold;
}

/**
 * A fleet child that has moved its caller does not end: it tells the fleet (signal `callerHeld`) and waits for the
 * wave's end (signal `waveEnded`): kept, it ends succeeded; rolled back, it undoes its own changes, in reverse.
 */
export interface WaveHold {
  /** The fleet's workflow id, which the child signals. */
  readonly fleetWorkflowId: string;
  /** The caller's index in the fleet plan. */
  readonly caller: number;
  readonly wave: string;
  /** How long the child waits for the wave's end before it keeps its change (a fleet that vanished). */
  readonly timeoutMs: number;
}

export interface WaveEnd {
  readonly decision: 'keep' | 'roll-back';
  /** Why the wave is rolled back. */
  readonly reason?: string;
}

export interface MigrationResult {
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly evidence: Evidence;
  /** Where the worker wrote the evidence file. */
  readonly evidencePath?: string;
}
