/**
 * Harness for the reliability tests (test/reliability/): workers in their own processes that a test can SIGKILL,
 * the Azure state a migration may change (to compare runs), request-log counting, waits, and the summary line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RequestLogEntry } from '../../simulator/core';
import type { Simulator } from '../../simulator';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { CutoverStage } from '../../contracts/search-attributes';
import type { MigrationInput, StageId } from '../../contracts/model';
import type { MigrationPlan } from '../../plan/schema';
import type { Estate } from './estate';
import { testEnv } from './env';
import { appendSummary, type SummaryEntry } from './summary';
import { WAIT_MS } from './wait';
import type { WorkerProcessConfig } from './worker-process';

const { EventType, TimeoutType } = temporal.api.enums.v1;

const WORKER_ENTRY = path.join(__dirname, 'worker-process.ts');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Worker processes on one task queue: `start` a new one, `kill` the current one with SIGKILL (by pid), `close`
 * whatever is still alive (call it from an `after` hook).
 */
export class WorkerFleet {
  private current?: ChildProcess;
  private readonly alive = new Set<ChildProcess>();
  /** SIGKILLs sent. */
  kills = 0;

  constructor(
    private readonly estate: Estate,
    private readonly options: { address: string; taskQueue: string; logName: string },
  ) {}

  /** Starts a worker process and resolves once it polls. */
  async start(): Promise<number> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-worker-'));
    const configFile = path.join(dir, 'worker.json');
    const { sim } = this.estate;
    const config: WorkerProcessConfig = {
      address: this.options.address,
      taskQueue: this.options.taskQueue,
      workflowBundlePath: testEnv('workflowBundle'),
      endpoints: {
        armEndpoint: sim.info.armEndpoint,
        authorityHost: sim.info.authorityHost,
        caCert: sim.info.caCert,
        logsEndpoint: sim.info.logsEndpoint,
        metricsEndpoint: sim.info.metricsEndpoint,
      },
      principal: sim.control.credentials('cutover-worker'),
      evidenceDir: this.estate.evidenceDir,
      lroPollIntervalMs: 100,
    };
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    const logDir = path.join(testEnv('workDir'), 'worker-logs');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(path.join(logDir, `${this.options.logName}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY, configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.alive.add(child);
    child.once('exit', () => this.alive.delete(child));
    child.stderr.pipe(log);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker process not ready within ${WAIT_MS / 1000} s`)),
          WAIT_MS,
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready\n')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`worker process exited before it was ready (${code ?? signal})`));
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    this.current = child;
    return child.pid!;
  }

  /** SIGKILLs the current worker process and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.current;
    this.current = undefined;
    if (!child) return;
    this.kills++;
    await killChild(child);
  }

  /** Whether the current worker process still runs. */
  get running(): boolean {
    const c = this.current;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** Resolves when the current worker process exits (never, if there is none). */
  exited(): Promise<void> {
    const child = this.current;
    if (!child) return new Promise(() => undefined);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async close(): Promise<void> {
    await Promise.all([...this.alive].map(killChild));
  }
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(child.pid!, 'SIGKILL');
  });
}

export function startMigration(
  client: Client,
  taskQueue: string,
  plan: MigrationPlan,
): Promise<WorkflowHandle<typeof migrateToManagedIdentity>> {
  const input: MigrationInput = { plan, initiatedBy: 'alice' };
  return client.workflow.start(migrateToManagedIdentity, {
    taskQueue,
    workflowId: `${migrationWorkflowId(plan)}/${Date.now()}`,
    args: [input],
  });
}

export { waitForProgress } from './progress';

/** Waits until the simulator logs a request matching `pred` after the first `from` entries; returns it. */
export async function waitForRequest(
  sim: Simulator,
  pred: (r: RequestLogEntry) => boolean,
  what: string,
  options: { from?: number; timeoutMs?: number } = {},
): Promise<RequestLogEntry> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = sim.control
      .requests()
      .slice(options.from ?? 0)
      .find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`${what}: no such request within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * Waits until the migration's history records that it began `stage` (the CutoverStage search attribute it upserts
 * as it does), whether or not it has moved on since: an event in history, not a moment a query must catch.
 */
export async function waitForStageEvent(
  handle: Pick<WorkflowHandle, 'fetchHistory'>,
  stage: StageId,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const begun = events.some((e) => {
      const payload =
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[CutoverStage.name];
      return payload?.data && JSON.parse(Buffer.from(payload.data).toString('utf8')) === stage;
    });
    if (begun) return;
    const closed = events.some(
      (e) => e.eventType !== undefined && e.eventType !== null && CLOSED.has(Number(e.eventType)),
    );
    if (closed) throw new Error(`stage ${stage}: the migration ended without beginning it`);
    if (Date.now() > deadline) throw new Error(`stage ${stage}: not begun within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Waits until a worker has started one of the migration's activities and not finished it (a pending activity in
 * state STARTED): a kill now cuts that attempt short.
 */
export async function waitForActivityStarted(
  handle: Pick<WorkflowHandle, 'describe'>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await handle.describe();
    const running = (d.raw.pendingActivities ?? []).find(
      (a) => Number(a.state) === Number(temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED),
    );
    if (running) return running.activityType?.name ?? '?';
    if (d.status.name !== 'RUNNING') throw new Error(`${what}: the migration ended (${d.status.name})`);
    if (Date.now() > deadline) throw new Error(`${what}: no activity started within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const CLOSED = new Set(
  [
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  ].map(Number),
);

/**
 * The attempts a history shows retried after a timeout, by activity and the timeout that ended the attempt before
 * (a worker SIGKILLed mid-call shows up as a heartbeat timeout: its successor took over after 10 s, not after the
 * call's start-to-close timeout of minutes).
 */
export function retriedAfterTimeout(
  history: temporal.api.history.v1.IHistory,
): { activity: string; timeout: string }[] {
  const events = history.events ?? [];
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const out: { activity: string; timeout: string }[] = [];
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    const timeout = started?.lastFailure?.timeoutFailureInfo?.timeoutType;
    if (!started || (started.attempt ?? 1) <= 1 || timeout === undefined || timeout === null) continue;
    const scheduled = byId.get(String(started.scheduledEventId))?.activityTaskScheduledEventAttributes;
    out.push({
      activity: scheduled?.activityType?.name ?? '?',
      timeout: TimeoutType[Number(timeout)] ?? String(timeout),
    });
  }
  return out;
}

export const isOp =
  (operation: string, method?: string) =>
  (r: RequestLogEntry): boolean =>
    r.surface === 'arm' && r.operation === operation && (!method || r.method === method);

/** ARM requests in the log, by operation (`METHOD operation`) and status. */
export function armCounts(log: readonly RequestLogEntry[]) {
  const arm = log.filter((r) => r.surface === 'arm');
  const count = (pred: (r: RequestLogEntry) => boolean) => arm.filter(pred).length;
  return {
    total: arm.length,
    count,
    /** Successful (2xx) requests of an operation. */
    ok: (operation: string, method?: string) =>
      count((r) => isOp(operation, method)(r) && r.status >= 200 && r.status < 300),
    status: (status: number) => count((r) => r.status === status),
  };
}

const fp = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 12);

/**
 * The Azure state a migration may change, comparable across runs: setting values as fingerprints (never a key in an
 * assertion message), system principals named by the site they belong to, role assignments by principal owner.
 */
export function azureState(sim: Simulator, accountName: string) {
  const s = sim.control.state();
  const ownerOf = (principalId: string) => {
    const p = s.principals[principalId];
    return p ? (p.resourceId ?? p.name).toLowerCase() : `unknown:${principalId}`;
  };
  const sites = Object.values(s.sites)
    .map((site) => ({
      name: site.name,
      sticky: [...site.stickySettingNames].sort(),
      slots: Object.values(site.slots)
        .map((slot) => ({
          name: slot.name,
          settings: Object.fromEntries(
            Object.entries(slot.settings)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, fp(v)]),
          ),
          systemIdentity: slot.systemPrincipalId ? ownerOf(slot.systemPrincipalId) : null,
          userAssigned: slot.userAssigned.map((u) => u.toLowerCase()).sort(),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const account = Object.values(s.accounts).find((a) => a.name === accountName)!;
  const roleAssignments = Object.values(s.roleAssignments)
    .map((ra) => `${ownerOf(ra.principalId)}|${ra.roleDefinitionId}|${ra.scope.toLowerCase()}`)
    .sort();
  const managedPrincipals = Object.values(s.principals)
    .filter((p) => p.kind === 'ManagedIdentity')
    .map((p) => (p.resourceId ?? p.name).toLowerCase())
    .sort();
  return {
    sites,
    account: { disableLocalAuth: account.disableLocalAuth, provisioningState: account.provisioningState },
    roleAssignments,
    managedPrincipals,
  };
}

export type AzureState = ReturnType<typeof azureState>;

/** Role assignments held by each principal (by owner): a crash must never leave two. */
export function assignmentsPerPrincipal(sim: Simulator): Record<string, number> {
  const s = sim.control.state();
  const out: Record<string, number> = {};
  for (const ra of Object.values(s.roleAssignments)) {
    const p = s.principals[ra.principalId];
    const owner = (p?.resourceId ?? p?.name ?? ra.principalId).toLowerCase();
    const k = `${owner}|${ra.roleDefinitionId}|${ra.scope.toLowerCase()}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Differences between two states, as short lines (for the summary's "lost" and for assertion messages). */
export function stateDiff(expected: AzureState, actual: AzureState): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, where: string) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`);
      return;
    }
    out.push(`${where}: expected ${JSON.stringify(a)}, got ${JSON.stringify(b)}`);
  };
  walk(expected, actual, 'state');
  return out;
}

/** Appends this scenario's line to the run's reliability summary and prints it. */
export function summarize(file: string, entry: Omit<SummaryEntry, 'file'>): void {
  const line: SummaryEntry = { file, ...entry };
  appendSummary(testEnv('workDir'), line);
  const parts = [
    entry.crashPoints ? `${entry.crashPoints.length} crash points (${entry.crashPoints.join(', ')})` : undefined,
    entry.faults ? `${entry.faults.length} faults` : undefined,
    entry.armRequests !== undefined ? `${entry.armRequests} ARM requests` : undefined,
    `lost: ${entry.lost?.length ? entry.lost.join('; ') : 'nothing'}`,
  ].filter(Boolean);
  console.log(`[reliability] ${file} — ${entry.scenario}: ${parts.join('; ')}`);
}

export interface ActivityFailureRecord {
  readonly activity: string;
  readonly type?: string;
  readonly nonRetryable: boolean;
  /** Attempts the activity made (the failed one included). */
  readonly attempts: number;
  readonly message: string;
}

/** The activities that failed for good in a workflow history, with their failure type and attempt count. */
export function activityFailures(history: temporal.api.history.v1.IHistory): ActivityFailureRecord[] {
  const events = history.events ?? [];
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const out: ActivityFailureRecord[] = [];
  for (const e of events) {
    const failed = e.activityTaskFailedEventAttributes;
    if (!failed) continue;
    const scheduled = byId.get(String(failed.scheduledEventId))?.activityTaskScheduledEventAttributes;
    const started = byId.get(String(failed.startedEventId))?.activityTaskStartedEventAttributes;
    const info = failed.failure?.applicationFailureInfo;
    out.push({
      activity: scheduled?.activityType?.name ?? '?',
      ...(info?.type ? { type: info.type } : {}),
      nonRetryable: info?.nonRetryable === true,
      attempts: started?.attempt ?? 0,
      message: failed.failure?.message ?? '',
    });
  }
  return out;
}
