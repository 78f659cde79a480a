/**
 * A change manager's migrations through the real CLI: `start`, `status`, `approve` / `reject` / `abort`, `list` and
 * `evidence`, each a subprocess against the run's dev server, with a worker in this process on the CLI's task queue
 * and the simulator playing Azure.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { EvidenceResult, ListedMigration, StartResult, StatusResult } from '../../cli/commands/migrations';
import { progressQuery } from '../../workflows/messages';
import type { ApprovalRecord, Evidence, MigrationProgress } from '../../workflows/types';
import { assertUserError, type Cli, cliFor } from '../support/cli';
import { type Estate, estatePlanFields, RG, startEstate, SUB } from '../support/estate';

const WORKFLOW_ID = `cutover/${SUB}/${RG}/claims-bot`;

describe('cutover start, approve, reject, abort, list and evidence', () => {
  let estate: Estate;
  let cli: Cli;
  before(async () => {
    estate = await startEstate('cli-migrations');
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

  /** A plan file for claims-bot with its own ticket and the given gates. */
  function plan(name: string, approvals: { beforeSettingsSwap: boolean; beforeDisableLocalAuth: boolean }) {
    const ticket = `CHG-cli-${name}-${randomUUID().slice(0, 8)}`;
    return {
      ticket,
      file: cli.writePlan(name, {
        ...estatePlanFields('claims-bot', 'claims-openai'),
        changeTicket: ticket,
        approvals,
      }),
    };
  }

  /**
   * Waits (polling in this process: a CLI start costs a second or two) until `pred` holds, then returns what
   * `cutover status -o json` says — the CLI's view, parsed.
   */
  async function statusWhen(pred: (s: StatusResult) => boolean, what: string, timeoutMs = 45_000) {
    const handle = estate.temporal.client.workflow.getHandle(WORKFLOW_ID);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = (await handle.describe()).status.name;
      const progress = status === 'RUNNING' ? await handle.query(progressQuery).catch(() => undefined) : undefined;
      if (status !== 'RUNNING' || (progress && pred({ workflowId: WORKFLOW_ID, status, progress }))) break;
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
    await estate.temporal.withWorker(estate.activities(), async () => {
      const started = await cli.json<StartResult>('start', file, '--as', 'alice');
      assert.equal(started.workflowId, WORKFLOW_ID);
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

    const deadline = Date.now() + 15_000;
    let listed: ListedMigration[] = [];
    while (Date.now() < deadline) {
      listed = await cli.json<ListedMigration[]>('list', '--ticket', ticket);
      if (listed[0]?.outcome === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(
      listed.map((m) => [m.workflowId, m.status, m.app, m.account, m.outcome]),
      [[WORKFLOW_ID, 'COMPLETED', 'claims-bot', 'claims-openai', 'succeeded']],
    );
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
    const settings = await estate.azure.web.webApps.listApplicationSettings(RG, 'claims-bot');
    assert.ok(settings.properties?.AZURE_OPENAI_API_KEY, 'the key setting is still there');
    assert.equal((await estate.azure.web.webApps.get(RG, 'claims-bot')).identity?.type ?? 'None', 'None');
  });

  test('a second start of a running app is refused; abort rolls the first back', async () => {
    const { file } = plan('abort', { beforeSettingsSwap: true, beforeDisableLocalAuth: false });
    await estate.temporal.withWorker(estate.activities(), async () => {
      await cli.json<StartResult>('start', file, '--as', 'alice');
      await statusWhen(gateOpen('settings'), 'the settings gate');

      const again = await cli.run('start', file, '--as', 'carol');
      const error = assertUserError(again, /a migration of claims-bot is already running/);
      assert.equal(error, `error: a migration of claims-bot is already running (workflow id ${WORKFLOW_ID})`);
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
      await cli.run('abort', WORKFLOW_ID, '--reason', 'again'),
      /^error: migration .* has already ended \(completed\): there is nothing left to decide$/,
    );
  });
});
