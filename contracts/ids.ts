/** Names that several layers must agree on: workflow ids and evidence files. */
import type { MigrationPlan } from '../plan/schema';

/** One migration per app at a time, so the id is derived from the app itself. */

export function migrationWorkflowId(plan: Pick<MigrationPlan, 'subscriptionId' | 'app'>): string {
  const parts = ['cutover', plan.subscriptionId, plan.app.resourceGroup, plan.app.name];
  if (plan.app.slot) parts.push(plan.app.slot);
  return parts.join('/').toLowerCase();
}

/** The file an evidence record of one run is written to (the CLI finds it by the same name). */
export function evidenceFileName(workflowId: string, runId: string): string {
  return `${workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${runId}.json`;
}
