/**
 * `cutover fleet …`: a fleet plan's dry run, and a fleet's start, status, watch, decisions, abort and evidence.
 * The dry run validates the whole plan (every problem at once), then runs each caller's read-only preflight from
 * this process, a few at a time, so a bad caller is found before anything changes in Azure.
 */
import * as path from 'node:path';
import { workflowLink } from '../../client/connect';
import { FleetAlreadyRunningError, UpdateRefusedError } from '../../client/errors';
import { abortFleet, fleetResult, fleetStatus, resolveFleet, startFleet } from '../../client/fleets';
import { decide } from '../../client/migrations';
import {
  callerPlan,
  type FleetEvidence,
  type FleetPlan,
  type FleetProgress,
  fleetWorkflowId,
} from '../../contracts/fleet';
import type { ApprovalRecord, GateId, PreflightProblem } from '../../contracts/model';
import { fleetDiscovery, parseFleetPlan, withDiscoveredCallers } from '../../plan/fleet';
import { loadYamlFile } from '../../plan/load';
import { type Discovery, discoverCallers } from '../../azure/inventory/discover';
import { azureContext } from '../azure';
import { follow } from './watch';
import { type CliContext, withTemporal } from '../context';
import { UserError } from '../errors';
import { plural, renderFleetEvidence, renderFleetPlan, renderFleetProgress } from '../fleet-render';
import { personActing } from '../person';
import { renderPreflightProblems } from '../render';
import { dryRun, readPlanFile } from './plan';

/** Preflights at once during a dry run: each reads a few ARM resources. */
const DRY_RUN_CONCURRENCY = 4;

/**
 * The fleet plan of a file; with a `discover` section, the callers the inventory finds are added to the listed
 * ones first (read-only, from this process; not with `offline`). Says what discovery found and left out.
 */
export async function readFleetPlan(
  ctx: CliContext,
  file: string,
  opts: { offline?: boolean } = {},
): Promise<{ plan: FleetPlan; discovery?: Discovery }> {
  let discovery: Discovery | undefined;
  const load = async (f: string) => {
    let document = await loadYamlFile(f, (d) => d);
    const request = fleetDiscovery(document);
    if (request && !opts.offline) {
      ctx.out.info(`discovering the callers of ${request.accounts.map((a) => a.name).join(', ')} …`);
      discovery = await discoverCallers(
        azureContext(ctx),
        request.accounts.map((a) => a.ref),
        request,
      );
      document = withDiscoveredCallers(document as Record<string, unknown>, discovery.callers);
      ctx.out.info(
        `discovered ${plural(discovery.callers.length, 'caller')}${discovery.leftOut ? ` (${discovery.leftOut} key holders left out by the filters)` : ''}`,
      );
      for (const note of discovery.notes) ctx.out.info(`  note: ${note}`);
      if (discovery.problems.length)
        throw new UserError(
          `discovery found ${plural(discovery.problems.length, 'caller')} it cannot place; nothing was changed`,
          'list those callers yourself (under one account each), or narrow the filters',
          discovery.problems.map((p) => `  ✗ ${p}`),
        );
    }
    return parseFleetPlan(document, f);
  };
  const plan = await readPlanFile(file, load, { noun: 'fleet plan', reference: 'the fleet section of the README' });
  return { plan, ...(discovery ? { discovery } : {}) };
}

export interface FleetPlanReport {
  readonly file: string;
  readonly valid: boolean;
  readonly workflowId: string;
  readonly plan: FleetPlan;
  /** What discovery found, when the plan asked for it. */
  readonly discovery?: Discovery;
  /** Preflight problems, per caller (empty with --offline). */
  readonly problems: readonly (PreflightProblem & { readonly caller: string })[];
}

export async function fleetPlanCommand(
  ctx: CliContext,
  opts: { file: string; offline?: boolean },
): Promise<FleetPlanReport> {
  const { plan, discovery } = await readFleetPlan(ctx, opts.file, opts);
  const problems: (PreflightProblem & { caller: string })[] = [];
  if (!opts.offline) {
    let next = 0;
    let done = 0;
    const worker = async () => {
      for (let i = next++; i < plan.callers.length; i = next++) {
        const found = await dryRun(ctx, callerPlan(plan, i));
        problems.push(...found.problems.map((p) => ({ ...p, caller: plan.callers[i].id })));
        if (++done % 10 === 0) ctx.out.info(`preflight: ${done} of ${plan.callers.length} callers`);
      }
    };
    await Promise.all(Array.from({ length: DRY_RUN_CONCURRENCY }, worker));
    problems.sort((a, b) => a.caller.localeCompare(b.caller));
  }
  const report: FleetPlanReport = {
    file: opts.file,
    valid: problems.length === 0,
    workflowId: fleetWorkflowId(plan.changeTicket),
    plan,
    ...(discovery ? { discovery } : {}),
    problems,
  };
  ctx.out.result(report, () =>
    [
      `${opts.file}: ${problems.length === 0 ? (opts.offline ? 'valid (not checked against Azure)' : `valid; the preflight of every caller passed`) : `${problems.length} problem(s)`}`,
      '',
      ...renderFleetPlan(plan, report.workflowId),
      ...(problems.length
        ? ['', 'Problems:', ...problems.map((p) => `  ✗ ${p.caller}: ${renderPreflightProblems([p])[0]}`)]
        : []),
    ].join('\n'),
  );
  if (problems.length > 0)
    throw new UserError(
      `preflight found ${problems.length} problem(s) in the fleet; nothing was changed`,
      'fix the problems above (in the plan or in Azure), then run `cutover fleet plan` again',
    );
  return report;
}

export async function fleetStartCommand(
  ctx: CliContext,
  opts: { file: string; as?: string },
): Promise<{ workflowId: string; runId: string; link?: string }> {
  const initiatedBy = personActing(ctx, opts.as, 'starts the fleet');
  const { plan } = await readFleetPlan(ctx, opts.file);
  return withTemporal(ctx, async (t) => {
    const workflowId = fleetWorkflowId(plan.changeTicket);
    const handle = await startFleet(t, plan, initiatedBy, { planFile: path.basename(opts.file) }).catch(
      (err: unknown) => {
        if (err instanceof FleetAlreadyRunningError)
          throw new UserError(
            `a fleet for ${plan.changeTicket} is already running (workflow id ${workflowId})`,
            `follow it with \`cutover fleet watch ${plan.changeTicket}\`, or stop it with \`cutover fleet abort\``,
          );
        throw err;
      },
    );
    const link = workflowLink(t, workflowId);
    const result = { workflowId, runId: handle.firstExecutionRunId, ...(link ? { link } : {}) };
    ctx.out.result(result, () =>
      [
        `Started fleet ${workflowId}: ${plural(plan.callers.length, 'caller')} on ${plural(plan.accounts.length, 'account')} in ${plural(plan.waves.length, 'wave')}`,
        ...(link ? [`Web UI: ${link}`] : []),
        `Follow it: cutover fleet watch ${plan.changeTicket}`,
      ].join('\n'),
    );
    return result;
  });
}

export async function fleetStatusCommand(
  ctx: CliContext,
  opts: { fleet: string },
): Promise<{ executionStatus: string; progress?: FleetProgress }> {
  return withTemporal(ctx, async (t) => {
    const status = await fleetStatus(t, resolveFleet(opts.fleet));
    ctx.out.result(status, () =>
      status.progress
        ? renderFleetProgress(status.progress, status.executionStatus).join('\n')
        : `${resolveFleet(opts.fleet)}: ${status.executionStatus} (no worker has answered yet)`,
    );
    return status;
  });
}

/** Prints the fleet's table whenever it changes (a JSON line each with `-o json`), until the fleet ends. */
export async function fleetWatchCommand(
  ctx: CliContext,
  opts: { fleet: string; intervalMs?: number },
): Promise<{ executionStatus: string; progress?: FleetProgress }> {
  return withTemporal(ctx, async (t) => {
    const workflowId = resolveFleet(opts.fleet);
    return follow(
      ctx,
      () => fleetStatus(t, workflowId),
      (status) =>
        status.progress
          ? renderFleetProgress(status.progress, status.executionStatus).join('\n')
          : `${workflowId}: ${status.executionStatus} (waiting for a worker)`,
      (status) => status.executionStatus === 'RUNNING',
      opts.intervalMs ?? 2000,
    );
  });
}

export async function fleetDecideCommand(
  ctx: CliContext,
  opts: { fleet: string; as?: string; comment?: string; gate?: string },
  decision: 'approve' | 'reject',
): Promise<ApprovalRecord> {
  const approver = personActing(ctx, opts.as, decision === 'approve' ? 'approves' : 'rejects');
  return withTemporal(ctx, async (t) => {
    const workflowId = resolveFleet(opts.fleet);
    const record = await decide(t, workflowId, decision, {
      approver,
      ...(opts.comment ? { comment: opts.comment } : {}),
      ...(opts.gate ? { gate: opts.gate as GateId } : {}),
    }).catch((err: unknown) => {
      if (err instanceof UpdateRefusedError)
        throw new UserError(
          err.message,
          `nothing was recorded; see the open gate with \`cutover fleet status ${opts.fleet}\``,
        );
      throw err;
    });
    ctx.out.result(record, () => `${record.decision} gate "${record.gate}" of ${workflowId} as ${record.by}`);
    return record;
  });
}

export async function fleetAbortCommand(
  ctx: CliContext,
  opts: { fleet: string; as?: string; reason: string },
): Promise<FleetProgress> {
  const by = personActing(ctx, opts.as, 'aborts');
  return withTemporal(ctx, async (t) => {
    const workflowId = resolveFleet(opts.fleet);
    const p = await abortFleet(t, workflowId, { by, reason: opts.reason }).catch((err: unknown) => {
      if (err instanceof UpdateRefusedError) throw new UserError(err.message);
      throw err;
    });
    ctx.out.result(
      p,
      () => `Stopping fleet ${workflowId}: no new caller starts. Follow it: cutover fleet watch ${p.changeTicket}`,
    );
    return p;
  });
}

export async function fleetEvidenceCommand(
  ctx: CliContext,
  opts: { fleet: string; format?: 'json' | 'markdown' },
): Promise<FleetEvidence> {
  return withTemporal(ctx, async (t) => {
    const result = await fleetResult(t, resolveFleet(opts.fleet));
    const markdown = (opts.format ?? 'markdown') === 'markdown' && ctx.out.format === 'text';
    ctx.out.result(result.evidence, () =>
      markdown ? renderFleetEvidence(result.evidence) : JSON.stringify(result.evidence, null, 2),
    );
    return result.evidence;
  });
}
