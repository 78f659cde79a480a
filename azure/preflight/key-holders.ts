/** Key auth is a switch of the account: who else holds its key decides what the last stage will do. */
import { describeScan } from '../../contracts/key-holders';
import type { KeyHolderScan } from '../../contracts/model';
import { plannedMoves } from '../../plan/moves';
import type { MigrationPlan } from '../../plan/schema';
import type { AzureContext } from '../context';
import { findKeyHolders } from '../inventory';
import type { Findings } from './findings';

export async function checkKeyHolders(ctx: AzureContext, plan: MigrationPlan, f: Findings): Promise<KeyHolderScan> {
  const scan = await findKeyHolders(ctx, { account: plan.account, exclude: plannedMoves(plan) });
  if (scan.verdict === 'clear') return scan;
  const { ifOtherCallers } = plan.localAuth;
  if (ifOtherCallers === 'fail')
    f.problem(
      'key-holders',
      `${describeScan(scan)}; with localAuth.ifOtherCallers: fail the migration would end there`,
      'move those callers off the key first, or set localAuth.ifOtherCallers to skip or wait',
    );
  else
    f.warn(
      `${describeScan(scan)}: local auth will ${ifOtherCallers === 'wait' ? 'wait for them' : 'stay enabled'} (localAuth.ifOtherCallers: ${ifOtherCallers})`,
    );
  return scan;
}
