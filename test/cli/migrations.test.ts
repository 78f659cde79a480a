/**
 * A change manager's migrations through the real CLI: `start` (which waits for the worker's preflight), `status`,
 * `approve` / `reject` / `abort`, `list`, `history` and `evidence` (of the latest run or of `--run`), each a subprocess against the run's dev server, with a worker
 * in this process on the CLI's task queue and the simulator playing Azure.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { ListedMigration } from '../../cli/commands/list';
import type { EvidenceResult } from '../../cli/commands/evidence';
import type { StatusResult } from '../../cli/commands/status';
import type { StartResult } from '../../cli/commands/start';
import { progressQuery } from '../../workflows/migration/messages';
import type { ApprovalRecord, Evidence, MigrationProgress } from '../../contracts/model';
import { assertUserError, type Cli, cliFor } from '../support/cli';
import { type Estate, estatePlanFields, renamedEstate, RG, startEstate, SUB } from '../support/estate';
import { WAIT_MS } from '../support/wait';

/**
 * claims-bot under a name of this file's own: other files migrate claims-bot on the same Temporal server at the
 * same time, and these tests find migrations by app name.
 */
const APP = 'cli-claims-bot';
const WORKFLOW_ID = `cutover/app-service/${SUB}/${RG}/${APP}`;

describe('cutover start, approve, reject, abort, list, history and evidence', () => {
  let estate: Estate;
  let cli: Cli;
  before(async () => {
    estate = await startEstate('cli-migrations', renamedEstate({ 'claims-bot': APP }));
    cli = cliFor(estate, 'migrations');
  });
  after(async () => {
    await estate.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });
  afterEach(async () => {
    // A failed test must not leave its migration running for the next one (one migration per app at a time).
    await estate.temporal.client.workflow
      .getHandle(WORKFLOW_ID)
      .terminate('test cleanup')
      .catch(() => undefined);
  });

  /** A plan file for the app (a slot swap, so its standby is migrated and the key switch happens), its own ticket. */
  function plan(name: string, approvals: { beforeSettingsSwap: boolean; beforeDisableLocalAuth: boolean }) {
    const ticket = `CHG-cli-${name}-${randomUUID().slice(0, 8)}`;
    return {
      ticket,
      file: cli.writePlan(name, {
        ...estatePlanFields(APP, 'claims-openai'),
        strategy: { type: 'slot-swap', stagingSlot: 'staging' },
        changeTicket: ticket,
        approvals,
      }),
    };
  }

  /**
   * Waits (polling in this process: a CLI start costs a second or two) until `pred` holds, then returns what
   * `cutover status -o json` says — the CLI's view, parsed.
   */
  async function statusWhen(pred: (s: StatusResult) => boolean, what: string, timeoutMs = WAIT_MS) {
    const handle = estate.temporal.client.workflow.getHandle(WORKFLOW_ID);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const desc = await handle.describe();
      const status = desc.status.name;
      const progress = status === 'RUNNING' ? await handle.query(progressQuery).catch(() => undefined) : undefined;
      if (
        status !== 'RUNNING' ||
        (progress && pred({ workflowId: WORKFLOW_ID, runId: desc.runId, status, outcome: progress.outcome, progress }))
      )
        break;
      if (Date.now() > deadline) throw new Error(`${what} not reached; last progress: ${JSON.stringify(progress)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const s = await cli.json<StatusResult>('status', WORKFLOW_ID);
    assert.ok(pred(s), `${what}: ${JSON.stringify(s)}`);
    return s;
  }
  const gateOpen = (gate: string) => (s: StatusResult) => s.progress.pendingGate?.gate === gate;
  const ended = (s: StatusResult) => s.status !== 'RUNNING';

  test('start, approve as another user, done: status, list and evidence as JSON and Markdown', async () => {
    const { ticket, file } = plan('happy', { beforeSettingsSwap: false, beforeDisableLocalAuth: true });
    let started: StartResult | undefined;
    await estate.temporal.withWorker(estate.activities(), async () => {
      started = await cli.json<StartResult>('start', file, '--as', 'alice');
      assert.equal(started.workflowId, WORKFLOW_ID);
      assert.deepEqual(started.preflight, { passed: true, problems: [] }, 'start waited for the preflight');
      assert.match(started.link ?? '', /\/namespaces\/default\/workflows\/cutover%2F/);

      const atGate = await statusWhen(gateOpen('local-auth'), 'the local-auth gate');
      assert.equal(atGate.status, 'RUNNING');
      assert.equal(atGate.progress.initiatedBy, 'alice');
      assert.equal(atGate.progress.stages.find((s) => s.id === 'settings')?.status, 'done');
      const table = await cli.run('status', WORKFLOW_ID);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /Waiting for approval/i);

      assertUserError(await cli.run('approve', WORKFLOW_ID, '--as', 'alice'), /^error: refused: .*/);
      const approval = await cli.json<ApprovalRecord>('approve', WORKFLOW_ID, '--as', 'bob', '--comment', 'CAB ok');
      assert.deepEqual([approval.gate, approval.decision, approval.by], ['local-auth', 'approved', 'bob']);

      const done = await statusWhen(ended, 'the end of the migration');
      assert.equal(done.status, 'COMPLETED');
      assert.equal(done.progress.outcome, 'succeeded', done.progress.reason);
    });

    const deadline = Date.now() + WAIT_MS;
    let listed: ListedMigration[] = [];
    while (Date.now() < deadline) {
      listed = await cli.json<ListedMigration[]>('list', '--ticket', ticket);
      if (listed[0]?.outcome === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(
      listed.map((m) => [m.workflowId, m.status, m.app, m.account, m.outcome]),
      [[WORKFLOW_ID, 'COMPLETED', APP, 'claims-openai', 'succeeded']],
    );
    assert.equal(listed[0].runId, started?.runId);
    assert.deepEqual(await cli.json<ListedMigration[]>('list', '--ticket', `${ticket}-other`), []);

    const outDir = `${cli.dir}/evidence-happy`;
    const written = await cli.json<EvidenceResult>('evidence', WORKFLOW_ID, '--out-dir', outDir);
    assert.ok(written.jsonPath.startsWith(outDir) && written.markdownPath.startsWith(outDir));
    const evidence = JSON.parse(readFileSync(written.jsonPath, 'utf8')) as Evidence;
    assert.equal(evidence.changeTicket, ticket);
    assert.equal(evidence.outcome, 'succeeded');
    assert.equal(evidence.initiatedBy, 'alice');
    assert.deepEqual(
      evidence.approvals.map((a) => [a.gate, a.decision, a.by, a.comment]),
      [['local-auth', 'approved', 'bob', 'CAB ok']],
    );
    assert.equal(evidence.localAuth.after, true);
    assert.ok(existsSync(written.markdownPath));
    const markdown = readFileSync(written.markdownPath, 'utf8');
    assert.match(markdown, new RegExp(ticket));
    assert.match(markdown, /succeeded/);
  });

  test('reject at the settings gate: the migration rolls back', async () => {
    const { file } = plan('reject', { beforeSettingsSwap: true, beforeDisableLocalAuth: false });
    await estate.temporal.withWorker(estate.activities(), async () => {
      await cli.json<StartResult>('start', file, '--as', 'alice');
      await statusWhen(gateOpen('settings'), 'the settings gate');
      const record = await cli.json<ApprovalRecord>('reject', WORKFLOW_ID, '--as', 'bob', '--comment', 'freeze week');
      assert.equal(record.decision, 'rejected');
      const done = await statusWhen(ended, 'the end of the migration');
      assert.equal(done.progress.outcome, 'rolled-back');
      assert.deepEqual(
        done.progress.approvals.map((a) => [a.by, a.decision, a.comment]),
        [['bob', 'rejected', 'freeze week']],
      );
    });
    const settings = await estate.azure.web.webApps.listApplicationSettings(RG, APP);
    assert.ok(settings.properties?.AZURE_OPENAI_API_KEY, 'the key setting is still there');
    assert.equal((await estate.azure.web.webApps.get(RG, APP)).identity?.type ?? 'None', 'None');
  });

  test('a second start of a running app is refused; abort rolls the first back', async () => {
    const { file } = plan('abort', { beforeSettingsSwap: true, beforeDisableLocalAuth: false });
    await estate.temporal.withWorker(estate.activities(), async () => {
      await cli.json<StartResult>('start', file, '--as', 'alice');
      await statusWhen(gateOpen('settings'), 'the settings gate');

      const again = await cli.run('start', file, '--as', 'carol');
      const error = assertUserError(again, new RegExp(`a migration of ${APP} is already running`));
      assert.equal(error, `error: a migration of ${APP} is already running (workflow id ${WORKFLOW_ID})`);
      assert.equal(again.stderr.trimEnd().split('\n').length, 2, 'one error line and one hint');

      const aborted = await cli.json<MigrationProgress>(
        'abort',
        WORKFLOW_ID,
        '--as',
        'oncall',
        '--reason',
        'incident 42',
      );
      assert.equal(aborted.workflowId, WORKFLOW_ID);
      const done = await statusWhen(ended, 'the end of the migration');
      assert.equal(done.progress.outcome, 'rolled-back');
      assert.equal(done.progress.reason, 'aborted by oncall: incident 42');
      assert.equal(done.progress.initiatedBy, 'alice', 'the refused second start changed nothing');
    });
    assertUserError(
      await cli.run('abort', WORKFLOW_ID, '--reason', 'again', '--as', 'oncall'),
      /^error: migration .* has already ended \(completed\): there is nothing left to decide$/,
    );
  });

  test('start on a plan the worker’s preflight refuses lists every problem, like plan show, and exits 1', async () => {
    const file = cli.writePlan('refused', {
      ...estatePlanFields(APP, 'claims-openai'),
      account: { name: 'claims-openai', deployment: 'gpt-5-nope' },
      settings: { remove: ['AZURE_OPENAI_API_KEY', 'NOT_THERE'] },
    });
    await estate.temporal.withWorker(estate.activities(), async () => {
      const text = await cli.run('start', file, '--as', 'alice');
      assertUserError(text, /^error: preflight found 2 problem\(s\); nothing was changed$/);
      assert.match(text.stdout, new RegExp(`^Started migration ${WORKFLOW_ID}$`, 'm'));
      assert.match(text.stdout, /preflight failed: 2 problem\(s\); the migration ended preflight-failed/);
      assert.doesNotMatch(text.stdout + text.stderr, /preflight passed/);
      const problemLines = (out: string) => out.split('\n').filter((l) => l.startsWith('  ✗ '));
      const shown = await cli.run('plan', 'show', file);
      assert.equal(shown.code, 1);
      assert.deepEqual(problemLines(text.stdout), problemLines(shown.stdout), 'the same problems, rendered alike');
      assert.match(text.stdout, /✗ \[deployment\] .*gpt-5-nope/);
      assert.match(text.stdout, /✗ \[settings\] .*NOT_THERE/);

      const json = await cli.run('-o', 'json', 'start', file, '--as', 'alice');
      assert.equal(json.code, 1, json.stderr);
      const result = JSON.parse(json.stdout) as StartResult;
      assert.equal(result.workflowId, WORKFLOW_ID);
      assert.equal(result.preflight.passed, false);
      assert.equal(result.preflight.outcome, 'preflight-failed');
      assert.deepEqual(result.preflight.problems.map((p) => p.check).sort(), ['deployment', 'settings']);
      // Messages come first on stderr; the error is its last line, as JSON.
      const error = JSON.parse(json.stderr.trimEnd().split('\n').pop() ?? '') as { error: string };
      assert.match(error.error, /preflight found 2 problem/);
    });
  });

  test('start --watch waits for the preflight, then follows the migration to its end', async () => {
    const { file } = plan('watch', { beforeSettingsSwap: false, beforeDisableLocalAuth: false });
    await estate.temporal.withWorker(estate.activities(), async () => {
      const watched = await cli.run('start', file, '--as', 'alice', '--watch');
      assert.equal(watched.code, 0, watched.stderr);
      assert.match(watched.stderr, /preflight passed/);
      assert.match(watched.stdout, /outcome succeeded · workflow COMPLETED/);
    });
  });

  test('a terminated migration is listed and shown as terminated, not running', async () => {
    const { ticket, file } = plan('terminated', { beforeSettingsSwap: true, beforeDisableLocalAuth: false });
    await estate.temporal.withWorker(estate.activities(), async () => {
      const started = await cli.json<StartResult>('start', file, '--as', 'alice');
      await statusWhen(gateOpen('settings'), 'the settings gate');
      // What an operator does with `temporal workflow terminate`: no rollback runs, no evidence is written.
      await estate.temporal.client.workflow.getHandle(WORKFLOW_ID).terminate('operator pulled the plug');

      const listedWhen = async (pred: (ms: ListedMigration[]) => boolean, ...filters: string[]) => {
        const deadline = Date.now() + WAIT_MS;
        for (;;) {
          const listed = await cli.json<ListedMigration[]>('list', '--ticket', ticket, ...filters);
          if (pred(listed) || Date.now() > deadline) return listed;
          await new Promise((r) => setTimeout(r, 300));
        }
      };
      const all = await listedWhen((ms) => ms[0]?.status === 'TERMINATED');
      assert.deepEqual(
        all.map((m) => [m.workflowId, m.runId, m.status, m.outcome]),
        [[WORKFLOW_ID, started.runId, 'TERMINATED', 'terminated']],
      );
      assert.deepEqual(await cli.json<ListedMigration[]>('list', '--ticket', ticket, '--outcome', 'running'), []);
      assert.deepEqual(await cli.json<ListedMigration[]>('list', '--ticket', ticket, '--outcome', 'rolled-back'), []);
      const terminated = await cli.json<ListedMigration[]>('list', '--ticket', ticket, '--outcome', 'terminated');
      assert.deepEqual(
        terminated.map((m) => m.runId),
        [started.runId],
      );
      const table = await cli.run('list', '--ticket', ticket);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^WORKFLOW ID +RUN ID +TICKET +STAGE +OUTCOME +STARTED/);
      assert.match(table.stdout, new RegExp(`${WORKFLOW_ID} +${started.runId} +${ticket} +\\S+ +terminated `));

      const status = await cli.json<StatusResult>('status', WORKFLOW_ID);
      assert.deepEqual(
        [status.status, status.outcome, status.progress.outcome],
        ['TERMINATED', 'terminated', 'terminated'],
      );
      assert.match(status.progress.reason ?? '', /terminated: it stopped where it was, without rolling back/);
      const text = await cli.run('status', WORKFLOW_ID);
      assert.match(text.stdout, /outcome terminated · workflow TERMINATED/);
    });
  });
  test('two runs of one app: status, evidence and list reach either run; history lists both, newest first', async () => {
    const first = plan('run-1', { beforeSettingsSwap: true, beforeDisableLocalAuth: false });
    const second = plan('run-2', { beforeSettingsSwap: false, beforeDisableLocalAuth: false });
    let run1 = '';
    let run2 = '';
    await estate.temporal.withWorker(estate.activities(), async () => {
      run1 = (await cli.json<StartResult>('start', first.file, '--as', 'alice')).runId;
      await statusWhen(gateOpen('settings'), 'the settings gate of the first run');
      await cli.json<ApprovalRecord>('reject', WORKFLOW_ID, '--as', 'bob', '--comment', 'not this week');
      assert.equal((await statusWhen(ended, 'the end of the first run')).progress.outcome, 'rolled-back');
      const watched = await cli.run('start', second.file, '--as', 'alice', '--watch');
      assert.equal(watched.code, 0, watched.stderr);
      run2 = (await estate.temporal.client.workflow.getHandle(WORKFLOW_ID).describe()).runId;
    });
    assert.notEqual(run1, run2, 'the second migration is another run of the same workflow id');

    // status: the latest run by default, either run with --run, by workflow id or by app name.
    const latest = await cli.json<StatusResult>('status', APP);
    assert.deepEqual([latest.runId, latest.outcome, latest.progress.changeTicket], [run2, 'succeeded', second.ticket]);
    for (const id of [WORKFLOW_ID, APP]) {
      const earlier = await cli.json<StatusResult>('status', id, '--run', run1);
      assert.deepEqual(
        [earlier.workflowId, earlier.runId, earlier.status, earlier.outcome, earlier.progress.changeTicket],
        [WORKFLOW_ID, run1, 'COMPLETED', 'rolled-back', first.ticket],
      );
    }
    const text = await cli.run('status', APP, '--run', run1);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^${WORKFLOW_ID} \\(run ${run1}\\)$`, 'm'));
    assert.match(text.stdout, /outcome rolled-back · workflow COMPLETED/);
    const watchedEarlier = await cli.run('watch', APP, '--run', run1);
    assert.equal(watchedEarlier.code, 0, watchedEarlier.stderr);
    assert.match(watchedEarlier.stdout, /outcome rolled-back · workflow COMPLETED/);

    // evidence: the first run's record differs from the latest one's.
    const outDir = `${cli.dir}/evidence-runs`;
    const earlierEvidence = await cli.json<EvidenceResult>('evidence', APP, '--run', run1, '--out-dir', outDir);
    const latestEvidence = await cli.json<EvidenceResult>('evidence', APP, '--out-dir', outDir);
    assert.deepEqual(
      [earlierEvidence.evidence.runId, earlierEvidence.evidence.outcome, earlierEvidence.evidence.changeTicket],
      [run1, 'rolled-back', first.ticket],
    );
    assert.deepEqual(
      earlierEvidence.evidence.approvals.map((a) => [a.decision, a.by, a.comment]),
      [['rejected', 'bob', 'not this week']],
    );
    assert.deepEqual(
      [latestEvidence.evidence.runId, latestEvidence.evidence.outcome, latestEvidence.evidence.changeTicket],
      [run2, 'succeeded', second.ticket],
    );
    assert.notEqual(earlierEvidence.jsonPath, latestEvidence.jsonPath, 'one file per run');
    const onDisk = JSON.parse(readFileSync(earlierEvidence.jsonPath, 'utf8')) as Evidence;
    assert.equal(onDisk.runId, run1);

    // list names each run by its run id; history lists every run of the app, newest first.
    const mine = (ms: ListedMigration[]) => ms.filter((m) => m.runId === run1 || m.runId === run2);
    const deadline = Date.now() + 15_000;
    let history: ListedMigration[] = [];
    let listed: ListedMigration[] = [];
    for (;;) {
      history = await cli.json<ListedMigration[]>('history', APP);
      listed = await cli.json<ListedMigration[]>('list', '--app', APP);
      const settled = (ms: ListedMigration[]) =>
        mine(ms).length === 2 && mine(ms).every((m) => m.outcome !== 'running');
      if ((settled(history) && settled(listed)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.deepEqual(
      mine(listed)
        .map((m) => [m.runId, m.ticket, m.outcome])
        .sort(),
      [
        [run1, first.ticket, 'rolled-back'],
        [run2, second.ticket, 'succeeded'],
      ].sort(),
    );
    assert.deepEqual(
      mine(history).map((m) => [m.runId, m.workflowId, m.ticket, m.outcome]),
      [
        [run2, WORKFLOW_ID, second.ticket, 'succeeded'],
        [run1, WORKFLOW_ID, first.ticket, 'rolled-back'],
      ],
    );
    for (const m of mine(history)) assert.ok(m.endTime && m.endTime >= m.startTime, `${m.runId} has ended`);
    assert.deepEqual(
      history.map((m) => m.startTime),
      history
        .map((m) => m.startTime)
        .sort()
        .reverse(),
      'every run, newest first',
    );
    assert.deepEqual(
      mine(await cli.json<ListedMigration[]>('history', WORKFLOW_ID)),
      mine(history),
      'by workflow id alike',
    );
    const table = await cli.run('history', APP);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^STARTED \(UTC\) +ENDED \(UTC\) +RUN ID +WORKFLOW ID +TICKET +OUTCOME$/m);
    const rows = table.stdout.split('\n');
    const row2 = rows.findIndex((l) => l.includes(run2));
    const row1 = rows.findIndex((l) => l.includes(run1));
    assert.ok(row2 > 0 && row1 > row2, `the later run first:\n${table.stdout}`);
    assert.match(rows[row1], new RegExp(`${run1} +${WORKFLOW_ID} +${first.ticket} +rolled-back$`));

    // Runs and apps that do not exist: one error line and a hint, exit 1.
    const unknownRun = randomUUID();
    for (const args of [
      ['status', WORKFLOW_ID, '--run', unknownRun],
      ['status', APP, '--run', unknownRun],
      ['watch', APP, '--run', unknownRun],
      ['evidence', WORKFLOW_ID, '--run', unknownRun, '--out-dir', outDir],
    ]) {
      const missing = await cli.run(...args);
      assertUserError(missing, new RegExp(`^error: migration ${args[1]} has no run ${unknownRun}$`));
      assert.match(missing.stderr, new RegExp(`^hint: see its runs with \`cutover history ${args[1]}\`$`, 'm'));
      assert.equal(missing.stdout, '');
    }
    assertUserError(await cli.run('status', APP, '--run', 'not-a-run-id'), /has no run not-a-run-id$/);
    const none = await cli.run('history', 'no-such-app');
    assertUserError(none, /^error: no migration with workflow id or app name no-such-app$/);
    assert.equal(none.stdout, '');
    const noneJson = await cli.run('-o', 'json', 'history', 'no-such-app');
    assert.equal(noneJson.code, 1);
    assert.equal(noneJson.stdout, '');
    assert.match((JSON.parse(noneJson.stderr) as { error: string }).error, /no-such-app/);
  });
});
