/**
 * What a migration moves off the account key, as ARM resource ids: the only callers the key-holder check may leave
 * out. In place: the migrated app or slot. Slot swap: production (it runs the migrated configuration after the
 * swap) and, when the plan migrates the standby, the staging slot that holds the old configuration afterwards.
 * Pure: used by preflight (before anything changed) and by the workflow (after the settings stage).
 */
import type { MigrationPlan } from './schema';
import { targetOf, targetResourceId } from './targets';

export function plannedMoves(plan: Pick<MigrationPlan, 'subscriptionId' | 'target' | 'strategy'>): string[] {
  const target = targetOf(plan);
  const id = (slot?: string) => targetResourceId(plan.subscriptionId, { ...target, slot });
  if (plan.strategy.type !== 'slot-swap') return [id(target.slot)];
  const moves = [id()];
  if (plan.strategy.standby === 'migrate' && plan.strategy.stagingSlot) moves.push(id(plan.strategy.stagingSlot));
  return moves;
}
