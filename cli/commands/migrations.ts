/**
 * Commands on migrations: start, status, watch, approve, reject, abort, retry, skip, list, evidence.
 * Each exports an options type and an async function callable from tests without argv.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { evidenceFileName } from '../../activities/evidence';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../workflows/ids';
import {
  abortUpdate,
  approveUpdate,
  progressQuery,
  rejectUpdate,
  retryCompensationUpdate,
  skipCompensationUpdate,
} from '../../workflows/messages';
import {
  CutoverAccount,
  CutoverApp,
  CutoverOutcome,
  CutoverStage,
  CutoverTicket,
} from '../../workflows/search-attributes';
import type { ApprovalRecord, Evidence, MigrationProgress, MigrationResult } from '../../workflows/types';
import type { MigrationPlan } from '../../plan/schema';
import { type CliContext, connectTemporal, type TemporalAccess, workflowLink } from '../context';
import { UserError } from '../errors';
import { renderEvidenceMarkdown, renderProgress, table } from '../render';
import { readPlan } from './plan';

export const MIGRATION_WORKFLOW = 'migrateToManagedIdentity';

function whoAmI(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function withTemporal<T>(ctx: CliContext, fn: (t: TemporalAccess) => Promise<T>): Promise<T> {
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

export interface StartOptions {
  readonly file: string;
  /** Who starts the migration (recorded; used by the four-eyes rule). Defaults to the OS user. */
  readonly as?: string;
  readonly watch?: boolean;
}

export interface StartResult {
  readonly workflowId: string;
  readonly runId: string;
  readonly link?: string;
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
    staticSummary: `${plan.changeTicket}: ${plan.app.name} → managed identity on ${plan.account.name}`,
    staticDetails: `Plan: ${options.planFile} · identity ${plan.identity.type} · strategy ${plan.strategy.type} · started by ${initiatedBy}`,
    typedSearchAttributes: [
      { key: CutoverStage, value: 'preflight' },
      { key: CutoverApp, value: plan.app.name },
      { key: CutoverAccount, value: plan.account.name },
      { key: CutoverTicket, value: plan.changeTicket },
      { key: CutoverOutcome, value: 'running' },
    ],
  });
}

export async function startCommand(ctx: CliContext, opts: StartOptions): Promise<StartResult> {
  const plan = await readPlan(opts.file);
  const initiatedBy = opts.as?.trim() || whoAmI();
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
          `a migration of ${plan.app.name} is already running (workflow id ${workflowId})`,
          `follow it with \`cutover watch ${workflowId}\`, or abort it with \`cutover abort ${workflowId} --reason …\``,
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
    const result: StartResult = { workflowId, runId: handle.firstExecutionRunId, ...(link ? { link } : {}) };
    if (!opts.watch) {
      ctx.out.result(result, () =>
        [
          `Started migration ${workflowId}`,
          ...(link ? [`Web UI: ${link}`] : []),
          `Follow it: cutover watch ${workflowId}`,
        ].join('\n'),
      );
      return result;
    }
    ctx.out.info(`Started migration ${workflowId}${link ? `\nWeb UI: ${link}` : ''}`);
    await watchLoop(ctx, t, workflowId);
    return result;
  });
}

// ------------------------------------------------------------------------------------------------------------------

export interface StatusOptions {
  readonly workflowId: string;
}

export interface StatusResult {
  readonly workflowId: string;
  readonly status: string;
  readonly progress: MigrationProgress;
  readonly link?: string;
}

async function statusOf(t: TemporalAccess, workflowId: string): Promise<StatusResult> {
  const desc = await describe(t.client, workflowId);
  const handle = t.client.workflow.getHandle(workflowId);
  let progress: MigrationProgress;
  if (desc.status.name === 'COMPLETED') {
    progress = progressFromResult((await handle.result()) as MigrationResult);
  } else {
    if (desc.status.name === 'RUNNING' && !(await hasPollers(t, desc.taskQueue)))
      throw new UserError(
        `no cutover worker polls task queue ${desc.taskQueue}, so ${workflowId} cannot make progress or answer`,
        'start one with `cutover dev` (local) or `cutover worker`',
      );
    try {
      progress = await handle.query(progressQuery);
    } catch (err) {
      // Queries are answered by a worker: none polling (or a closed run without a result) means no progress to show.
      throw new UserError(
        `cannot read the progress of ${workflowId} (workflow ${desc.status.name.toLowerCase()}): ${(err as Error).message.split('\n')[0]}`,
        desc.status.name === 'RUNNING'
          ? `is a cutover worker polling task queue ${desc.taskQueue}? start one with \`cutover dev\` or \`cutover worker\``
          : 'see its history in the Web UI',
      );
    }
  }
  const link = workflowLink(t, workflowId);
  return { workflowId, status: desc.status.name, progress, ...(link ? { link } : {}) };
}

/** Whether any worker polled the task queue for workflow tasks recently (the server remembers about a minute). */
async function hasPollers(t: TemporalAccess, taskQueue: string): Promise<boolean> {
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

async function watchLoop(ctx: CliContext, t: TemporalAccess, workflowId: string): Promise<StatusResult> {
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
}

async function update<R>(fn: () => Promise<R>, workflowId: string, client: Client): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new UserError(`refused: ${err.cause?.message ?? err.message}`, `see \`cutover status ${workflowId}\``);
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
  const approver = opts.as?.trim() || whoAmI();
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const handle = t.client.workflow.getHandle(workflowId);
    const record = await update(
      () =>
        handle.executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, {
          args: [{ approver, ...(opts.comment ? { comment: opts.comment } : {}) }],
        }),
      workflowId,
      t.client,
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
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const handle = t.client.workflow.getHandle(workflowId);
    const p = await update(
      () => handle.executeUpdate(abortUpdate, { args: [{ by: opts.as?.trim() || whoAmI(), reason: opts.reason }] }),
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
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveId(t, opts.workflowId);
    const handle = t.client.workflow.getHandle(workflowId);
    const by = opts.as?.trim() || whoAmI();
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

export interface ListOptions {
  readonly stage?: string;
  readonly account?: string;
  readonly app?: string;
  readonly ticket?: string;
  readonly outcome?: string;
  readonly limit?: number;
}

export interface ListedMigration {
  readonly workflowId: string;
  readonly status: string;
  readonly app?: string;
  readonly account?: string;
  readonly ticket?: string;
  readonly stage?: string;
  readonly outcome?: string;
  readonly startTime: string;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function listQuery(opts: ListOptions): string {
  const clauses = [`WorkflowType = '${MIGRATION_WORKFLOW}'`];
  if (opts.stage) clauses.push(`${CutoverStage.name} = ${quote(opts.stage)}`);
  if (opts.account) clauses.push(`${CutoverAccount.name} = ${quote(opts.account)}`);
  if (opts.app) clauses.push(`${CutoverApp.name} = ${quote(opts.app)}`);
  if (opts.ticket) clauses.push(`${CutoverTicket.name} = ${quote(opts.ticket)}`);
  if (opts.outcome) clauses.push(`${CutoverOutcome.name} = ${quote(opts.outcome)}`);
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
        status: wf.status.name,
        app: sa.get(CutoverApp),
        account: sa.get(CutoverAccount),
        ticket: sa.get(CutoverTicket),
        stage: sa.get(CutoverStage),
        outcome: sa.get(CutoverOutcome),
        startTime: wf.startTime.toISOString(),
      });
      if (out.length >= limit) break;
    }
    ctx.out.result(out, () =>
      out.length === 0
        ? 'No migrations match.'
        : table(
            out.map((m) => [
              m.workflowId,
              m.status,
              m.ticket ?? '',
              m.stage ?? '',
              m.outcome ?? '',
              m.startTime.slice(0, 19),
            ]),
            ['WORKFLOW ID', 'STATUS', 'TICKET', 'STAGE', 'OUTCOME', 'STARTED'],
          ),
    );
    return out;
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
