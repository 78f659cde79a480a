/**
 * Stages 5–6 as executions started before `key-switch-v2` run them (kept so that their histories replay): the key
 * callers of the app's own subscription, then the switch, without the account lock. Never taken by a new run.
 */
import { sleep } from '@temporalio/workflow';
import { snapshotsOf } from '../../../contracts/targets';
import { StageFailure } from '../../kit/failures';
import { arm, armLong, armLongRunning } from '../activities';
import type { MigrationRun } from '../state';
import { proveKeysRefused } from './key-switch';

export async function switchKeysOffV1(run: MigrationRun): Promise<void> {
  const { board, plan, b } = run;
  if (!plan.localAuth.disable) return;
  if (b.account.disableLocalAuth) {
    run.localAuthAfter = true;
    board.skip('approve-local-auth', 'already disabled');
    board.skip('local-auth', 'local auth was already disabled');
    return;
  }
  if (plan.approvals.beforeDisableLocalAuth)
    await run.gates.open('local-auth', 'Disable local (key) auth on the account');
  board.begin('local-auth');
  const { target } = snapshotsOf(b);
  const exclude = [target.resourceId.replace(/\/slots\/[^/]+$/i, '')];
  const findCallers = () =>
    arm.findKeyCallers.executeWithOptions({ ...armLongRunning, summary: 'who still uses the key?' }, [
      { account: b.account.ref, excludeSiteIds: exclude },
    ]);
  let callers = await findCallers();
  if (callers.length > 0 && plan.localAuth.ifOtherCallers === 'wait') {
    const deadline = Date.now() + plan.budgets.approvalTimeoutMs;
    while (callers.length > 0 && Date.now() < deadline) {
      board.wait(
        'local-auth',
        `other callers still use the key: ${callers.map((c) => c.siteResourceId.split('/').pop()).join(', ')}`,
      );
      // Plans recorded before recheckInterval existed looked again every minute.
      await sleep(plan.localAuth.recheckIntervalMs ?? 60_000, { summary: 'look again for other key callers' });
      callers = await findCallers();
    }
    board.waitingFor = undefined;
  }
  if (callers.length > 0) {
    const who = callers.map((c) => `${c.siteResourceId} (${c.unverifiable ?? c.settingNames.join(', ')})`).join('; ');
    if (plan.localAuth.ifOtherCallers === 'fail')
      throw new StageFailure('local-auth', `other callers still use the account key: ${who}`);
    run.localAuthSkipped = `other callers still use the account key: ${who}`;
    run.localAuthAfter = false;
    run.warnings.push(`local auth left enabled: ${run.localAuthSkipped}`);
    board.end('local-auth', 'skipped', run.localAuthSkipped);
    return;
  }
  run.compensate(
    { kind: 'enable-local-auth', account: b.account.ref },
    `re-enable local auth on ${b.account.ref.name}`,
  );
  await armLong.setLocalAuth.executeWithOptions({ ...armLongRunning, summary: 'disableLocalAuth = true' }, [
    { account: b.account.ref, disabled: true },
  ]);
  await proveKeysRefused(run);
  run.localAuthAfter = true;
  board.waitingFor = undefined;
  board.end('local-auth', 'done', 'keys refused with AuthenticationTypeDisabled; the app calls with its identity');
}
