/** The migration's hold on its account's key-switch lock (workflows/kit/account-lock.ts), shown on its board. */
import { accountResourceId } from '../../../contracts/ids';
import type { StageId } from '../../../contracts/model';
import { accountLockWorkflowId } from '../../../contracts/lock';
import { targetOf } from '../../../plan/schema';
import { AccountLocks, type HeldLock } from '../../kit/account-lock';
import { StageFailure } from '../../kit/failures';
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

export class AccountLock {
  readonly workflowId: string;
  private readonly locks = new AccountLocks();
  private held: HeldLock | undefined;

  constructor(private readonly run: MigrationRun) {
    const { account } = run.plan;
    this.workflowId = accountLockWorkflowId(run.info.taskQueue, accountResourceId(account));
  }

  /** Waits for the account's lock; while queued, `stage` (the key switch, or the check a lean run makes under it) says so. */
  async acquire(stage: StageId = 'local-auth'): Promise<void> {
    const { run } = this;
    const { plan, board } = run;
    this.held = await this.locks.acquire({
      resource: run.b.account.resourceId,
      lockWorkflowId: this.workflowId,
      purpose: `${plan.changeTicket}: ${targetOf(plan).name}`,
      leaseMs: plan.budgets.localAuthSwitchMs + 2 * plan.budgets.downtimeMs + 600_000,
      timeoutMs: plan.budgets.approvalTimeoutMs,
      request: (input) =>
        arm.requestAccountLock.executeWithOptions({ ...armCall, summary: 'queue for the key-switch lock' }, [input]),
      onQueued: () => {
        board.wait(
          stage,
          `another cutover run is switching key auth on ${plan.account.name}: queued for its lock (${this.workflowId})`,
        );
        board.mark(stage, 'waiting');
        board.refresh();
      },
      onGranted: () => {
        board.mark(stage, 'running');
        board.waitingFor = undefined;
        board.refresh();
      },
      onTimeout: () =>
        new StageFailure('local-auth', `the key switch of ${plan.account.name} stayed locked by another run`),
    });
  }

  /** Idempotent; never fails the migration. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    await held?.release();
  }
}
