/**
 * `cutover start FILE`: starts the migration workflow, then waits (bounded) for the workflow's own preflight — run
 * by the worker, with the worker's identity and view of Azure, which is the one that matters — and says whether it
 * passed, listing every problem when it did not.
 */
import * as path from 'node:path';
import { workflowLink } from '../../client/connect';
import { MigrationAlreadyRunningError } from '../../client/errors';
import { awaitPreflight, type PreflightReport, startMigration } from '../../client/migrations';
import { migrationWorkflowId } from '../../contracts/ids';
import { alreadyRunningHint } from '../client-errors';
import { type CliContext, withTemporal } from '../context';
import { withDevHints } from '../dev-hints';
import { UserError } from '../errors';
import { personActing } from '../person';
import { renderPreflightProblems } from '../render';
import { readPlan } from './plan';
import { watchLoop } from './watch';

export type { PreflightReport };

/** How long `start` waits for the preflight: it reads Azure only, so minutes mean something is wrong. */
export const PREFLIGHT_WAIT_MS = 2 * 60_000;

export interface StartOptions {
  readonly file: string;
  /** Who starts the migration (recorded; used by the four-eyes rule). Defaults to CUTOVER_USER. */
  readonly as?: string;
  readonly watch?: boolean;
}

export interface StartResult {
  readonly workflowId: string;
  readonly runId: string;
  readonly link?: string;
  readonly preflight: PreflightReport;
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
    const handle = await startMigration(t, plan, initiatedBy, {
      planFile: path.basename(opts.file),
      workflowIdConflictPolicy: 'FAIL',
    }).catch((err: unknown) => {
      if (err instanceof MigrationAlreadyRunningError)
        throw new UserError(
          `a migration of ${plan.target.name} is already running (workflow id ${workflowId})`,
          alreadyRunningHint(workflowId),
        );
      throw err;
    });
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
