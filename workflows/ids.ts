/** Workflow ids: one migration per app at a time, so the id is derived from the app itself. */
import type { MigrationPlan } from '../plan/schema';

export function migrationWorkflowId(plan: Pick<MigrationPlan, 'subscriptionId' | 'app'>): string {
  const parts = ['cutover', plan.subscriptionId, plan.app.resourceGroup, plan.app.name];
  if (plan.app.slot) parts.push(plan.app.slot);
  return parts.join('/').toLowerCase();
}
