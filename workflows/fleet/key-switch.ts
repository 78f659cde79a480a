/**
 * The key switch of one account, made once by the fleet when every caller of the account has moved: nobody else
 * holds a key (the inventory across every readable subscription, leaving out only what the fleet moved), the logs
 * stay quiet over the quiet period, [approval], then under the account's lock: checked again, switched off, proven
 * (keys refused, every caller answering on its identity), baked. A failed proof switches key auth back on — only that
 * switch is undone; the callers stay on their identities. Different accounts switch side by side; one account's
 * updates are never concurrent (its lock).
 */
import { condition, sleep } from '@temporalio/workflow';
import { callerPlan } from '../../contracts/fleet';
import { describeScan } from '../../contracts/key-holders';
import type { KeyHolderScan } from '../../contracts/model';
import { accountResourceId } from '../../contracts/ids';
import { formatDuration } from '../../plan/durations';
import { plannedMoves } from '../../plan/moves';
import type { AccountLocks } from '../kit/account-lock';
import { failureMessage, StageFailure } from '../kit/failures';
import { KEY_REFUSAL_CONFIRMATIONS } from '../migration/stages/key-switch';
import { appPoll, arm, armCall, armLong, armLongRunning, compensationCall, pollTimeout } from './activities';
import { FleetRun } from './state';

const TERMINAL = ['off', 'kept-on', 'switched-back', 'failed'];

/**
 * Every account not yet switched whose callers have all ended: switched, or kept on with the reason. Accounts are
 * switched side by side, each under its own lock (one account's updates are never concurrent); their key-holder
 * checks share passes over the estate.
 */
export async function switchReadyAccounts(run: FleetRun, locks: AccountLocks): Promise<void> {
  const ready = run.plan.accounts.flatMap((_, a) => {
    if (TERMINAL.includes(run.accounts[a].state)) return [];
    const ended = run.callersOf(a).every((i) => !['pending', 'running'].includes(run.callers[i].state));
    return ended || run.stopped ? [a] : [];
  });
  const failed = (a: number) => (err: unknown) => {
    // An activity out of retries, a lock that stayed taken: this account's switch fails, the fleet goes on.
    Object.assign(run.accounts[a], { state: 'failed', reason: failureMessage(err) });
    run.board.end(`keys-${a}`, 'failed', failureMessage(err));
  };
  if (run.sharedKeyScan) {
    // Every account's own conditions first, side by side; then the ones still going check their key holders
    // together (one pass over the estate for all of them) and go on each at its own pace.
    const scans = new KeyScans(run);
    const going = await Promise.all(ready.map((a) => canSwitch(run, a).catch((err) => (failed(a)(err), false))));
    const check: KeyHolderCheck = {
      before: (a, exclude) => (needsEarlyCheck(run, a) ? scans.check(a, exclude) : Promise.resolve(true)),
      underLock: (a, exclude) => scans.check(a, exclude),
      approaching: (a) => scans.approaching(a),
      parked: (a) => scans.parked(a),
    };
    await Promise.all(
      ready.filter((_, k) => going[k]).map((a) => switchAccount(run, a, locks, check).catch(failed(a))),
    );
    return;
  }
  const oneAccount = async (a: number) => {
    try {
      if (await canSwitch(run, a))
        await switchAccount(run, a, locks, { before: checkAlone(run), underLock: checkAlone(run) });
    } catch (err) {
      failed(a)(err);
    }
  };
  if (run.parallelKeySwitch) await Promise.all(ready.map(oneAccount));
  else for (const a of ready) await oneAccount(a);
}

/** How an account learns whether anyone else holds its key: before its gate, and again under its lock. */
interface KeyHolderCheck {
  before(a: number, exclude: readonly string[]): Promise<boolean>;
  underLock(a: number, exclude: readonly string[]): Promise<boolean>;
  /** The account is on its way to a check (its lock is coming): a pass about to start waits a moment for it. */
  approaching?(a: number): void;
  /** The account waits for something slow (a lock another run holds): no pass waits for it. */
  parked?(a: number): void;
}

/**
 * Whether the account's key switch may go on: the plan asks for it, every caller moved, the fleet goes on, and key
 * auth is still on (the fleet does not claim a switch somebody else made). Says why not on the account.
 */
async function canSwitch(run: FleetRun, a: number): Promise<boolean> {
  const { plan, board } = run;
  const account = plan.accounts[a];
  const record = run.accounts[a];
  const callers = run.callersOf(a);
  if (!account.keySwitch.disable) return keepOn(run, a, 'the fleet plan keeps key auth on for this account');
  const notMoved = callers.filter((i) => run.callers[i].state !== 'succeeded').map((i) => run.callers[i].id);
  if (notMoved.length > 0)
    return keepOn(
      run,
      a,
      `${notMoved.length} of ${callers.length} callers did not move (${notMoved.slice(0, 5).join(', ')}${notMoved.length > 5 ? ' …' : ''})${run.stopped ? `; the fleet stopped: ${run.stopped}` : ''}`,
    );
  if (run.stopped) return keepOn(run, a, `the fleet stopped: ${run.stopped}`);

  board.begin(`keys-${a}`, 'who else still holds or uses the key?');
  record.state = 'checking';
  const state = await arm.readAccountState.executeWithOptions({ ...armCall, summary: 'is key auth still on?' }, [
    { account: account.ref },
  ]);
  if (state.disableLocalAuth) {
    Object.assign(record, { state: 'off', alreadyOff: true, reason: 'local auth was already off' });
    board.end(`keys-${a}`, 'skipped', 'local auth was already off: not the fleet’s switch');
    return false;
  }
  return true;
}

/** An account with a gate or a quiet period is checked before them too, so what its approvers read is current. */
function needsEarlyCheck(run: FleetRun, a: number): boolean {
  const { keySwitch } = run.plan.accounts[a];
  return keySwitch.approval || keySwitch.quietPeriodMs > 0;
}

async function switchAccount(run: FleetRun, a: number, locks: AccountLocks, check: KeyHolderCheck): Promise<void> {
  const { plan, board } = run;
  const account = plan.accounts[a];
  const record = run.accounts[a];
  const stage = `keys-${a}` as const;
  const callers = run.callersOf(a);
  const ref = account.ref;
  const exclude = callers.flatMap((i) => plannedMoves(callerPlan(plan, i)));
  if (!(await check.before(a, exclude))) return;
  if (account.keySwitch.quietPeriodMs > 0 && !(await keyCallsQuiet(run, a, callers))) return;
  if (account.keySwitch.approval) {
    record.state = 'awaiting-approval';
    try {
      await run.gates.open(
        FleetRun.gate('keys', a),
        `Disable key auth on ${ref.name} — ${describeScan(record.keyHolders!)}`,
      );
    } catch (err) {
      if (!(err instanceof StageFailure)) throw err;
      keepOn(run, a, err.message, 'failed');
      return;
    }
  }
  board.begin(stage, 'waiting for the account’s key-switch lock');
  record.state = 'checking';
  check.approaching?.(a);
  const held = await locks.acquire({
    resource: accountResourceId(ref),
    purpose: `fleet ${plan.changeTicket}: key auth off on ${ref.name}`,
    leaseMs:
      plan.template.budgets.localAuthSwitchMs +
      2 * plan.template.budgets.downtimeMs +
      account.keySwitch.bakeMs +
      600_000,
    timeoutMs: plan.approvals.timeoutMs,
    request: (input) =>
      arm.requestAccountLock.executeWithOptions({ ...armCall, summary: 'queue for the key-switch lock' }, [input]),
    onQueued: (id) => {
      check.parked?.(a);
      board.wait(stage, `another cutover run is switching key auth on ${ref.name}: queued (${id})`);
    },
    onGranted: () => {
      check.approaching?.(a);
      board.waitingFor = undefined;
    },
    onTimeout: () => new StageFailure(stage, `the key switch of ${ref.name} stayed locked by another run`),
  });
  try {
    board.note(stage, 'checking again under the lock');
    if (!(await check.underLock(a, exclude))) return;
    record.state = 'switching';
    board.note(stage, 'disableLocalAuth = true');
    try {
      // A switch that failed may still have been applied: it is switched back like one that was.
      await armLong.setLocalAuth.executeWithOptions({ ...armLongRunning, summary: 'disableLocalAuth = true' }, [
        { account: ref, disabled: true },
      ]);
      record.switchedAt = new Date().toISOString();
      await proveSwitch(run, a, callers);
      if (account.keySwitch.bakeMs > 0) {
        record.state = 'baking';
        board.wait(stage, `keys off; baking for ${formatDuration(account.keySwitch.bakeMs)}`);
        await sleep(account.keySwitch.bakeMs, { summary: `bake after the key switch of ${ref.name}` });
        board.waitingFor = undefined;
        await smokeCallers(run, a, callers, 'after the bake');
      }
    } catch (err) {
      await switchBack(run, a, failureMessage(err));
      return;
    }
    record.state = 'off';
    board.end(
      stage,
      'done',
      `keys refused ${KEY_REFUSAL_CONFIRMATIONS} times in a row; ${callers.length} callers answer on their identities`,
    );
  } finally {
    await held.release();
  }
}

/** The inventory across every readable subscription; a holder (or an unreadable scope) keeps the keys on. */
function judgeScan(run: FleetRun, a: number, scan: KeyHolderScan): boolean {
  run.accounts[a].keyHolders = scan;
  run.refresh();
  if (scan.verdict === 'clear') return true;
  keepOn(run, a, describeScan(scan));
  return false;
}

/** One account's own pass over the estate (fleets started before passes were shared). */
const checkAlone =
  (run: FleetRun) =>
  async (a: number, exclude: readonly string[]): Promise<boolean> =>
    judgeScan(
      run,
      a,
      await armLong.findKeyHolders.executeWithOptions({ ...armLongRunning, summary: 'who still holds the key?' }, [
        { account: run.plan.accounts[a].ref, exclude },
      ]),
    );

/**
 * Key-holder checks of the fleet's accounts, coalesced: a pass about to start waits (briefly) for the accounts on
 * their way to a check — their locks being granted — and takes every account that asked; the ones that ask during
 * a pass share the one after it. One pass reads every app's settings once, whatever the number of accounts.
 */
class KeyScans {
  private readonly waiting: {
    a: number;
    exclude: readonly string[];
    done: (clear: boolean) => void;
    fail: (err: unknown) => void;
  }[] = [];
  private readonly coming = new Set<number>();
  private running = false;

  constructor(private readonly run: FleetRun) {}

  approaching(a: number): void {
    this.coming.add(a);
  }

  parked(a: number): void {
    this.coming.delete(a);
  }

  check(a: number, exclude: readonly string[]): Promise<boolean> {
    this.coming.delete(a);
    return new Promise((done, fail) => {
      this.waiting.push({ a, exclude, done, fail });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      // Every account that asks in this activation joins (microtasks: deterministic), and the ones whose locks are
      // being granted, for up to COALESCE_MS.
      await Promise.resolve();
      if (this.coming.size > 0) await condition(() => this.coming.size === 0, COALESCE_MS);
      const batch = this.waiting.splice(0);
      const names = batch.map((b) => this.run.plan.accounts[b.a].ref.name);
      try {
        const scans = await armLong.findKeyHoldersOfAccounts.executeWithOptions(
          { ...armLongRunning, summary: `who still holds the keys of ${names.join(', ')}?` },
          [{ accounts: batch.map((b) => ({ account: this.run.plan.accounts[b.a].ref, exclude: b.exclude })) }],
        );
        batch.forEach((b, i) => b.done(judgeScan(this.run, b.a, scans[i])));
      } catch (err) {
        for (const b of batch) b.fail(err);
      }
    }
    this.running = false;
  }
}

/** How long a pass waits for accounts whose locks are on their way (a grant takes an activity and a signal). */
const COALESCE_MS = 3_000;

/** The account's logs over the quiet period: a key call by anyone but the fleet's callers before they moved. */
async function keyCallsQuiet(run: FleetRun, a: number, callers: readonly number[]): Promise<boolean> {
  const { plan, board } = run;
  const account = plan.accounts[a];
  const stage = `keys-${a}` as const;
  const delay = plan.template.observability?.logIngestionDelayMs ?? 0;
  const end = Date.now();
  if (delay > 0) {
    board.note(stage, `reading the account's logs once they are complete (${formatDuration(delay)} ingestion delay)`);
    await sleep(delay, { summary: 'waiting for the diagnostic logs to arrive' });
  }
  const movedAt = callers
    .map((i) => run.callers[i].endedAt ?? '')
    .sort()
    .at(-1)!;
  const own = callers.flatMap((i) => plannedMoves(callerPlan(plan, i)));
  const record = run.accounts[a];
  record.keyUsage = await arm.observeKeyUsage.executeWithOptions(
    { ...armCall, summary: 'who called the account with a key?' },
    [
      {
        account: account.ref,
        window: { start: new Date(end - account.keySwitch.quietPeriodMs).toISOString(), end: new Date().toISOString() },
        own: { resourceIds: [...new Set(own)], movedAt },
        knownHolders: (record.keyHolders?.holders ?? []).map((h) => h.resourceId),
      },
    ],
  );
  board.note(stage, record.keyUsage.summary);
  if (record.keyUsage.verdict === 'quiet') return true;
  keepOn(run, a, record.keyUsage.summary);
  return false;
}

/** Keys refused several times in a row, then every caller of the account answering on its identity. */
async function proveSwitch(run: FleetRun, a: number, callers: readonly number[]): Promise<void> {
  const { plan, board } = run;
  const account = plan.accounts[a];
  const record = run.accounts[a];
  board.note(`keys-${a}`, 'waiting for keys to be refused');
  if (!record.endpoint) throw new StageFailure(`keys-${a}`, 'no caller reported the account’s endpoint');
  await armLong.verifyKeysRefused.executeWithOptions({ ...armLongRunning, summary: 'keys refused?' }, [
    {
      endpoint: record.endpoint,
      deployment: account.deployment,
      timeoutMs: plan.template.budgets.localAuthSwitchMs,
      intervalMs: plan.template.smokeTest.intervalMs,
      confirmations: KEY_REFUSAL_CONFIRMATIONS,
    },
  ]);
  await smokeCallers(run, a, callers, 'without keys');
}

/** Smoke-tests every caller of the account at once, each within its downtime budget. */
async function smokeCallers(run: FleetRun, a: number, callers: readonly number[], when: string): Promise<void> {
  run.board.note(`keys-${a}`, `smoke-testing ${callers.length} callers ${when}`);
  const failed: string[] = [];
  await Promise.all(
    callers.map(async (i) => {
      const p = callerPlan(run.plan, i);
      const baseUrl = p.smokeTest.baseUrl ?? run.callers[i].baseUrl;
      if (!baseUrl) {
        failed.push(`${run.callers[i].id}: where it answers is unknown`);
        return;
      }
      const r = await armLong.pollApp.executeWithOptions(
        {
          ...appPoll,
          startToCloseTimeout: pollTimeout(p.budgets.downtimeMs, p.smokeTest.requestTimeoutMs),
          summary: `smoke test of ${run.callers[i].id} ${when}`,
        },
        [
          {
            url: `${baseUrl.replace(/\/$/, '')}${p.smokeTest.path}`,
            expectStatus: p.smokeTest.expectStatus,
            expectJson: p.smokeTest.expectJson,
            timeoutMs: p.smokeTest.requestTimeoutMs,
            budgetMs: p.budgets.downtimeMs,
            intervalMs: p.smokeTest.intervalMs,
            record: false,
          },
        ],
      );
      if (!r.passed) failed.push(`${run.callers[i].id}: ${r.last.errorCode ?? `HTTP ${r.last.status}`}`);
    }),
  );
  if (failed.length > 0)
    throw new StageFailure(`keys-${a}`, `smoke test ${when} failed for ${failed.sort().join('; ')}`);
}

/** Only the fleet's own switch is undone: key auth back on; the callers stay on their identities. */
async function switchBack(run: FleetRun, a: number, why: string): Promise<void> {
  const ref = run.plan.accounts[a].ref;
  await armLong.setLocalAuth.executeWithOptions(
    { ...compensationCall, summary: 'disableLocalAuth = false (switch back)' },
    [{ account: ref, disabled: false }],
  );
  Object.assign(run.accounts[a], { state: 'switched-back', reason: why });
  run.board.end(`keys-${a}`, 'rolled-back', `${why}; key auth is back on`);
}

/** Keeps the account's key auth on, saying why; false, for the checks that end with it. */
function keepOn(run: FleetRun, a: number, why: string, status: 'skipped' | 'failed' = 'skipped'): false {
  Object.assign(run.accounts[a], { state: 'kept-on', reason: why });
  const stage = run.board.get(`keys-${a}`);
  if (stage.status === 'pending') run.board.skip(`keys-${a}`, why);
  else run.board.end(`keys-${a}`, status, why);
  run.refresh();
  return false;
}
