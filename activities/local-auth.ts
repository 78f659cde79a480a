/**
 * The key switch's side effects: who still holds the account key (once, or waiting for that to change), the
 * account's current state, and the per-account lock that serialises key switches (signal-with-start of the
 * `accountLock` workflow). Switching itself (`setLocalAuth`, `verifyKeysRefused`) stays with the other account
 * activities.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  ACCOUNT_LOCK_WORKFLOW,
  type AccountLockInput,
  type LockRequest,
  requestLockSignal,
} from '../workflows/account-lock';
import { FailureType } from '../workflows/failures';
import { scanSignature } from '../workflows/key-holders';
import type { AccountRef, KeyCaller, KeyHolderScan } from '../workflows/types';
import type { AzureClients } from './azure-clients';
import { activityTaskQueue, heartbeat, pause, previousHeartbeat } from './context';
import { azureCall, statusOf, toActivityFailure } from './errors';
import { type KeyHolderDeps, scanKeyHolders } from './key-holders';

export interface LocalAuthDeps extends Omit<KeyHolderDeps, 'credential'> {
  /** The current credential, asked at every use. */
  readonly credential: () => TokenCredential;
  readonly clients: (subscriptionId: string) => AzureClients;
  /** The worker's Temporal client, for the account lock; absent where no lock is needed (the CLI's dry run). */
  readonly temporal?: { readonly client: Client };
}

export interface WaitForKeyHoldersInput {
  readonly account: AccountRef;
  readonly exclude: readonly string[];
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

export function localAuthActivities(deps: LocalAuthDeps) {
  /** The account's keys and endpoints; Azure refuses listKeys with 400 once local auth is off. */
  async function keysOf(account: AccountRef) {
    const { cognitive } = deps.clients(account.subscriptionId);
    let keys: { key1?: string; key2?: string };
    try {
      keys = await cognitive.accounts.listKeys(account.resourceGroup, account.name);
    } catch (err) {
      if (statusOf(err) === 400) return 'local-auth-disabled' as const; // nobody can be calling with a key
      throw toActivityFailure(`reading the keys of ${account.name}`, err);
    }
    const a = await azureCall(`reading account ${account.name}`, () =>
      cognitive.accounts.get(account.resourceGroup, account.name),
    );
    const endpoints = [a.properties?.endpoint, ...Object.values(a.properties?.endpoints ?? {})].filter(
      (e): e is string => typeof e === 'string' && e !== '',
    );
    return { key1: keys.key1, key2: keys.key2, endpoints };
  }

  /** The key-holder check of an account (see key-holders.ts). */
  async function findKeyHolders(input: { account: AccountRef; exclude: readonly string[] }): Promise<KeyHolderScan> {
    return scanKeyHolders({ ...deps, credential: deps.credential() }, input, await keysOf(input.account));
  }

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
      const scan = await findKeyHolders(input);
      checks++;
      heartbeat({ startedAt, checks, verdict: scan.verdict });
      if (scan.verdict === 'clear') return { scan, reason: 'clear', checks };
      if (scanSignature(scan) !== input.since) return { scan, reason: 'changed', checks };
      if (Date.now() - startedAt + input.recheckIntervalMs > input.windowMs) return { scan, reason: 'window', checks };
      await pause(input.recheckIntervalMs);
    }
  }

  /** Pre-2026 workflows asked for this shape; they now get the same full check (exact exclusions). */
  async function findKeyCallers(input: {
    account: AccountRef;
    excludeSiteIds: readonly string[];
  }): Promise<KeyCaller[]> {
    const scan = await findKeyHolders({ account: input.account, exclude: input.excludeSiteIds });
    return [
      ...scan.holders.map((h) => ({
        siteResourceId: h.resourceId,
        settingNames: h.settingNames,
        ...(h.unverifiable ? { unverifiable: h.unverifiable } : {}),
      })),
      ...scan.scopes
        .filter((s) => s.status !== 'scanned')
        .map((s) => ({ siteResourceId: s.scope, settingNames: [], unverifiable: s.reason ?? 'could not be read' })),
    ];
  }

  /** The account's key-auth switch and whether an update of it is under way. */
  async function readAccountState(input: {
    account: AccountRef;
  }): Promise<{ disableLocalAuth: boolean; provisioningState: string }> {
    const { account } = input;
    const a = await azureCall(`reading account ${account.name}`, () =>
      deps.clients(account.subscriptionId).cognitive.accounts.get(account.resourceGroup, account.name),
    );
    return {
      disableLocalAuth: a.properties?.disableLocalAuth === true,
      provisioningState: a.properties?.provisioningState ?? 'Succeeded',
    };
  }

  /** Queues a request for the account's lock, starting the lock workflow if none runs (signal-with-start). */
  async function requestAccountLock(input: {
    lockWorkflowId: string;
    resource: string;
    request: LockRequest;
  }): Promise<void> {
    const client = deps.temporal?.client;
    const taskQueue = activityTaskQueue();
    if (!client || !taskQueue)
      throw ApplicationFailure.create({
        type: FailureType.AzureRequestRejected,
        message: 'this worker has no Temporal client for the account lock',
        nonRetryable: true,
      });
    const args: [AccountLockInput] = [{ resource: input.resource }];
    await client.workflow.signalWithStart(ACCOUNT_LOCK_WORKFLOW, {
      workflowId: input.lockWorkflowId,
      taskQueue,
      args,
      signal: requestLockSignal,
      signalArgs: [input.request],
      staticSummary: `Key-switch lock of ${input.resource.split('/').pop() ?? input.resource}`,
    });
  }

  return { findKeyHolders, waitForKeyHolders, findKeyCallers, readAccountState, requestAccountLock };
}
