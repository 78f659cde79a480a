/** Migrations found through the search attributes, with the outcome their execution really has. */
import {
  CutoverAccount,
  CutoverApp,
  CutoverOutcome,
  CutoverStage,
  CutoverTicket,
} from '../contracts/search-attributes';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TemporalAccess } from './connect';
import { MigrationNotFoundError } from './errors';
import { MIGRATION_WORKFLOW_TYPE, quote } from './migrations';
import { effectiveOutcome, outcomeQuery } from './outcome';

export interface MigrationFilter {
  readonly stage?: string;
  readonly account?: string;
  readonly app?: string;
  readonly ticket?: string;
  /** One of `OUTCOMES`: `running` is every execution still running, the others also check the recorded outcome. */
  readonly outcome?: string;
}

export interface ListedMigration {
  readonly workflowId: string;
  readonly runId: string;
  /** The execution's status (RUNNING, COMPLETED, TERMINATED, …). */
  readonly status: string;
  readonly app?: string;
  readonly account?: string;
  readonly ticket?: string;
  readonly stage?: string;
  /** The effective outcome: the recorded one, unless the execution was ended from outside (`terminated`, …). */
  readonly outcome: string;
  readonly startTime: string;
  /** When the execution closed; absent while it runs. */
  readonly endTime?: string;
}

export function listQuery(filter: MigrationFilter): string {
  const clauses = [`WorkflowType = ${quote(MIGRATION_WORKFLOW_TYPE)}`];
  if (filter.stage) clauses.push(`${CutoverStage.name} = ${quote(filter.stage)}`);
  if (filter.account) clauses.push(`${CutoverAccount.name} = ${quote(filter.account)}`);
  if (filter.app) clauses.push(`${CutoverApp.name} = ${quote(filter.app)}`);
  if (filter.ticket) clauses.push(`${CutoverTicket.name} = ${quote(filter.ticket)}`);
  if (filter.outcome) clauses.push(outcomeQuery(filter.outcome));
  return clauses.join(' AND ');
}

/** At most `limit` migrations matching the filter, newest first (the server's order). */
export async function listMigrations(
  t: Pick<TemporalAccess, 'client'>,
  filter: MigrationFilter,
  limit: number,
): Promise<ListedMigration[]> {
  const out: ListedMigration[] = [];
  for await (const wf of t.client.workflow.list({ query: listQuery(filter) })) {
    out.push(listed(wf));
    if (out.length >= limit) break;
  }
  return out;
}

function listed(wf: WorkflowExecutionInfo): ListedMigration {
  const sa = wf.typedSearchAttributes;
  return {
    workflowId: wf.workflowId,
    runId: wf.runId,
    status: wf.status.name,
    app: sa.get(CutoverApp),
    account: sa.get(CutoverAccount),
    ticket: sa.get(CutoverTicket),
    stage: sa.get(CutoverStage),
    outcome: effectiveOutcome(wf.status.name, sa.get(CutoverOutcome)),
    startTime: wf.startTime.toISOString(),
    ...(wf.closeTime ? { endTime: wf.closeTime.toISOString() } : {}),
  };
}

/**
 * Every migration (every run) of an app — or of one workflow id, when `idOrApp` has a `/` — newest first, with the
 * outcome each really had. An app without any is a `MigrationNotFoundError`.
 */
export async function migrationHistory(t: Pick<TemporalAccess, 'client'>, idOrApp: string): Promise<ListedMigration[]> {
  const which = idOrApp.includes('/') ? `WorkflowId = ${quote(idOrApp)}` : `${CutoverApp.name} = ${quote(idOrApp)}`;
  const out: ListedMigration[] = [];
  for await (const wf of t.client.workflow.list({
    query: `WorkflowType = ${quote(MIGRATION_WORKFLOW_TYPE)} AND ${which}`,
  }))
    out.push(listed(wf));
  if (out.length === 0) throw new MigrationNotFoundError(idOrApp);
  // The server lists running executions first, then by close time: a history reads by start time.
  return out.sort((a, b) => b.startTime.localeCompare(a.startTime) || a.runId.localeCompare(b.runId));
}
