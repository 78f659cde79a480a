/**
 * Holding an account's key-switch lock (see workflows/lock/workflow.ts) from any workflow: the request goes out
 * through an activity (signal-with-start of the lock), the grant comes back as a signal, the release is a signal to
 * the lock. One holder per workflow, since the grant signal has one handler; it holds one account at a time.
 */
import { condition, getExternalWorkflowHandle, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { accountLockWorkflowId, type LockGrant, type LockRequest } from '../../contracts/lock';
import { lockGrantedSignal, releaseLockSignal } from '../lock/workflow';

export interface LockAsk {
  /** ARM id of the account. */
  readonly resource: string;
  /** The lock workflow, when the caller names it (default: the one of `resource` on this task queue). */
  readonly lockWorkflowId?: string;
  readonly purpose: string;
  readonly leaseMs: number;
  /** Longest to queue behind another holder. */
  readonly timeoutMs: number;
  /** Sends the request (an activity: signal-with-start of the lock workflow). */
  readonly request: (input: { lockWorkflowId: string; resource: string; request: LockRequest }) => Promise<unknown>;
  /** Told when the lock is not granted at once (another run holds it), and when it is granted after queueing. */
  readonly onQueued?: (lockWorkflowId: string) => void;
  readonly onGranted?: () => void;
  /** The failure to throw when the lock stays held by another run past `timeoutMs`. */
  readonly onTimeout: () => Error;
}

export class AccountLockHolder {
  private requestId: string | undefined;
  private grant: LockGrant | undefined;
  private lockWorkflowId: string | undefined;

  constructor() {
    setHandler(lockGrantedSignal, (g) => {
      if (g.requestId === this.requestId) this.grant = g;
    });
  }

  /** The lock workflow of `resource` on this workflow's task queue. */
  static lockWorkflowId(resource: string): string {
    return accountLockWorkflowId(workflowInfo().taskQueue, resource);
  }

  async acquire(ask: LockAsk): Promise<void> {
    const info = workflowInfo();
    const lockWorkflowId = ask.lockWorkflowId ?? AccountLockHolder.lockWorkflowId(ask.resource);
    this.lockWorkflowId = lockWorkflowId;
    this.requestId = uuid4();
    this.grant = undefined;
    await ask.request({
      lockWorkflowId,
      resource: ask.resource,
      request: {
        requestId: this.requestId,
        workflowId: info.workflowId,
        runId: info.runId,
        leaseMs: ask.leaseMs,
        purpose: ask.purpose,
      },
    });
    if (await condition(() => this.grant !== undefined, '2s')) return;
    ask.onQueued?.(lockWorkflowId);
    if (!(await condition(() => this.grant !== undefined, ask.timeoutMs))) throw ask.onTimeout();
    ask.onGranted?.();
  }

  /** Idempotent; never fails the run (a lock whose lease ran out has let go already). */
  async release(): Promise<void> {
    const { requestId, lockWorkflowId } = this;
    if (!requestId || !lockWorkflowId) return;
    this.requestId = undefined;
    this.grant = undefined;
    try {
      await getExternalWorkflowHandle(lockWorkflowId).signal(releaseLockSignal, { requestId });
    } catch {
      // The lock has ended: nothing to release.
    }
  }
}
