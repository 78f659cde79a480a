/**
 * The account's key-switch lock (see workflows/lock/workflow.ts): requested through an activity (signal-with-start),
 * granted by a signal from the lock workflow, released by a signal to it.
 */
import { condition, getExternalWorkflowHandle, setHandler, uuid4 } from '@temporalio/workflow';
import { accountLockWorkflowId, type LockGrant } from '../../../contracts/lock';
import { targetOf } from '../../../plan/schema';
import { StageFailure } from '../../kit/failures';
import { lockGrantedSignal, releaseLockSignal } from '../../lock/workflow';
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

export class AccountLock {
  readonly workflowId: string;
  private requestId: string | undefined;
  private grant: LockGrant | undefined;

  constructor(private readonly run: MigrationRun) {
    const { account } = run.plan;
    this.workflowId = accountLockWorkflowId(
      run.info.taskQueue,
      `/subscriptions/${account.subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account.name}`,
    );
    setHandler(lockGrantedSignal, (g) => {
      if (g.requestId === this.requestId) this.grant = g;
    });
  }

  async acquire(): Promise<void> {
    const { run } = this;
    const { plan, board } = run;
    this.requestId = uuid4();
    this.grant = undefined;
    const leaseMs = plan.budgets.localAuthSwitchMs + 2 * plan.budgets.downtimeMs + 600_000;
    await arm.requestAccountLock.executeWithOptions({ ...armCall, summary: 'queue for the key-switch lock' }, [
      {
        lockWorkflowId: this.workflowId,
        resource: run.b.account.resourceId,
        request: {
          requestId: this.requestId,
          workflowId: run.info.workflowId,
          runId: run.info.runId,
          leaseMs,
          purpose: `${plan.changeTicket}: ${targetOf(plan).name}`,
        },
      },
    ]);
    if (await condition(() => this.grant !== undefined, '2s')) return;
    board.wait(
      'local-auth',
      `another cutover run is switching key auth on ${plan.account.name}: queued for its lock (${this.workflowId})`,
    );
    board.mark('local-auth', 'waiting');
    board.refresh();
    if (!(await condition(() => this.grant !== undefined, plan.budgets.approvalTimeoutMs)))
      throw new StageFailure('local-auth', `the key switch of ${plan.account.name} stayed locked by another run`);
    board.mark('local-auth', 'running');
    board.waitingFor = undefined;
    board.refresh();
  }

  /** Idempotent; never fails the migration (a lock whose lease ran out has let go already). */
  async release(): Promise<void> {
    const requestId = this.requestId;
    if (!requestId) return;
    this.requestId = undefined;
    this.grant = undefined;
    try {
      await getExternalWorkflowHandle(this.workflowId).signal(releaseLockSignal, { requestId });
    } catch {
      // The lock has ended: nothing to release.
    }
  }
}
