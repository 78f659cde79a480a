/**
 * Migrations as Temporal sees them: start one, find one by workflow id or app name, read its status, send it
 * decisions, fetch its result. Returns data and throws the typed errors of ./errors; prints nothing.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandleWithFirstExecutionRunId,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import type { PollProgress } from '../contracts/probes';
import { migrationWorkflowId } from '../contracts/ids';
import type { AbortInput, DecisionInput, OperatorInput } from '../contracts/messages';
import type {
  ApprovalRecord,
  MigrationInput,
  MigrationProgress,
  MigrationResult,
  PreflightProblem,
  StageId,
} from '../contracts/model';
import { CutoverApp, CutoverStage, CutoverTicket, initialSearchAttributes } from '../contracts/search-attributes';
import type { MigrationPlan } from '../plan/schema';
import type { migrateToManagedIdentity } from '../workflows';
import {
  abortUpdate,
  approveUpdate,
  progressQuery,
  rejectUpdate,
  retryCompensationUpdate,
  skipCompensationUpdate,
} from '../workflows/migration/messages';
import { firstLine, type TemporalAccess, workflowLink } from './connect';
import {
  AmbiguousMigrationError,
  MigrationAlreadyRunningError,
  MigrationEndedError,
  MigrationNotFoundError,
  MigrationStillRunningError,
  MissingSearchAttributeError,
  NoEvidenceError,
  NoWorkerError,
  NoWorkerForStartError,
  PreflightTimeoutError,
  ProgressUnreadableError,
  RunNotFoundError,
  UpdateRefusedError,
} from './errors';
import { closedFromOutsideNote, effectiveOutcome } from './outcome';

/**
 * The workflow type, as registered: the workflow function's own name (test/client checks they agree). A string, so
 * that reading migrations does not load the workflow code.
 */
export const MIGRATION_WORKFLOW_TYPE = 'migrateToManagedIdentity';

export type MigrationHandle = WorkflowHandleWithFirstExecutionRunId<typeof migrateToManagedIdentity>;

/** A string literal for a visibility query. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

// ------------------------------------------------------------------------------------------------------------------
// Start

export interface StartMigrationOptions {
  /** The plan file's name, shown in the Web UI. */
  readonly planFile: string;
  readonly workflowIdConflictPolicy: 'FAIL' | 'TERMINATE_EXISTING';
}

/**
 * Starts the migration workflow the way every entry point should: the app-derived id, the summary and details
 * the Web UI shows, and the search attributes `cutover list` filters on (the same ones the workflow sets).
 */
export async function startMigration(
  t: Pick<TemporalAccess, 'client' | 'taskQueue' | 'namespace'>,
  plan: MigrationPlan,
  initiatedBy: string,
  options: StartMigrationOptions,
): Promise<MigrationHandle> {
  const workflowId = migrationWorkflowId(plan);
  const input: MigrationInput = { plan, initiatedBy };
  try {
    return await t.client.workflow.start<typeof migrateToManagedIdentity>(MIGRATION_WORKFLOW_TYPE, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: options.workflowIdConflictPolicy,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `${plan.changeTicket}: ${plan.target.name} → managed identity on ${plan.account.name}`,
      staticDetails: `Plan: ${options.planFile} · identity ${plan.identity.type} · strategy ${plan.strategy.type} · started by ${initiatedBy}`,
      typedSearchAttributes: initialSearchAttributes(plan),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new MigrationAlreadyRunningError(workflowId);
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? '';
    const missing = /no mapping defined for search attribute (\w+)/.exec(cause)?.[1];
    if (missing) throw new MissingSearchAttributeError(t.namespace, missing);
    throw err;
  }
}

/** What the workflow's own preflight found. */
export interface PreflightReport {
  readonly passed: boolean;
  readonly problems: readonly PreflightProblem[];
  /** When it did not pass: how the migration ended, and why. */
  readonly outcome?: string;
  readonly reason?: string;
}

/** Polls a started migration until its preflight stage is done, or it has ended without passing it. */
export async function awaitPreflight(
  t: TemporalAccess,
  handle: MigrationHandle,
  timeoutMs: number,
): Promise<PreflightReport> {
  const id = handle.workflowId;
  if (!(await hasPollers(t, t.taskQueue))) throw new NoWorkerForStartError(id, t.taskQueue);
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
    if (Date.now() > deadline) throw new PreflightTimeoutError(id, timeoutMs);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Find and read

/** Temporal run ids are UUIDs; the server refuses anything else as a malformed request, not as "not found". */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One run of a migration (`runId`), or its latest run (no `runId`). */
async function describe(t: Pick<TemporalAccess, 'client'>, id: string, runId?: string) {
  if (runId !== undefined && !RUN_ID.test(runId)) throw new RunNotFoundError(id, runId);
  try {
    return await t.client.workflow.getHandle(id, runId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw runId === undefined ? new MigrationNotFoundError(id) : new RunNotFoundError(id, runId);
    throw err;
  }
}

/** The execution status name (RUNNING, COMPLETED, TERMINATED, …) of a migration (its latest run, or `runId`). */
export async function executionStatus(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  runId?: string,
): Promise<string> {
  return (await describe(t, workflowId, runId)).status.name;
}

/**
 * What the user typed after the command: a workflow id, or just the app's name — then its running migration (or,
 * if none runs, its latest one), found through the `CutoverApp` search attribute.
 */
export async function resolveMigration(t: Pick<TemporalAccess, 'client'>, idOrApp: string): Promise<string> {
  if (idOrApp.includes('/')) return idOrApp;
  const found: { workflowId: string; running: boolean }[] = [];
  const query = `WorkflowType = ${quote(MIGRATION_WORKFLOW_TYPE)} AND ${CutoverApp.name} = ${quote(idOrApp)}`;
  for await (const wf of t.client.workflow.list({ query })) {
    found.push({ workflowId: wf.workflowId, running: wf.status.name === 'RUNNING' });
    if (found.length >= 50) break;
  }
  const running = [...new Set(found.filter((f) => f.running).map((f) => f.workflowId))];
  if (running.length > 1) throw new AmbiguousMigrationError(idOrApp, running);
  return running[0] ?? found[0]?.workflowId ?? idOrApp;
}

/** A migration and, when one was named, one run of it. */
export interface MigrationRef {
  readonly workflowId: string;
  /** Absent: the latest run. */
  readonly runId?: string;
}

/**
 * What the user typed after the command, and `--run` if given: without a run id as `resolveMigration`; with one, the
 * run of that workflow id, or the app's migration that has this run (any of its runs, ended or not).
 */
export async function resolveMigrationRun(
  t: Pick<TemporalAccess, 'client'>,
  idOrApp: string,
  runId?: string,
): Promise<MigrationRef> {
  if (runId === undefined) return { workflowId: await resolveMigration(t, idOrApp) };
  if (!RUN_ID.test(runId)) throw new RunNotFoundError(idOrApp, runId);
  if (idOrApp.includes('/')) {
    await describe(t, idOrApp, runId);
    return { workflowId: idOrApp, runId };
  }
  const query = `WorkflowType = ${quote(MIGRATION_WORKFLOW_TYPE)} AND ${CutoverApp.name} = ${quote(idOrApp)} AND RunId = ${quote(runId)}`;
  for await (const wf of t.client.workflow.list({ query })) return { workflowId: wf.workflowId, runId: wf.runId };
  throw new RunNotFoundError(idOrApp, runId);
}

/** Whether any worker polled the task queue for workflow tasks recently (the server remembers about a minute). */
export async function hasPollers(t: Pick<TemporalAccess, 'client' | 'namespace'>, taskQueue: string) {
  const res = await t.client.workflowService.describeTaskQueue({
    namespace: t.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers?.length ?? 0) > 0;
}

/** The progress a running migration reports, or undefined while no worker has answered yet. */
export async function queryProgress(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
): Promise<MigrationProgress | undefined> {
  return t.client.workflow
    .getHandle(workflowId)
    .query(progressQuery)
    .catch(() => undefined);
}

/** A migration's progress, with the outcome it really has (`terminated` and the like when ended from outside). */
export type ShownProgress = Omit<MigrationProgress, 'outcome'> & { readonly outcome: string };

export interface MigrationStatus {
  readonly workflowId: string;
  /** The run shown: the one asked for, else the latest. */
  readonly runId: string;
  /** The execution's status (RUNNING, COMPLETED, TERMINATED, …). */
  readonly status: string;
  /** The effective outcome, as `cutover list` shows it (also in `progress.outcome`). */
  readonly outcome: string;
  readonly progress: ShownProgress;
  readonly link?: string;
}

function progressFromResult(r: MigrationResult): MigrationProgress {
  const e = r.evidence;
  return {
    workflowId: e.workflowId,
    changeTicket: e.changeTicket,
    initiatedBy: e.initiatedBy,
    stage: 'evidence',
    stages: e.stages,
    outcome: e.outcome,
    ...(e.reason ? { reason: e.reason } : {}),
    approvals: e.approvals,
  };
}

/**
 * How far a poll running inside an activity has got ("attempt 37, last: PermissionDenied: …"), from the
 * heartbeat of the pending `pollApp` activity: the workflow itself only knows that it waits.
 */
export async function pollProgress(
  t: Pick<TemporalAccess, 'client'>,
  desc: Awaited<ReturnType<typeof describe>>,
): Promise<string | undefined> {
  // One poll (`pollApp`), or every slot's identity probe polled together (`pollApps`, a list of progresses).
  const pending = desc.raw.pendingActivities?.find((a) => ['pollApp', 'pollApps'].includes(a.activityType?.name ?? ''));
  const payloads = pending?.heartbeatDetails?.payloads;
  if (!payloads?.length) return undefined;
  const details = await decodeFromPayloadsAtIndex<PollProgress | (PollProgress | null)[]>(
    t.client.workflow.options.loadedDataConverter,
    0,
    payloads,
  ).catch(() => undefined);
  const polls = (Array.isArray(details) ? details : [details]).filter((d): d is PollProgress => !!d?.attempts);
  if (!polls.length) return undefined;
  return polls.map((d) => `attempt ${d.attempts}${d.last ? `, last: ${d.last}` : ''}`).join('; ');
}

/**
 * Where a migration (its latest run, or `runId`) is: from its result once completed, from its worker while it runs,
 * else what is known.
 */
export async function migrationStatus(t: TemporalAccess, workflowId: string, runId?: string): Promise<MigrationStatus> {
  const desc = await describe(t, workflowId, runId);
  // That very run, not whichever is the latest by the time it is read.
  const handle = t.client.workflow.getHandle(workflowId, desc.runId);
  const status = desc.status.name;
  let progress: MigrationProgress;
  if (status === 'COMPLETED') {
    progress = progressFromResult((await handle.result()) as MigrationResult);
  } else if (status === 'RUNNING') {
    if (!(await hasPollers(t, desc.taskQueue))) throw new NoWorkerError(workflowId, desc.taskQueue);
    try {
      progress = await handle.query(progressQuery);
    } catch (err) {
      throw new ProgressUnreadableError(workflowId, desc.taskQueue, firstLine(err));
    }
  } else {
    // Ended from outside: a worker can still replay its last progress; without one, the search attributes tell some.
    const sa = desc.typedSearchAttributes;
    progress = await handle.query(progressQuery).catch(() => ({
      workflowId,
      changeTicket: sa.get(CutoverTicket) ?? '',
      initiatedBy: '(unknown: no worker to ask)',
      stage: (sa.get(CutoverStage) ?? 'preflight') as StageId,
      stages: [],
      outcome: 'running' as const,
      approvals: [],
    }));
  }
  if (status === 'RUNNING' && progress.waitingFor) {
    const polling = await pollProgress(t, desc);
    if (polling) progress = { ...progress, waitingFor: `${progress.waitingFor} — ${polling}` };
  }
  const outcome = effectiveOutcome(status, progress.outcome);
  const note = closedFromOutsideNote(status);
  const link = workflowLink(t, workflowId);
  return {
    workflowId,
    runId: desc.runId,
    status,
    outcome,
    progress: { ...progress, outcome, ...(note && !progress.reason ? { reason: note } : {}) },
    ...(link ? { link } : {}),
  };
}

/**
 * The result of a completed migration (its latest run, or `runId`): its evidence. Refused while it runs or when it
 * ended from outside.
 */
export async function migrationResult(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  runId?: string,
): Promise<MigrationResult> {
  const desc = await describe(t, workflowId, runId);
  const status = desc.status.name;
  if (status === 'RUNNING') throw new MigrationStillRunningError(workflowId);
  if (status !== 'COMPLETED') throw new NoEvidenceError(workflowId, status);
  return (await t.client.workflow.getHandle(workflowId, desc.runId).result()) as MigrationResult;
}

/** Waits for a migration to end and returns its result. */
export async function awaitResult(t: Pick<TemporalAccess, 'client'>, workflowId: string): Promise<MigrationResult> {
  return (await t.client.workflow.getHandle(workflowId).result()) as MigrationResult;
}

// ------------------------------------------------------------------------------------------------------------------
// Decisions

/** Sends an update; the workflow's refusal (its validator's one line) and an ended workflow become typed errors. */
export async function update<R>(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  fn: () => Promise<R>,
): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new UpdateRefusedError(workflowId, err.cause?.message ?? err.message);
    if (err instanceof WorkflowNotFoundError) {
      // The server answers an update to a closed workflow with "not found": tell an ended migration from none.
      const status = await executionStatus(t, workflowId);
      if (status === 'RUNNING') throw err;
      throw new MigrationEndedError(workflowId, status);
    }
    throw err;
  }
}

/** Approves or rejects the open gate. */
export function decide(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  decision: 'approve' | 'reject',
  input: DecisionInput,
): Promise<ApprovalRecord> {
  const handle = t.client.workflow.getHandle(workflowId);
  return update(t, workflowId, () =>
    handle.executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [input] }),
  );
}

/** Aborts a running migration: it rolls back what it changed. */
export function abortMigration(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  input: AbortInput,
): Promise<MigrationProgress> {
  const handle = t.client.workflow.getHandle(workflowId);
  return update(t, workflowId, () => handle.executeUpdate(abortUpdate, { args: [input] }));
}

/** Retries, or skips, the rollback step that is blocked. */
export function resolveBlockedStep(
  t: Pick<TemporalAccess, 'client'>,
  workflowId: string,
  action: 'retry' | 'skip',
  input: OperatorInput,
): Promise<MigrationProgress> {
  const handle = t.client.workflow.getHandle(workflowId);
  return update(t, workflowId, () =>
    handle.executeUpdate(action === 'retry' ? retryCompensationUpdate : skipCompensationUpdate, { args: [input] }),
  );
}
