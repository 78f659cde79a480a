/** Migrations found through the search attributes, with the outcome their execution really has. */
import {
  CutoverAccount,
  CutoverApp,
  CutoverOutcome,
  CutoverStage,
  CutoverTicket,
} from '../contracts/search-attributes';
import type { TemporalAccess } from './connect';
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
    const sa = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      app: sa.get(CutoverApp),
      account: sa.get(CutoverAccount),
      ticket: sa.get(CutoverTicket),
      stage: sa.get(CutoverStage),
      outcome: effectiveOutcome(wf.status.name, sa.get(CutoverOutcome)),
      startTime: wf.startTime.toISOString(),
    });
    if (out.length >= limit) break;
  }
  return out;
}
