/**
 * Stages 5–6 (key-switch-v2): who else holds the key is checked before anyone is asked to approve (and waited for,
 * if the plan says so), then — under the account's lock, so no other run updates it meanwhile — checked again, the
 * account read (a switch someone else made is not ours to undo), switched, and proven: keys refused several times
 * in a row, the app still answering.
 */
import { sleep } from '@temporalio/workflow';
import { targetLabel } from '../../../plan/targets';
import { describeScan, scanSignature } from '../../../contracts/key-holders';
import type { StageId } from '../../../contracts/model';
import { snapshotsOf } from '../../../contracts/targets';
import { plannedMoves } from '../../../plan/moves';
import { StageFailure } from '../../kit/failures';
import { arm, armCall, armLong, armLongRunning, keyHolderWait, keyHolderWaitCall } from '../activities';
import type { MigrationRun } from '../state';
import { analyse } from './analysis';
import { removeKeySecret } from './key-secret';
import { checkKeyUsage, type KeyUsageVerdict, watchesKeyUsage } from './key-usage';
import type { AccountLock } from './lock';
import { smokeTest } from './probe';

/** Longest one key-holder wait activity polls before the workflow records its answer (a few events per window). */
const KEY_HOLDER_WINDOW_MS = 3_600_000;
/** Consecutive refusals of a key that prove the account's front ends all follow the switch. */
export const KEY_REFUSAL_CONFIRMATIONS = 3;

export async function switchKeysOff(run: MigrationRun, lock: AccountLock): Promise<void> {
  const { board, plan, b } = run;
  if (!plan.localAuth.disable) return;
  const account = b.account.ref;
  if (b.account.disableLocalAuth) {
    run.localAuthAfter = true;
    for (const id of ['key-holders', 'approve-local-auth'] as const) board.skip(id, 'already disabled');
    board.skip('local-auth', 'local auth was already disabled');
    if (board.get('key-analysis').status === 'pending') board.skip('key-analysis', 'local auth was already disabled');
    return;
  }
  board.begin('key-holders', 'scanning every readable subscription');
  const cleared =
    run.lean && !plan.approvals.beforeDisableLocalAuth
      ? await checkOnceUnderLock(run, lock)
      : await checkTwice(run, lock);
  if (!cleared) return;
  const state = await arm.readAccountState.executeWithOptions({ ...armCall, summary: 'is key auth still on?' }, [
    { account },
  ]);
  if (state.disableLocalAuth) {
    board.note('local-auth', 'another change disabled local auth meanwhile: not ours to undo');
  } else {
    run.compensate({ kind: 'enable-local-auth', account }, `re-enable local auth on ${account.name}`);
    await armLong.setLocalAuth.executeWithOptions({ ...armLongRunning, summary: 'disableLocalAuth = true' }, [
      { account, disabled: true },
    ]);
  }
  await proveKeysRefused(run, KEY_REFUSAL_CONFIRMATIONS);
  await lock.release();
  run.localAuthAfter = true;
  board.waitingFor = undefined;
  board.end(
    'local-auth',
    'done',
    `keys refused with AuthenticationTypeDisabled ${KEY_REFUSAL_CONFIRMATIONS} times in a row; the app calls with its identity`,
  );
  await removeKeySecret(run); // container apps, LEAN_HISTORY runs only
  if (run.observed) await analyse(run, 'key-switch');
}

/**
 * The check before anyone is asked to approve (and the wait for it, if the plan says so), then — under the lock —
 * again, since things may change while the approval waits. True once the key may be switched off, under the lock.
 */
async function checkTwice(run: MigrationRun, lock: AccountLock): Promise<boolean> {
  const { board, plan, b } = run;
  const account = b.account.ref;
  if (!(await keyHoldersGone(run, 'key-holders'))) return false;
  const usage = watchesKeyUsage(run) ? await checkKeyUsage(run, 'key-holders') : 'quiet';
  if (usage === 'skip') return false;
  const found = foundSoFar(run);
  const blind =
    usage === 'unobservable'
      ? ` — key usage cannot be observed (${run.keyUsage.at(-1)!.summary}): approving acknowledges switching keys off without log evidence`
      : '';
  if (blind && !plan.approvals.beforeDisableLocalAuth)
    await run.gates.open('key-usage', `Acknowledge switching key auth off on ${account.name} blind${blind}`);
  else board.end('key-holders', 'done', found);
  if (plan.approvals.beforeDisableLocalAuth)
    await run.gates.open('local-auth', `Disable local (key) auth on ${account.name} — ${found}${blind}`);
  board.begin('local-auth', 'waiting for the account’s key-switch lock');
  for (;;) {
    await lock.acquire();
    board.note('local-auth', 'checking again under the lock');
    if (await keyHoldersGone(run, 'local-auth', { once: true })) {
      if (!watchesKeyUsage(run)) break;
      const final: KeyUsageVerdict = await checkKeyUsage(run, 'local-auth', { final: true });
      if (final === 'quiet' || (final === 'unobservable' && usage === 'unobservable')) break;
      if (final === 'unobservable') run.leaveKeysOn(`${run.keyUsage.at(-1)!.summary} (it was readable before)`);
      if (run.localAuthSkipped) {
        await lock.release();
        return false;
      }
    }
    await lock.release();
    if (plan.localAuth.ifOtherCallers !== 'wait' || board.get('local-auth').status === 'skipped') return false;
    if (!(await keyHoldersGone(run, 'local-auth'))) return false;
    if (watchesKeyUsage(run) && (await checkKeyUsage(run, 'local-auth')) === 'skip') return false;
  }
  return true;
}

/**
 * Without an approval before the key switch, nothing waits between a check and the lock: the lock is taken first
 * and the check (key holders, then the quiet period in the logs) runs once, under it. Blind (no logs to read), the
 * lock is let go while someone acknowledges; waiting for other holders to move happens without it too.
 */
async function checkOnceUnderLock(run: MigrationRun, lock: AccountLock): Promise<boolean> {
  const { board, plan, b } = run;
  let acknowledged = false;
  for (;;) {
    await lock.acquire('key-holders');
    board.note('key-holders', 'checking under the account’s key-switch lock');
    if (await keyHoldersGone(run, 'key-holders', { once: true })) {
      const usage = watchesKeyUsage(run) ? await checkKeyUsage(run, 'key-holders', { final: true }) : 'quiet';
      if (usage === 'quiet' || (usage === 'unobservable' && acknowledged)) break;
      if (usage === 'unobservable') {
        await lock.release();
        await run.gates.open(
          'key-usage',
          `Acknowledge switching key auth off on ${b.account.ref.name} blind — key usage cannot be observed (${run.keyUsage.at(-1)!.summary}): approving acknowledges switching keys off without log evidence`,
        );
        acknowledged = true;
        continue;
      }
    }
    await lock.release();
    if (run.localAuthSkipped || plan.localAuth.ifOtherCallers !== 'wait') return false;
    if (!(await keyHoldersGone(run, 'key-holders'))) return false;
    if (watchesKeyUsage(run) && (await checkKeyUsage(run, 'key-holders')) === 'skip') return false;
  }
  board.end('key-holders', 'done', foundSoFar(run));
  board.begin('local-auth', 'under the account’s key-switch lock');
  return true;
}

/** What the key check found: the key holders, and the logs' verdict when they were read. */
function foundSoFar(run: MigrationRun): string {
  return `${describeScan(run.keyHolders!)}${run.keyUsage.length ? `; ${run.keyUsage.at(-1)!.summary}` : ''}`;
}

/**
 * Proves the switch: a key call refused (`confirmations` times in a row; histories of key-switch v1 asked for one),
 * then the app's smoke test without keys.
 */
export async function proveKeysRefused(run: MigrationRun, confirmations?: number): Promise<void> {
  const { board, plan, b } = run;
  board.note('local-auth', 'waiting for keys to be refused');
  await armLong.verifyKeysRefused.executeWithOptions({ ...armLongRunning, summary: 'keys refused?' }, [
    {
      endpoint: b.account.endpoint,
      deployment: plan.account.deployment,
      timeoutMs: plan.budgets.localAuthSwitchMs,
      intervalMs: plan.smokeTest.intervalMs,
      ...(confirmations !== undefined ? { confirmations } : {}),
    },
  ]);
  const { target } = snapshotsOf(b);
  await smokeTest(
    run,
    'local-auth',
    `smoke test of ${targetLabel(target.site)} without keys`,
    target,
    plan.budgets.downtimeMs,
  );
}

/** What this run moved off the key: the only callers the key-holder check leaves out. */
function movedOffKey(run: MigrationRun): string[] {
  const { plan } = run;
  const staging = plan.strategy.type === 'slot-swap' ? run.before?.sites[1]?.resourceId.toLowerCase() : undefined;
  return plannedMoves(plan).filter((id) => !(run.standbyKept && id.toLowerCase() === staging));
}

/**
 * Runs the key-holder check (and with `wait`, waits for it to come clear, up to the approval timeout). Returns
 * true when nobody else holds the key; otherwise fails (plan: fail) or skips the key switch with a warning.
 */
async function keyHoldersGone(run: MigrationRun, stageId: StageId, opts: { once?: boolean } = {}): Promise<boolean> {
  const { board, plan } = run;
  const account = run.b.account.ref;
  const exclude = movedOffKey(run);
  run.keyHolders = await armLong.findKeyHolders.executeWithOptions(
    { ...armLongRunning, summary: 'who still holds the key?' },
    [{ account, exclude }],
  );
  run.refresh();
  if (run.keyHolders.verdict !== 'clear' && plan.localAuth.ifOtherCallers === 'wait' && !opts.once) {
    const deadline = Date.now() + plan.budgets.approvalTimeoutMs;
    board.mark(stageId, 'waiting');
    while (run.keyHolders.verdict !== 'clear' && Date.now() < deadline) {
      board.wait(
        stageId,
        `${describeScan(run.keyHolders)} — looking again every ${Math.round(plan.localAuth.recheckIntervalMs / 1000)}s until ${new Date(deadline).toISOString()}`,
      );
      const windowMs = Math.min(
        KEY_HOLDER_WINDOW_MS,
        Math.max(plan.localAuth.recheckIntervalMs, deadline - Date.now()),
      );
      const windowStart = Date.now();
      const r = await keyHolderWait.waitForKeyHolders.executeWithOptions(
        { ...keyHolderWaitCall, summary: 'waiting for the other key holders to move' },
        [
          {
            account,
            exclude,
            since: scanSignature(run.keyHolders),
            recheckIntervalMs: plan.localAuth.recheckIntervalMs,
            windowMs,
          },
        ],
      );
      run.keyHolders = r.scan;
      // The window is a floor on the cadence whatever the activity did, so history stays bounded by time.
      const left = windowMs - (Date.now() - windowStart);
      if (r.reason === 'window' && left >= 1000) await sleep(left, { summary: 'next key-holder window' });
    }
    board.mark(stageId, 'running');
    board.waitingFor = undefined;
    run.refresh();
  }
  if (run.keyHolders.verdict === 'clear') return true;
  if (opts.once && plan.localAuth.ifOtherCallers === 'wait') return false; // the caller goes back to waiting
  const why = describeScan(run.keyHolders);
  if (plan.localAuth.ifOtherCallers === 'fail') throw new StageFailure(stageId, why);
  run.leaveKeysOn(why);
  return false;
}
