/**
 * Fleets as Temporal sees them: start one, read its progress (live, or from its result once it ended), send it
 * decisions and an abort, fetch its evidence. A fleet is named by its workflow id or its change ticket. Returns data
 * and throws the typed errors of ./errors; prints nothing.
 */
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import {
  type FleetInput,
  type FleetPlan,
  type FleetProgress,
  type FleetResult,
  fleetWorkflowId,
} from '../contracts/fleet';
import type { AbortInput } from '../contracts/messages';
import { CutoverTicket } from '../contracts/search-attributes';
import type { migrateFleet } from '../workflows';
import { abortFleetUpdate, fleetProgressQuery } from '../workflows/fleet/messages';
import type { TemporalAccess } from './connect';
import {
  FleetAlreadyRunningError,
  FleetNotFoundError,
  MigrationNotFoundError,
  MigrationStillRunningError,
  NoEvidenceError,
} from './errors';
import { executionStatus as migrationExecutionStatus, update } from './migrations';

/** The workflow type, as registered (a string, so reading fleets does not load workflow code). */
export const FLEET_WORKFLOW_TYPE = 'migrateFleet';

export type FleetHandle = WorkflowHandleWithFirstExecutionRunId<typeof migrateFleet>;

/** A fleet's workflow id from what the user typed: the id itself, or the change ticket. */
export function resolveFleet(idOrTicket: string): string {
  return idOrTicket.toLowerCase().startsWith('cutover/fleet/') ? idOrTicket : fleetWorkflowId(idOrTicket);
}

export async function startFleet(
  t: Pick<TemporalAccess, 'client' | 'taskQueue'>,
  plan: FleetPlan,
  initiatedBy: string,
  options: { readonly planFile: string },
): Promise<FleetHandle> {
  const workflowId = fleetWorkflowId(plan.changeTicket);
  const input: FleetInput = { plan, initiatedBy };
  try {
    return await t.client.workflow.start<typeof migrateFleet>(FLEET_WORKFLOW_TYPE, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `${plan.changeTicket}: fleet of ${plan.callers.length} callers on ${plan.accounts.length} accounts → managed identities`,
      staticDetails: `Plan: ${options.planFile} · waves ${plan.waves.map((w) => w.name).join(' → ')} · started by ${initiatedBy}`,
      typedSearchAttributes: [{ key: CutoverTicket, value: plan.changeTicket }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new FleetAlreadyRunningError(workflowId);
    throw err;
  }
}

export interface FleetStatus {
  /** RUNNING, COMPLETED, TERMINATED … */
  readonly executionStatus: string;
  /** Live while it runs; rebuilt from the result once it completed; absent when no worker answered yet. */
  readonly progress?: FleetProgress;
}

export async function fleetStatus(t: Pick<TemporalAccess, 'client'>, workflowId: string): Promise<FleetStatus> {
  const status = await executionStatus(t, workflowId);
  const handle = t.client.workflow.getHandle<typeof migrateFleet>(workflowId);
  const progress = await handle.query(fleetProgressQuery).catch(() => undefined);
  return { executionStatus: status, ...(progress ? { progress } : {}) };
}

/** The execution status of a fleet; a fleet that does not exist is a `FleetNotFoundError`. */
async function executionStatus(t: Pick<TemporalAccess, 'client'>, workflowId: string): Promise<string> {
  return migrationExecutionStatus(t, workflowId).catch((err: unknown) => {
    throw err instanceof MigrationNotFoundError ? new FleetNotFoundError(workflowId) : err;
  });
}

/** The evidence of a fleet that completed. */
export async function fleetResult(t: Pick<TemporalAccess, 'client'>, workflowId: string): Promise<FleetResult> {
  const status = await executionStatus(t, workflowId);
  if (status === 'RUNNING') throw new MigrationStillRunningError(workflowId);
  if (status !== 'COMPLETED') throw new NoEvidenceError(workflowId, status);
  return t.client.workflow.getHandle<typeof migrateFleet>(workflowId).result();
}

/** Stops the fleet: no new caller starts; running ones finish or roll back per its plan. */
export function abortFleet(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  input: AbortInput,
): Promise<FleetProgress> {
  const handle = t.client.workflow.getHandle<typeof migrateFleet>(workflowId);
  return update(t, workflowId, () => handle.executeUpdate(abortFleetUpdate, { args: [input] }));
}
