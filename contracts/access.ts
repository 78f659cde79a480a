/**
 * Taking data-plane access away (`cutover revoke`) and reviewing it (`cutover review`): the request, what was found
 * and removed, and the evidence. Ids, names and times only: never a key or token.
 */
import type {
  AccountRef,
  ApprovalRecord,
  BlockedRollback,
  CompensationRecord,
  PendingGate,
  StageStatus,
} from './model';

export interface RevokeStageProgress {
  readonly id: RevokeStage;
  readonly title: string;
  status: StageStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

/** Whose access is revoked: a user-assigned identity, an app's system identity, or any principal by object id. */
export type AccessSubject =
  | { readonly kind: 'identity'; readonly resourceId: string }
  | {
      readonly kind: 'app';
      readonly subscriptionId: string;
      readonly resourceGroup: string;
      readonly name: string;
      readonly slot?: string;
    }
  | { readonly kind: 'principal'; readonly objectId: string };

/** A subject resolved: its object id, and the identity probes of the apps that call with it. */
export interface ResolvedSubject {
  readonly objectId: string;
  readonly label: string;
  /** Each app calling with it: its identity probe, and the accounts its settings point at (empty: unknown). */
  readonly probes: readonly { readonly app: string; readonly url: string; readonly accounts: readonly string[] }[];
}

export interface RevokeRequest {
  readonly changeTicket: string;
  readonly reason: string;
  readonly subject: AccessSubject;
  /**
   * The accounts to remove access from; absent: every Azure OpenAI account of `subscriptionIds` (empty: of every
   * subscription the worker can read).
   */
  readonly accounts?: readonly AccountRef[];
  readonly subscriptionIds: readonly string[];
  /** No gate at all (an identity is compromised): the removal starts at once. */
  readonly emergency: boolean;
  /** A gate before anything is removed (ignored in emergency mode). */
  readonly approval: boolean;
  readonly fourEyes: boolean;
  readonly approvalTimeoutMs: number;
  /** How long to wait for the data plane to refuse the subject once its grants are gone. */
  readonly refusalTimeoutMs: number;
  readonly pollIntervalMs: number;
  /** The identity probe path of the apps using the subject (`/health/identity`), or `none`. */
  readonly probePath: string;
  /** Log Analytics ingestion delay, for the logs when no app probe exists. */
  readonly logIngestionDelayMs: number;
}

export interface RevokeInput {
  readonly request: RevokeRequest;
  readonly initiatedBy: string;
}

/** A role assignment that matters to a revoke. */
export interface Grant {
  readonly id: string;
  readonly scope: string;
  readonly role: string;
  readonly principalId: string;
  readonly principalType?: string;
  /** The accounts (names) it reaches. */
  readonly accounts: readonly string[];
}

export interface AccessFindings {
  readonly subject: ResolvedSubject;
  readonly accounts: readonly string[];
  /** Direct grants of an Azure OpenAI data action: what a revoke removes. */
  readonly toRemove: readonly Grant[];
  /** Grants through a group the subject belongs to: reported, never touched. */
  readonly inherited: readonly Grant[];
  /** The subject's other assignments on those scopes (no Azure OpenAI data action): never touched. */
  readonly otherKinds: readonly Grant[];
}

export interface RefusalMeasurement {
  readonly method: 'probe' | 'logs';
  /** Every probe (or the logs) refused the subject. */
  readonly refused: boolean;
  readonly firstRefusedAt?: string;
  /** From the last removal to the first moment every caller was refused. */
  readonly measuredMs?: number;
  readonly checks: number;
  readonly detail: string;
}

export type RevokeStage = 'find' | 'approve' | 'remove' | 'refused' | 'evidence';
export type RevokeOutcome = 'running' | 'revoked' | 'nothing-to-revoke' | 'rejected' | 'incomplete' | 'failed';

export interface RevokeProgress {
  readonly workflowId: string;
  readonly changeTicket: string;
  readonly initiatedBy: string;
  readonly stage: RevokeStage;
  readonly stages: readonly RevokeStageProgress[];
  readonly outcome: RevokeOutcome;
  readonly reason?: string;
  readonly findings?: AccessFindings;
  readonly pendingGate?: PendingGate;
  readonly blocked?: BlockedRollback;
  readonly waitingFor?: string;
}

export interface RevokeEvidence {
  readonly schema: 'cutover.revoke-evidence/v1';
  readonly workflowId: string;
  readonly runId: string;
  readonly changeTicket: string;
  readonly reason: string;
  readonly initiatedBy: string;
  readonly emergency: boolean;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: RevokeOutcome;
  readonly why?: string;
  readonly request: RevokeRequest;
  readonly findings?: AccessFindings;
  readonly approvals: readonly ApprovalRecord[];
  /** Each removal: done, skipped by an operator (still in place), or failed. */
  readonly removals: readonly (CompensationRecord & { readonly grant: Grant; readonly removedAt?: string })[];
  readonly remaining: readonly Grant[];
  readonly refusal?: RefusalMeasurement;
  readonly warnings: readonly string[];
  readonly stages: readonly RevokeStageProgress[];
}

export interface RevokeResult {
  readonly outcome: RevokeOutcome;
  readonly evidence: RevokeEvidence;
  readonly evidencePath?: string;
}

/** The workflow id of a revoke: one at a time per subject. */
export function revokeWorkflowId(subject: AccessSubject): string {
  switch (subject.kind) {
    case 'principal':
      return `cutover/revoke/principal/${subject.objectId.toLowerCase()}`;
    case 'app':
      return `cutover/revoke/app/${subject.subscriptionId}/${subject.resourceGroup}/${subject.name}${subject.slot ? `/${subject.slot}` : ''}`.toLowerCase();
    case 'identity':
      return `cutover/revoke/identity${subject.resourceId
        .replace(/^\/subscriptions/i, '')
        .replace(/\/resourceGroups/i, '')
        .replace(/\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities/i, '')}`.toLowerCase();
  }
}
