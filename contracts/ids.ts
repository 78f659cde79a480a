/** Names that several layers must agree on: workflow ids and evidence files. */
import type { MigrationPlan } from '../plan/schema';
import type { AccountRef } from './model';
import { targetOf } from '../plan/targets';

/**
 * One migration per caller at a time, so the id is derived from the caller itself, its kind included (two callers
 * of different kinds may share a name): `cutover/<kind>/<subscription>/<resource group>/<name>[/<slot>]`.
 */
export function migrationWorkflowId(plan: Pick<MigrationPlan, 'subscriptionId' | 'target'>): string {
  const target = targetOf(plan);
  const parts = ['cutover', target.kind, plan.subscriptionId, target.resourceGroup, target.name];
  if (target.slot) parts.push(target.slot);
  return parts.join('/').toLowerCase();
}

/** The file an evidence record of one run is written to (the CLI finds it by the same name). */
export function evidenceFileName(workflowId: string, runId: string): string {
  return `${workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${runId}.json`;
}

/** ARM id of an Azure OpenAI account. */
export function accountResourceId(ref: AccountRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${ref.name}`;
}
