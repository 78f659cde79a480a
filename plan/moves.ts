/**
 * What a migration moves off the account key, as ARM resource ids: the only callers the key-holder check may leave
 * out. In place: the migrated app or slot. Slot swap: production (it runs the migrated configuration after the
 * swap) and, when the plan migrates the standby, the staging slot that holds the old configuration afterwards.
 * Pure: used by preflight (before anything changed) and by the workflow (after the settings stage).
 */
import type { MigrationPlan } from './schema';

function siteId(plan: Pick<MigrationPlan, 'subscriptionId' | 'app'>, slot?: string): string {
  const base = `/subscriptions/${plan.subscriptionId}/resourceGroups/${plan.app.resourceGroup}/providers/Microsoft.Web/sites/${plan.app.name}`;
  return slot ? `${base}/slots/${slot}` : base;
}

export function plannedMoves(plan: Pick<MigrationPlan, 'subscriptionId' | 'app' | 'strategy'>): string[] {
  if (plan.strategy.type !== 'slot-swap') return [siteId(plan, plan.app.slot)];
  const moves = [siteId(plan)];
  if (plan.strategy.standby === 'migrate' && plan.strategy.stagingSlot)
    moves.push(siteId(plan, plan.strategy.stagingSlot));
  return moves;
}
