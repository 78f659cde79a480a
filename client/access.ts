/**
 * Revokes as Temporal sees them: start one, read its progress, wait for its result. Returns data and throws the
 * typed errors of ./errors; prints nothing.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import {
  revokeWorkflowId,
  type RevokeInput,
  type RevokeProgress,
  type RevokeRequest,
  type RevokeResult,
} from '../contracts/access';
import { CutoverStage, CutoverTicket } from '../contracts/search-attributes';
import type { revokeAccess } from '../workflows';
import { revokeProgressQuery } from '../workflows/revoke/messages';
import type { TemporalAccess } from './connect';
import { MigrationAlreadyRunningError } from './errors';

/** The workflow type, as registered (a string, so that reading revokes does not load the workflow code). */
export const REVOKE_WORKFLOW_TYPE = 'revokeAccess';

export async function startRevoke(
  t: Pick<TemporalAccess, 'client' | 'taskQueue'>,
  request: RevokeRequest,
  initiatedBy: string,
  summary: string,
) {
  const workflowId = revokeWorkflowId(request.subject);
  const input: RevokeInput = { request, initiatedBy };
  try {
    return await t.client.workflow.start<typeof revokeAccess>(REVOKE_WORKFLOW_TYPE, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `${request.changeTicket}: revoke ${summary}${request.emergency ? ' (emergency)' : ''}`,
      staticDetails: `Reason: ${request.reason} · started by ${initiatedBy}`,
      typedSearchAttributes: [
        { key: CutoverTicket, value: request.changeTicket },
        { key: CutoverStage, value: 'find' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new MigrationAlreadyRunningError(workflowId);
    throw err;
  }
}

export async function revokeProgress(t: Pick<TemporalAccess, 'client'>, workflowId: string): Promise<RevokeProgress> {
  return t.client.workflow.getHandle(workflowId).query(revokeProgressQuery);
}

export async function revokeResult(t: Pick<TemporalAccess, 'client'>, workflowId: string): Promise<RevokeResult> {
  return (await t.client.workflow.getHandle(workflowId).result()) as RevokeResult;
}

/** Whether a workflow id is a revoke's (`cutover/revoke/…`). */
export function isRevokeWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith('cutover/revoke/');
}

/** A revoke's progress while it runs, or its evidence once it has completed. */
export async function revokeStatus(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
): Promise<{ status: string; progress?: RevokeProgress; evidence?: RevokeResult['evidence'] }> {
  const handle = t.client.workflow.getHandle(workflowId);
  const status = (await handle.describe()).status.name;
  if (status === 'COMPLETED') return { status, evidence: ((await handle.result()) as RevokeResult).evidence };
  return { status, progress: await handle.query(revokeProgressQuery) };
}
