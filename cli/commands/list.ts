/** `cutover list`: migrations found through the search attributes, with the outcome their execution really has. */
import {
  CutoverAccount,
  CutoverApp,
  CutoverOutcome,
  CutoverStage,
  CutoverTicket,
} from '../../contracts/search-attributes';
import type { CliContext } from '../context';
import { effectiveOutcome, outcomeQuery } from '../outcome';
import { table } from '../render';
import { MIGRATION_WORKFLOW, quote, withTemporal } from './migrations';

export interface ListOptions {
  readonly stage?: string;
  readonly account?: string;
  readonly app?: string;
  readonly ticket?: string;
  /** One of `OUTCOMES`: `running` is every execution still running, the others also check the recorded outcome. */
  readonly outcome?: string;
  readonly limit?: number;
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

export function listQuery(opts: ListOptions): string {
  const clauses = [`WorkflowType = '${MIGRATION_WORKFLOW}'`];
  if (opts.stage) clauses.push(`${CutoverStage.name} = ${quote(opts.stage)}`);
  if (opts.account) clauses.push(`${CutoverAccount.name} = ${quote(opts.account)}`);
  if (opts.app) clauses.push(`${CutoverApp.name} = ${quote(opts.app)}`);
  if (opts.ticket) clauses.push(`${CutoverTicket.name} = ${quote(opts.ticket)}`);
  if (opts.outcome) clauses.push(outcomeQuery(opts.outcome));
  return clauses.join(' AND ');
}

export async function listCommand(ctx: CliContext, opts: ListOptions): Promise<ListedMigration[]> {
  return withTemporal(ctx, async (t) => {
    const out: ListedMigration[] = [];
    const limit = opts.limit ?? 50;
    for await (const wf of t.client.workflow.list({ query: listQuery(opts) })) {
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
    // The outcome says what the execution status would (running, or how it ended), so the table leaves it out.
    ctx.out.result(out, () =>
      out.length === 0
        ? 'No migrations match.'
        : table(
            out.map((m) => [
              m.workflowId,
              m.runId,
              m.ticket ?? '',
              m.stage ?? '',
              m.outcome,
              m.startTime.slice(0, 16).replace('T', ' '),
            ]),
            ['WORKFLOW ID', 'RUN ID', 'TICKET', 'STAGE', 'OUTCOME', 'STARTED (UTC)'],
          ),
    );
    return out;
  });
}
