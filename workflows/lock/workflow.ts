/**
 * `accountLock`: one per Azure OpenAI account, so that only one cutover run at a time switches the account's key
 * auth. Key auth is a switch of the account, not of an app: two runs that update it together collide in Azure
 * (409 while an update is in progress) and, worse, cannot tell whose change a disabled account is. Under the lock a
 * run reads the account, owns the change it makes, and undoes only that.
 *
 * The mutex pattern of Temporal's samples: a requester signals `requestLock` through signal-with-start (an
 * activity), the lock grants the head of its queue by signalling `lockGranted` back to the requester, and waits
 * for `releaseLock` — or for the holder's lease to run out, so a terminated holder cannot keep the account locked.
 * It ends once idle and continues as new before its history grows long, carrying its queue.
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

import {
  type AccountLockInput,
  type AccountLockState,
  LOCK_MESSAGES,
  type LockGrant,
  type LockRequest,
} from '../../contracts/lock';

export const requestLockSignal = defineSignal<[LockRequest]>(LOCK_MESSAGES.request);
export const releaseLockSignal = defineSignal<[{ readonly requestId: string }]>(LOCK_MESSAGES.release);
/** Sent by the lock to the requester. */
export const lockGrantedSignal = defineSignal<[LockGrant]>(LOCK_MESSAGES.granted);
export const lockStateQuery = defineQuery<AccountLockState>(LOCK_MESSAGES.state);

/** How long an idle lock lingers for the next request before it ends. */
const LINGER = '1 minute';
/** Grants per run before continue-as-new (each grant costs ~10 events). */
const GRANTS_PER_RUN = 200;

export async function accountLock(input: AccountLockInput): Promise<void> {
  const queue: LockRequest[] = [...(input.queue ?? [])];
  const released = new Set<string>();
  let grants = input.grants ?? 0;
  let holder: (LockRequest & { since: string }) | undefined;

  setHandler(requestLockSignal, (r) => {
    if (holder?.requestId !== r.requestId && !queue.some((q) => q.requestId === r.requestId)) queue.push(r);
  });
  setHandler(releaseLockSignal, ({ requestId }) => {
    const waiting = queue.findIndex((q) => q.requestId === requestId);
    if (holder?.requestId === requestId) released.add(requestId);
    else if (waiting >= 0) queue.splice(waiting, 1); // gave up before its turn
  });
  setHandler(lockStateQuery, () => ({
    resource: input.resource,
    ...(holder ? { holder } : {}),
    queued: queue,
    grants,
  }));

  for (let granted = 0; ;) {
    if (queue.length === 0 && !(await condition(() => queue.length > 0, LINGER))) return;
    const next = queue.shift()!;
    holder = { ...next, since: new Date().toISOString() };
    try {
      await getExternalWorkflowHandle(next.workflowId, next.runId).signal(lockGrantedSignal, {
        requestId: next.requestId,
        lockWorkflowId: workflowInfo().workflowId,
      });
    } catch {
      holder = undefined; // the requester has ended: nobody to grant
      continue;
    }
    await condition(() => released.has(next.requestId), next.leaseMs);
    released.delete(next.requestId);
    holder = undefined;
    grants++;
    granted++;
    if (granted >= GRANTS_PER_RUN || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof accountLock>({ resource: input.resource, queue, grants });
  }
}
