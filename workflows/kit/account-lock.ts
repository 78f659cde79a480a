/**
 * Holding accounts' key-switch locks (see workflows/lock/workflow.ts) from any workflow: a request goes out through
 * an activity (signal-with-start of the account's lock), its grant comes back as a signal, the release is a signal
 * to the lock. One `AccountLocks` per workflow (the grant signal has one handler); it may hold the locks of several
 * accounts at once, each hold released on its own.
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

/** One account's lock, held: release it once (again is a no-op). */
export interface HeldLock {
  release(): Promise<void>;
}

export class AccountLocks {
  /** Requests this workflow waits on or holds, by request id, with their grant once it came. */
  private readonly requests = new Map<string, LockGrant | undefined>();

  constructor() {
    setHandler(lockGrantedSignal, (g) => {
      if (this.requests.has(g.requestId)) this.requests.set(g.requestId, g);
    });
  }

  async acquire(ask: LockAsk): Promise<HeldLock> {
    const info = workflowInfo();
    const lockWorkflowId = ask.lockWorkflowId ?? accountLockWorkflowId(info.taskQueue, ask.resource);
    const requestId = uuid4();
    this.requests.set(requestId, undefined);
    const held: HeldLock = {
      release: async () => {
        if (!this.requests.delete(requestId)) return;
        try {
          await getExternalWorkflowHandle(lockWorkflowId).signal(releaseLockSignal, { requestId });
        } catch {
          // The lock has ended: nothing to release.
        }
      },
    };
    const granted = () => this.requests.get(requestId) !== undefined;
    await ask.request({
      lockWorkflowId,
      resource: ask.resource,
      request: {
        requestId,
        workflowId: info.workflowId,
        runId: info.runId,
        leaseMs: ask.leaseMs,
        purpose: ask.purpose,
      },
    });
    if (await condition(granted, '2s')) return held;
    ask.onQueued?.(lockWorkflowId);
    if (!(await condition(granted, ask.timeoutMs))) {
      // Still queued: the request's lease lets the lock go on without it (no signal here: recorded migrations
      // replay this path).
      this.requests.delete(requestId);
      throw ask.onTimeout();
    }
    ask.onGranted?.();
    return held;
  }
}
