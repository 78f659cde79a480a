/**
 * The per-account lock's contract: its messages and its id. Shared by the lock workflow, the migration workflow
 * (which asks for and releases the lock) and the activity that starts the lock with signal-with-start.
 */

export interface LockRequest {
  readonly requestId: string;
  readonly workflowId: string;
  readonly runId?: string;
  /** Longest the holder may keep the lock; then it is released for it. */
  readonly leaseMs: number;
  /** What the holder does under the lock, for people reading the lock's state. */
  readonly purpose: string;
}

export interface LockGrant {
  readonly requestId: string;
  readonly lockWorkflowId: string;
}

export interface AccountLockInput {
  /** ARM id of the account. */
  readonly resource: string;
  /** Carried over continue-as-new. */
  readonly queue?: readonly LockRequest[];
  readonly grants?: number;
}

export interface AccountLockState {
  readonly resource: string;
  readonly holder?: LockRequest & { readonly since: string };
  readonly queued: readonly LockRequest[];
  readonly grants: number;
}

/** Names of the lock's messages (`lockGranted` is sent by the lock to the requester). */
export const LOCK_MESSAGES = {
  request: 'requestLock',
  release: 'releaseLock',
  granted: 'lockGranted',
  state: 'lockState',
} as const;

export const ACCOUNT_LOCK_WORKFLOW = 'accountLock';

/**
 * One lock per account and task queue, whatever the casing of the account's id. The lock runs on the task queue of
 * the workers that use it: cutover deployments that share accounts share a task queue (a lock on another queue
 * would be served only while that queue's workers live).
 */
export function accountLockWorkflowId(taskQueue: string, accountResourceId: string): string {
  return `cutover-lock/${taskQueue}${accountResourceId.toLowerCase()}`;
}
