/**
 * `cutover worker` as a user runs it: its own OS process (`node bin/cutover.js worker`), configured only through
 * the documented environment — TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, the AZURE_* service principal for
 * DefaultAzureCredential, CUTOVER_ARM_ENDPOINT / AZURE_AUTHORITY_HOST / CUTOVER_CA_CERT pointing at the simulator,
 * CUTOVER_TASK_QUEUE, CUTOVER_EVIDENCE_DIR, CUTOVER_SHUTDOWN_GRACE, CUTOVER_WEBHOOK_URLS, CUTOVER_WEB_UI_URL. It
 * runs a migration to its end (its plan's webhook hears of it); SIGTERM drains it (the activity in flight finishes,
 * the process exits 0) and a second worker finishes what is left.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { migrateToManagedIdentity } from '../../workflows';
import { migrationWorkflowId } from '../../contracts/ids';
import { WORKER_PRINCIPAL } from '../../worker/embedded';
import { CLI_BIN } from '../support/cli';
import { testEnv } from '../support/env';
import { type Estate, estatePlan, startEstate } from '../support/estate';
import { WAIT_MS } from '../support/wait';

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

describe('cutover worker, as its own process', () => {
  let estate: Estate;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const alive = new Set<ChildProcess>();
  /** A webhook receiver for the worker's notifications (CUTOVER_WEBHOOK_URLS). */
  const notices: Record<string, unknown>[] = [];
  let receiver: Server;

  before(async () => {
    estate = await startEstate('cli-worker');
    dir = path.join(testEnv('workDir'), `cli-worker-${process.pid}`);
    mkdirSync(path.join(dir, 'home'), { recursive: true });
    const caPath = path.join(dir, 'simulator-ca.pem');
    writeFileSync(caPath, estate.sim.info.caCert);
    const principal = estate.sim.control.credentials(WORKER_PRINCIPAL);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        notices.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    env = {
      PATH: process.env.PATH,
      HOME: path.join(dir, 'home'),
      CUTOVER_HOME: path.join(dir, 'home', '.cutover'),
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      CUTOVER_TASK_QUEUE: estate.temporal.taskQueue,
      CUTOVER_EVIDENCE_DIR: path.join(dir, 'evidence'),
      CUTOVER_SHUTDOWN_GRACE: '30s',
      CUTOVER_ARM_ENDPOINT: estate.sim.info.armEndpoint,
      CUTOVER_LOGS_ENDPOINT: estate.sim.info.logsEndpoint,
      CUTOVER_METRICS_ENDPOINT: estate.sim.info.metricsEndpoint,
      AZURE_AUTHORITY_HOST: estate.sim.info.authorityHost,
      CUTOVER_CA_CERT: caPath,
      AZURE_TENANT_ID: principal.tenantId,
      AZURE_CLIENT_ID: principal.clientId,
      AZURE_CLIENT_SECRET: principal.clientSecret,
      CUTOVER_WEBHOOK_URLS: JSON.stringify({ ops: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ops` }),
      CUTOVER_WEB_UI_URL: 'http://127.0.0.1:8233',
    };
  });
  after(async () => {
    for (const child of alive) child.kill('SIGKILL');
    receiver.close();
    await estate.close();
  });

  /** Starts `cutover worker` and resolves once it says it polls (its output goes to the run's scanned logs). */
  async function startWorker(name: string): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [CLI_BIN, 'worker'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    alive.add(child);
    const log = createWriteStream(path.join(dir, `${name}.log`));
    let stderr = '';
    child.stdout.pipe(log);
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      log.write(c);
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        alive.delete(child);
        resolve(code);
      }),
    );
    const deadline = Date.now() + WAIT_MS;
    while (!/cutover worker polling/.test(stderr)) {
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('wait'), 100))]);
      if (code !== 'wait') assert.fail(`cutover worker exited (${String(code)}) before polling:\n${stderr}`);
      if (Date.now() > deadline) assert.fail(`cutover worker not polling within ${WAIT_MS / 1000} s:\n${stderr}`);
    }
    return { child, exited, stderr: () => stderr };
  }

  test('runs a migration to its end, configured only through the environment', async () => {
    await estate.sim.control.reset();
    const worker = await startWorker('worker-a');
    const plan = estatePlan('claims-bot', 'claims-openai', {
      notifications: [{ webhook: 'ops', events: ['finished'] }],
    });
    const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: `${migrationWorkflowId(plan)}/worker-${Date.now()}`,
      args: [{ plan, initiatedBy: 'alice' }],
    });
    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.ok(
      result.evidencePath?.startsWith(env.CUTOVER_EVIDENCE_DIR!),
      `evidence in CUTOVER_EVIDENCE_DIR: ${result.evidencePath}`,
    );
    assert.ok(existsSync(result.evidencePath!));
    // The webhook named in the plan, known to the worker only through CUTOVER_WEBHOOK_URLS, heard of the end.
    const finished = notices.filter((n) => n.workflowId === handle.workflowId);
    assert.deepEqual(
      finished.map((n) => [n.event, n.outcome]),
      [['finished', 'succeeded']],
    );
    assert.match(String(finished[0].webUi), /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\//);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.stderr());
    assert.match(worker.stderr(), /SIGTERM: draining/);
    assert.doesNotMatch(worker.stderr(), /IllegalStateError|Error:/);
  });

  test('SIGTERM drains: the activity in flight finishes, the process exits 0, a second worker finishes the rest', async () => {
    await estate.sim.control.reset();
    estate.sim.control.setDelays({ swapMs: 4000 });
    const first = await startWorker('worker-b1');
    const plan = estatePlan('claims-bot', 'claims-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } });
    const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: `${migrationWorkflowId(plan)}/drain-${Date.now()}`,
      args: [{ plan, initiatedBy: 'alice' }],
    });
    // Wait until the swap (a 4 s long-running operation) is in flight on the first worker.
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      if (pending.some((a) => a.activityType?.name === 'swapSlots' && Number(a.state) === 2)) break;
      assert.ok(Date.now() < deadline, 'the swap started');
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, `the draining worker exits 0:\n${first.stderr()}`);
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the migration waits for a worker');

    const second = await startWorker('worker-b2');
    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded', result.reason);

    // The swap finished on the worker that was stopping: started and completed once, by its first attempt.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'swapSlots');
    const id = scheduled?.eventId?.toString();
    const started = events.filter((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === id);
    const completed = events.filter((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === id);
    assert.equal(completed.length, 1, 'the swap completed');
    assert.equal(started.at(-1)?.activityTaskStartedEventAttributes?.attempt, 1, 'on its first attempt');
    assert.equal(
      started.at(-1)?.activityTaskStartedEventAttributes?.identity,
      `${first.child.pid}@${(await import('node:os')).hostname()}`,
      'by the draining worker',
    );
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    estate.sim.control.setDelays({ swapMs: 0 });
  });
});
