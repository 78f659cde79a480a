/** `cutover plan validate FILE` and `cutover plan show FILE`: a dry run that changes nothing. */
import { createAzureContext } from '../../azure/context';
import { runPreflight } from '../../azure/preflight';
import { loadPlanFile, PlanFileUnreadableError } from '../../plan/load';
import { type MigrationPlan, PlanValidationError } from '../../plan/schema';
import { CutoverFailure, FailureType } from '../../contracts/failures';
import { migrationWorkflowId } from '../../contracts/ids';
import type { BeforeState, PreflightProblem } from '../../contracts/model';
import { azureAccess } from '../azure';
import type { CliContext } from '../context';
import { withDevHints } from '../dev-hints';
import { type PlanEstimate, planDiff, planEstimate, renderPlanDiff, type ResourceDiff } from '../plan-diff';
import { UserError } from '../errors';
import { renderKeyHolderScan, renderPlanProblems, renderPlanSteps, renderPreflightProblems } from '../render';

export interface PlanOptions {
  readonly file: string;
  /** Validate the file only; do not read Azure. */
  readonly offline?: boolean;
}

export interface PlanReport {
  readonly file: string;
  readonly valid: boolean;
  readonly workflowId?: string;
  readonly plan?: MigrationPlan;
  readonly problems: readonly { field?: string; check?: string; message: string; hint?: string }[];
  readonly warnings: readonly string[];
  readonly steps: readonly string[];
  /** Before → after per resource (after a dry run against Azure). */
  readonly diff?: readonly ResourceDiff[];
  /** The longest the run may take, from the plan's budgets. */
  readonly estimate?: PlanEstimate;
  readonly before?: BeforeState;
}

/** Reads and validates a plan; a malformed plan is a user error listing every problem. */
export function readPlan(file: string): Promise<MigrationPlan> {
  return readPlanFile(file, loadPlanFile, { noun: 'plan', reference: 'the plan reference in the README' });
}

/** Reads a plan file of any kind with `load`; an unreadable or malformed file is a user error listing every problem. */
export async function readPlanFile<T>(
  file: string,
  load: (file: string) => Promise<T>,
  words: { readonly noun: string; readonly reference: string },
): Promise<T> {
  try {
    return await load(file);
  } catch (err) {
    if (err instanceof PlanFileUnreadableError)
      throw new UserError(err.message, 'check the path (relative to the current folder)');
    if (err instanceof PlanValidationError)
      throw new UserError(
        `${file} is not a valid ${words.noun} (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})`,
        `see ${words.reference}`,
        renderPlanProblems(err.problems),
      );
    throw err;
  }
}

/** Runs the read-only preflight from this process; returns the before-state or every problem found. */
export async function dryRun(
  ctx: CliContext,
  plan: MigrationPlan,
): Promise<{ before?: BeforeState; problems: PreflightProblem[] }> {
  const access = azureAccess(ctx);
  if (access.source === 'dev-simulator')
    ctx.out.info(`Using the local dev environment's Azure simulator (${access.endpoints.armEndpoint}).`);
  const azure = createAzureContext({ credential: access.credential, endpoints: access.endpoints });
  try {
    return { before: await runPreflight(azure, plan), problems: [] };
  } catch (err) {
    if (err instanceof CutoverFailure && err.type === FailureType.PreflightFailed) {
      const problems = (err.options.details ?? []) as PreflightProblem[];
      return { problems: access.source === 'dev-simulator' ? withDevHints(problems, plan) : problems };
    }
    if (err instanceof CutoverFailure) return { problems: [{ check: 'azure', message: err.message }] };
    throw err;
  }
}

export async function planCommand(ctx: CliContext, opts: PlanOptions, mode: 'validate' | 'show'): Promise<PlanReport> {
  let plan: MigrationPlan;
  try {
    plan = await loadPlanFile(opts.file);
  } catch (err) {
    if (err instanceof PlanFileUnreadableError)
      throw new UserError(err.message, 'check the path (relative to the current folder)');
    if (!(err instanceof PlanValidationError)) throw err;
    const report: PlanReport = { file: opts.file, valid: false, problems: err.problems, warnings: [], steps: [] };
    ctx.out.result(report, () =>
      [
        `${opts.file}: ${err.problems.length} problem(s)`,
        ...renderPlanProblems(err.problems).map((l) => `  ✗ ${l}`),
      ].join('\n'),
    );
    throw new UserError(
      `${opts.file} is not a valid plan`,
      'fix the fields above; the README lists every field and its default',
    );
  }
  const { before, problems } = opts.offline ? { before: undefined, problems: [] } : await dryRun(ctx, plan);
  const report: PlanReport = {
    file: opts.file,
    valid: problems.length === 0,
    workflowId: migrationWorkflowId(plan),
    plan,
    problems,
    warnings: before?.warnings ?? [],
    steps: renderPlanSteps(plan, before),
    ...(before && mode === 'show' ? { diff: planDiff(plan, before) } : {}),
    ...(mode === 'show' ? { estimate: planEstimate(plan) } : {}),
    ...(before && mode === 'show' ? { before } : {}),
  };
  ctx.out.result(report, () => {
    const lines = [
      `${opts.file}: ${problems.length === 0 ? (opts.offline ? 'valid (not checked against Azure)' : 'valid; preflight passed') : `${problems.length} problem(s)`}`,
    ];
    if (mode === 'show')
      lines.push('', `Workflow id: ${report.workflowId}`, 'What would change:', ...report.steps.map((s) => `  ${s}`));
    if (mode === 'show' && report.estimate)
      lines.push(
        '',
        report.diff ? 'Before → after:' : 'Before → after: (run without --offline to compare with Azure)',
        ...renderPlanDiff(report.diff ?? [], report.estimate).map((l) => (l ? `  ${l}` : l)),
      );
    if (mode === 'show' && before?.keyHolders)
      lines.push('', 'Who else holds the key:', ...renderKeyHolderScan(before.keyHolders).map((l) => `  ${l}`));
    if (report.warnings.length) lines.push('', 'Warnings:', ...report.warnings.map((w) => `  ! ${w}`));
    if (problems.length) lines.push('', 'Problems:', ...renderPreflightProblems(problems).map((l) => `  ✗ ${l}`));
    return lines.join('\n');
  });
  if (problems.length > 0)
    throw new UserError(
      `preflight found ${problems.length} problem(s); nothing was changed`,
      'fix the problems above (in the plan or in Azure), then run `cutover plan show` again',
    );
  return report;
}
