/**
 * Commands on a running or ended migration: status, watch, approve, reject, abort, retry, skip, evidence — and the
 * Temporal plumbing `start` (start.ts) and `list` (list.ts) share. Each command exports an options type and an async
 * function callable from tests without argv.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { evidenceFileName } from '../../contracts/ids';
import {
  abortUpdate,
  approveUpdate,
  progressQuery,
  rejectUpdate,
  retryCompensationUpdate,
  skipCompensationUpdate,
} from '../../workflows/migration/messages';
import { CutoverApp, CutoverStage, CutoverTicket } from '../../contracts/search-attributes';
import type {
  ApprovalRecord,
  Evidence,
  GateId,
  MigrationProgress,
  MigrationResult,
  StageId,
} from '../../contracts/model';
import { type CliContext, connectTemporal, type TemporalAccess, workflowLink } from '../context';
import { UserError } from '../errors';
import { closedFromOutsideNote, effectiveOutcome } from '../outcome';
import { personActing } from '../person';
import { renderEvidenceMarkdown, renderProgress } from '../render';

export const MIGRATION_WORKFLOW = 'migrateToManagedIdentity';

export async function withTemporal<T>(ctx: CliContext, fn: (t: TemporalAccess) => Promise<T>): Promise<T> {
  const t = await connectTemporal(ctx);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

function notFound(id: string): UserError {
  return new UserError(
    `no migration with workflow id ${id.includes('/') ? '' : 'or app name '}${id}`,
    'list migrations with `cutover list`',
  );
}

async function describe(client: Client, id: string) {
  try {
    return await client.workflow.getHandle(id).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(id);
    throw err;
  }
}

/** A string literal for a visibility query. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * What the user typed after the command: a workflow id, or just the app's name — then its running migration (or,
 * if none runs, its latest one), found through the `CutoverApp` search attribute.
 */
async function resolveId(t: TemporalAccess, idOrApp: string): Promise<string> {
  if (idOrApp.includes('/')) return idOrApp;
  const found: { workflowId: string; running: boolean }[] = [];
  const query = `WorkflowType = '${MIGRATION_WORKFLOW}' AND ${CutoverApp.name} = ${quote(idOrApp)}`;
  for await (const wf of t.client.workflow.list({ query })) {
    found.push({ workflowId: wf.workflowId, running: wf.status.name === 'RUNNING' });
    if (found.length >= 50) break;
  }
  const running = [...new Set(found.filter((f) => f.running).map((f) => f.workflowId))];
  if (running.length > 1)
    throw new UserError(
      `${running.length} running migrations are of apps named ${idOrApp}`,
      `name one by its workflow id: ${running.join(', ')}`,
    );
  return running[0] ?? found[0]?.workflowId ?? idOrApp;
}

// ------------------------------------------------------------------------------------------------------------------

export interface StatusOptions {
  readonly workflowId: string;
}

/** A migration's progress, with the outcome it really has (`terminated` and the like when ended from outside). */
export type ShownProgress = Omit<MigrationProgress, 'outcome'> & { readonly outcome: string };

export interface StatusResult {
  readonly workflowId: string;
  /** The execution's status (RUNNING, COMPLETED, TERMINATED, …). */
  readonly status: string;
  /** The effective outcome, as `cutover list` shows it (also in `progress.outcome`). */
  readonly outcome: string;
  readonly progress: ShownProgress;
  readonly link?: string;
}

async function statusOf(t: TemporalAccess, workflowId: string): Promise<StatusResult> {
  const desc = await describe(t.client, workflowId);
  const handle = t.client.workflow.getHandle(workflowId);
  const status = desc.status.name;
  let progress: MigrationProgress;
  if (status === 'COMPLETED') {
    progress = progressFromResult((await handle.result()) as MigrationResult);
  } else if (status === 'RUNNING') {
    if (!(await hasPollers(t, desc.taskQueue)))
      throw new UserError(
        `no cutover worker polls task queue ${desc.taskQueue}, so ${workflowId} cannot make progress or answer`,
        'start one with `cutover dev` (local) or `cutover worker`',
      );
    try {
      progress = await handle.query(progressQuery);
    } catch (err) {
      throw new UserError(
        `cannot read the progress of ${workflowId}: ${(err as Error).message.split('\n')[0]}`,
        `is a cutover worker polling task queue ${desc.taskQueue}? start one with \`cutover dev\` or \`cutover worker\``,
      );
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
  const outcome = effectiveOutcome(status, progress.outcome);
  const note = closedFromOutsideNote(status);
  const link = workflowLink(t, workflowId);
  return {
    workflowId,
    status,
    outcome,
    progress: { ...progress, outcome, ...(note && !progress.reason ? { reason: note } : {}) },
    ...(link ? { link } : {}),
  };
}

/** Whether any worker polled the task queue for workflow tasks recently (the server remembers about a minute). */
export async function hasPollers(t: TemporalAccess, taskQueue: string): Promise<boolean> {
  const res = await t.client.workflowService.describeTaskQueue({
    namespace: t.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers?.length ?? 0) > 0;
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

export async function statusCommand(ctx: CliContext, opts: StatusOptions): Promise<StatusResult> {
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const s = await statusOf(t, workflowId);
    ctx.out.result(s, () => renderProgress(s.progress, s.status) + (s.link ? `\n\nWeb UI: ${s.link}` : ''));
    return s;
  });
}

export async function watchLoop(ctx: CliContext, t: TemporalAccess, workflowId: string): Promise<StatusResult> {
  const live = ctx.out.format === 'text' && !!process.stdout.isTTY;
  let last = '';
  for (;;) {
    const s = await statusOf(t, workflowId);
    const text = renderProgress(s.progress, s.status);
    if (text !== last) {
      if (live) process.stdout.write('\x1b[2J\x1b[H');
      if (ctx.out.format === 'json') process.stdout.write(`${JSON.stringify(s)}\n`);
      else process.stdout.write(`${text}\n${live ? '' : '\n'}`);
      last = text;
    }
    if (s.status !== 'RUNNING') return s;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function watchCommand(ctx: CliContext, opts: StatusOptions): Promise<StatusResult> {
  return withTemporal(ctx, async (t) => watchLoop(ctx, t, await resolveId(t, opts.workflowId)));
}

// ------------------------------------------------------------------------------------------------------------------

export interface DecideOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly comment?: string;
  /** The gate meant; the workflow refuses the decision unless it is the open one. */
  readonly gate?: GateId;
}

/** Sends an update; the workflow's refusal (its validator's one line) and an ended workflow become user errors. */
async function update<R>(
  fn: () => Promise<R>,
  workflowId: string,
  client: Client,
  refusedHint = `see what the migration waits for with \`cutover status ${workflowId}\``,
): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new UserError(`refused: ${err.cause?.message ?? err.message}`, refusedHint);
    if (err instanceof WorkflowNotFoundError) {
      // The server answers an update to a closed workflow with "not found": tell an ended migration from none.
      const desc = await describe(client, workflowId);
      if (desc.status.name === 'RUNNING') throw err;
      throw new UserError(
        `migration ${workflowId} has already ended (${desc.status.name.toLowerCase()}): there is nothing left to decide`,
        `see its outcome with \`cutover status ${workflowId}\``,
      );
    }
    throw err;
  }
}

export async function decideCommand(
  ctx: CliContext,
  opts: DecideOptions,
  decision: 'approve' | 'reject',
): Promise<ApprovalRecord> {
  const approver = personActing(ctx, opts.as, decision === 'approve' ? 'approves' : 'rejects');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const handle = t.client.workflow.getHandle(workflowId);
    const record = await update(
      () =>
        handle.executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, {
          args: [
            { approver, ...(opts.comment ? { comment: opts.comment } : {}), ...(opts.gate ? { gate: opts.gate } : {}) },
          ],
        }),
      workflowId,
      t.client,
      opts.gate ? `nothing was recorded; see which gate is open with \`cutover status ${workflowId}\`` : undefined,
    );
    ctx.out.result(record, () => `${record.decision} gate "${record.gate}" of ${workflowId} as ${record.by}`);
    return record;
  });
}

export interface AbortOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly reason: string;
}

export async function abortCommand(ctx: CliContext, opts: AbortOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'aborts');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const handle = t.client.workflow.getHandle(workflowId);
    const p = await update(
      () => handle.executeUpdate(abortUpdate, { args: [{ by, reason: opts.reason }] }),
      workflowId,
      t.client,
    );
    ctx.out.result(
      p,
      () => `Aborting ${workflowId}: rolling back what it changed. Follow it: cutover watch ${workflowId}`,
    );
    return p;
  });
}

export interface CompensationOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly reason?: string;
}

export async function compensationCommand(
  ctx: CliContext,
  opts: CompensationOptions,
  action: 'retry' | 'skip',
): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, action === 'retry' ? 'retries the step' : 'skips the step');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const handle = t.client.workflow.getHandle(workflowId);
    const p = await update(
      () =>
        action === 'retry'
          ? handle.executeUpdate(retryCompensationUpdate, { args: [{ by }] })
          : handle.executeUpdate(skipCompensationUpdate, {
              args: [{ by, ...(opts.reason ? { reason: opts.reason } : {}) }],
            }),
      workflowId,
      t.client,
    );
    ctx.out.result(
      p,
      () => `${action === 'retry' ? 'Retrying' : 'Skipped'} the blocked rollback step of ${workflowId}`,
    );
    return p;
  });
}

// ------------------------------------------------------------------------------------------------------------------

export interface EvidenceOptions {
  readonly workflowId: string;
  /** Folder to write `<id>.json` and `<id>.md` into; the current folder by default. */
  readonly outDir?: string;
}

export interface EvidenceResult {
  readonly evidence: Evidence;
  readonly jsonPath: string;
  readonly markdownPath: string;
}

export async function evidenceCommand(ctx: CliContext, opts: EvidenceOptions): Promise<EvidenceResult> {
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const desc = await describe(t.client, workflowId);
    if (desc.status.name === 'RUNNING')
      throw new UserError(
        `migration ${workflowId} is still running: its evidence is written when it ends`,
        `follow it with \`cutover watch ${workflowId}\``,
      );
    if (desc.status.name !== 'COMPLETED')
      throw new UserError(
        `migration ${workflowId} ended ${desc.status.name} without an evidence record`,
        'see its history in the Web UI',
      );
    const { evidence } = (await t.client.workflow.getHandle(workflowId).result()) as MigrationResult;
    const dir = path.resolve(opts.outDir ?? '.');
    await mkdir(dir, { recursive: true });
    const base = evidenceFileName(evidence.workflowId, evidence.runId).replace(/\.json$/, '');
    const jsonPath = path.join(dir, `${base}.json`);
    const markdownPath = path.join(dir, `${base}.md`);
    await writeFile(jsonPath, `${JSON.stringify(evidence, null, 2)}\n`);
    await writeFile(markdownPath, renderEvidenceMarkdown(evidence));
    const result = { evidence, jsonPath, markdownPath };
    ctx.out.result(result, () => `${renderEvidenceMarkdown(evidence)}\nWritten: ${jsonPath}\n         ${markdownPath}`);
    return result;
  });
}
