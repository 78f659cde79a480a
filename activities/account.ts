/**
 * Activities on the account: the role assignment, the key-holder check (once, or waiting for it to change), the
 * per-account lock (signal-with-start of the `accountLock` workflow), and the key-auth switch with its proof.
 */
import type { Client } from '@temporalio/client';
import { CutoverFailure, FailureType } from '../contracts/failures';
import { keyCallersOf, scanSignature } from '../contracts/key-holders';
import { ACCOUNT_LOCK_WORKFLOW, type AccountLockInput, LOCK_MESSAGES, type LockRequest } from '../contracts/lock';
import type { AccountRef, KeyCaller, KeyHolderScan } from '../contracts/model';
import { readAccountState, setLocalAuth } from '../azure/account';
import type { AzureContext } from '../azure/context';
import { findKeyHolders, findKeyHoldersOfAccounts, type KeyHolderQuery } from '../azure/inventory';
import { type KeysRefusedInput, verifyKeysRefused } from '../azure/probes';
import { assignRole, deleteRoleAssignment, type RoleGrant } from '../azure/roles';
import { activityTaskQueue, previousHeartbeat } from './context';

export interface WaitForKeyHoldersInput extends KeyHolderQuery {
  /** The answer the caller already knows (`signature` of its scan): return when the answer differs. */
  readonly since: string;
  readonly recheckIntervalMs: number;
  /** Longest this call polls before returning the unchanged answer (the workflow's history grows per return). */
  readonly windowMs: number;
}

export interface WaitForKeyHoldersResult {
  readonly scan: KeyHolderScan;
  readonly reason: 'clear' | 'changed' | 'window';
  readonly checks: number;
}

export function accountActivities(ctx: AzureContext, temporal?: { readonly client: Client }) {
  /**
   * Polls the key-holder check every `recheckIntervalMs` inside one activity (Temporal's pattern for frequent
   * polling: a successor resumes from the heartbeat), returning as soon as nobody holds the key or the answer
   * changes, and at the latest after `windowMs`. A multi-day wait thus writes a few events per window, not per check.
   */
  async function waitForKeyHolders(input: WaitForKeyHoldersInput): Promise<WaitForKeyHoldersResult> {
    const resumed = previousHeartbeat<{ startedAt?: number; checks?: number }>();
    const startedAt = resumed?.startedAt ?? Date.now();
    let checks = resumed?.checks ?? 0;
    for (;;) {
      const scan = await findKeyHolders(ctx, input);
      checks++;
      ctx.progress({ startedAt, checks, verdict: scan.verdict });
      if (scan.verdict === 'clear') return { scan, reason: 'clear', checks };
      if (scanSignature(scan) !== input.since) return { scan, reason: 'changed', checks };
      if (Date.now() - startedAt + input.recheckIntervalMs > input.windowMs) return { scan, reason: 'window', checks };
      await ctx.pause(input.recheckIntervalMs);
    }
  }

  /** Histories recorded before key-switch-v2 asked for this shape; they now get the same full check. */
  async function findKeyCallers(input: {
    account: AccountRef;
    excludeSiteIds: readonly string[];
  }): Promise<KeyCaller[]> {
    return keyCallersOf(await findKeyHolders(ctx, { account: input.account, exclude: input.excludeSiteIds }));
  }

  /** Queues a request for the account's lock, starting the lock workflow if none runs (signal-with-start). */
  async function requestAccountLock(input: { lockWorkflowId: string; resource: string; request: LockRequest }) {
    const taskQueue = activityTaskQueue();
    if (!temporal || !taskQueue)
      throw new CutoverFailure(
        FailureType.AzureRequestRejected,
        'this worker has no Temporal client for the account lock',
        {
          nonRetryable: true,
        },
      );
    const args: [AccountLockInput] = [{ resource: input.resource }];
    await temporal.client.workflow.signalWithStart(ACCOUNT_LOCK_WORKFLOW, {
      workflowId: input.lockWorkflowId,
      taskQueue,
      args,
      signal: LOCK_MESSAGES.request,
      signalArgs: [input.request],
      staticSummary: `Key-switch lock of ${input.resource.split('/').pop() ?? input.resource}`,
    });
  }

  return {
    assignRole: (input: RoleGrant) => assignRole(ctx, input),
    /** Several grants (every slot's principal), one after the other; each is idempotent, so a retry is too. */
    assignRoles: async (input: { grants: readonly RoleGrant[] }) => {
      const assigned = [];
      for (const grant of input.grants) assigned.push(await assignRole(ctx, grant));
      return assigned;
    },
    /** Compensation: delete the assignment this migration created, never another. */
    deleteRoleAssignment: (input: RoleGrant & { preExistingNames: readonly string[] }) =>
      deleteRoleAssignment(ctx, input),
    findKeyHolders: (input: KeyHolderQuery) => findKeyHolders(ctx, input),
    /** One pass over the estate for several accounts (a fleet's ready accounts). */
    findKeyHoldersOfAccounts: (input: { accounts: readonly KeyHolderQuery[] }) =>
      findKeyHoldersOfAccounts(ctx, input.accounts),
    waitForKeyHolders,
    findKeyCallers,
    readAccountState: (input: { account: AccountRef }) => readAccountState(ctx, input.account),
    requestAccountLock,
    setLocalAuth: (input: { account: AccountRef; disabled: boolean }) =>
      setLocalAuth(ctx, input.account, input.disabled),
    verifyKeysRefused: (input: KeysRefusedInput) => verifyKeysRefused(ctx, input),
  };
}
