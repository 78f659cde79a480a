/**
 * `cutover start FILE`: starts the migration workflow, then waits (bounded) for the workflow's own preflight — run
 * by the worker, with the worker's identity and view of Azure, which is the one that matters — and says whether it
 * passed, listing every problem when it did not.
 */
import * as path from 'node:path';
import { type WorkflowHandle, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { formatDuration, type MigrationPlan } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { progressQuery } from '../../workflows/migration/messages';
import { initialSearchAttributes } from '../../contracts/search-attributes';
import type { MigrationResult, PreflightProblem } from '../../contracts/model';
import { type CliContext, type TemporalAccess, workflowLink } from '../context';
import { withDevHints } from '../dev-hints';
import { UserError } from '../errors';
import { effectiveOutcome } from '../outcome';
import { personActing } from '../person';
import { renderPreflightProblems } from '../render';
import { hasPollers, watchLoop, withTemporal } from './migrations';
import { readPlan } from './plan';

/** How long `start` waits for the preflight: it reads Azure only, so minutes mean something is wrong. */
export const PREFLIGHT_WAIT_MS = 2 * 60_000;

export interface StartOptions {
  readonly file: string;
  /** Who starts the migration (recorded; used by the four-eyes rule). Defaults to CUTOVER_USER. */
  readonly as?: string;
  readonly watch?: boolean;
}

/** What the workflow's preflight found. */
export interface PreflightReport {
  readonly passed: boolean;
  readonly problems: readonly PreflightProblem[];
  /** When it did not pass: how the migration ended, and why. */
  readonly outcome?: string;
  readonly reason?: string;
}

export interface StartResult {
  readonly workflowId: string;
  readonly runId: string;
  readonly link?: string;
  readonly preflight: PreflightReport;
}

/**
 * Starts the migration workflow the way every entry point should: the app-derived id, the summary and details
 * the Web UI shows, and the search attributes `cutover list` filters on.
 */
export function startMigration(
  t: Pick<TemporalAccess, 'client' | 'taskQueue'>,
  plan: MigrationPlan,
  initiatedBy: string,
  options: { planFile: string; workflowIdConflictPolicy: 'FAIL' | 'TERMINATE_EXISTING' },
) {
  return t.client.workflow.start(migrateToManagedIdentity, {
    taskQueue: t.taskQueue,
    workflowId: migrationWorkflowId(plan),
    args: [{ plan, initiatedBy }],
    workflowIdConflictPolicy: options.workflowIdConflictPolicy,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `${plan.changeTicket}: ${plan.target.name} → managed identity on ${plan.account.name}`,
    staticDetails: `Plan: ${options.planFile} · identity ${plan.identity.type} · strategy ${plan.strategy.type} · started by ${initiatedBy}`,
    typedSearchAttributes: initialSearchAttributes(plan),
  });
}

/** Polls the started workflow until its preflight stage is done, or the workflow has ended without passing it. */
async function awaitPreflight(
  t: TemporalAccess,
  handle: WorkflowHandle<typeof migrateToManagedIdentity>,
  timeoutMs: number,
): Promise<PreflightReport> {
  const id = handle.workflowId;
  if (!(await hasPollers(t, t.taskQueue)))
    throw new UserError(
      `started ${id}, but no cutover worker polls task queue ${t.taskQueue}, so its preflight cannot run`,
      `start a worker (\`cutover dev\` locally, or \`cutover worker\`): the migration waits for one; follow it with \`cutover watch ${id}\``,
    );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await handle.describe()).status.name;
    if (status === 'COMPLETED') {
      const result: MigrationResult = await handle.result();
      if (result.evidence.stages.find((s) => s.id === 'preflight')?.status === 'done')
        return { passed: true, problems: [] };
      return {
        passed: false,
        problems: result.evidence.preflightProblems ?? [],
        outcome: result.outcome,
        ...(result.reason ? { reason: result.reason } : {}),
      };
    }
    if (status !== 'RUNNING')
      return {
        passed: false,
        problems: [],
        outcome: effectiveOutcome(status, undefined),
        reason: `workflow ${status}`,
      };
    // The query fails until the worker has run the first workflow task: keep polling.
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress?.stages.find((s) => s.id === 'preflight')?.status === 'done') return { passed: true, problems: [] };
    if (Date.now() > deadline)
      throw new UserError(
        `the preflight of ${id} has not finished after ${formatDuration(timeoutMs)}`,
        `the migration is still running; follow it with \`cutover watch ${id}\``,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

function renderPreflight(p: PreflightReport): string[] {
  if (p.passed) return ['preflight passed'];
  if (p.problems.length === 0)
    return [`the migration ended ${p.outcome} before its preflight passed: ${p.reason ?? ''}`];
  return [
    `preflight failed: ${p.problems.length} problem(s); the migration ended ${p.outcome} and changed nothing`,
    '',
    'Problems:',
    ...renderPreflightProblems(p.problems).map((l) => `  ✗ ${l}`),
  ];
}

export async function startCommand(ctx: CliContext, opts: StartOptions): Promise<StartResult> {
  const initiatedBy = personActing(ctx, opts.as, 'starts the migration');
  const plan = await readPlan(opts.file);
  return withTemporal(ctx, async (t) => {
    const workflowId = migrationWorkflowId(plan);
    let handle;
    try {
      handle = await startMigration(t, plan, initiatedBy, {
        planFile: path.basename(opts.file),
        workflowIdConflictPolicy: 'FAIL',
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new UserError(
          `a migration of ${plan.target.name} is already running (workflow id ${workflowId})`,
          `follow it with \`cutover watch ${workflowId}\`, or abort it with \`cutover abort ${workflowId} --reason … --as NAME\``,
        );
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? '';
      const missing = /no mapping defined for search attribute (\w+)/.exec(cause)?.[1];
      if (missing)
        throw new UserError(
          `the Temporal namespace ${t.namespace} has no search attribute ${missing}`,
          'register cutover’s search attributes once: temporal operator search-attribute create --name CutoverStage --type Keyword (likewise CutoverApp, CutoverAccount, CutoverTicket, CutoverOutcome)',
        );
      throw err;
    }
    const link = workflowLink(t, workflowId);
    ctx.out.info(`Waiting for the worker's preflight of ${workflowId} …`);
    let preflight = await awaitPreflight(t, handle, PREFLIGHT_WAIT_MS);
    // The worker of a running `cutover dev` reads the dev simulator, whose state outlives a migration.
    if (ctx.dev && t.address === ctx.dev.temporal.address)
      preflight = { ...preflight, problems: withDevHints(preflight.problems, plan) };
    const result: StartResult = { workflowId, runId: handle.firstExecutionRunId, ...(link ? { link } : {}), preflight };
    if (!preflight.passed || !opts.watch)
      ctx.out.result(result, () =>
        [
          `Started migration ${workflowId}`,
          ...renderPreflight(preflight),
          ...(preflight.passed
            ? [...(link ? [`Web UI: ${link}`] : []), `Follow it: cutover watch ${workflowId}`]
            : link
              ? ['', `Web UI: ${link}`]
              : []),
        ].join('\n'),
      );
    if (!preflight.passed)
      throw new UserError(
        preflight.problems.length
          ? `preflight found ${preflight.problems.length} problem(s); nothing was changed`
          : `the migration ended ${preflight.outcome} before its preflight passed`,
        preflight.problems.length
          ? `fix the problems above (in the plan or in Azure), check with \`cutover plan show ${opts.file}\`, then start again`
          : `see why with \`cutover status ${workflowId}\``,
      );
    if (opts.watch) {
      ctx.out.info(`preflight passed${link ? `\nWeb UI: ${link}` : ''}`);
      await watchLoop(ctx, t, workflowId);
    }
    return result;
  });
}
