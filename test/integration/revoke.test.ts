/**
 * `cutover revoke` and `cutover review` end to end, run as a user runs them (the CLI as a process) against the
 * simulator's access estate (test/fixtures/scenarios/access.yaml): a user-assigned identity used by two apps on two
 * accounts, a group grant, a Reader assignment of another kind, an expired and an unused approval. A revoke removes
 * exactly the direct Azure OpenAI grants, reports the group grant, waits until the data plane refuses the identity
 * and measures it; a worker killed mid-revoke resumes to the same end.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { stringify } from 'yaml';
import type { ReviewResult } from '../../cli/commands/review';
import type { RevokeProgress, RevokeResult } from '../../contracts/access';
import { revokeWorkflowId } from '../../contracts/access';
import type { revokeAccess, revokeReviewed } from '../../workflows';
import { reviewedRevokesProgressQuery } from '../../workflows/revoke/batch';
import { saveHistory } from '../support/histories';
import { httpRequest } from '../../azure/http';
import { revokeProgressQuery } from '../../workflows/revoke/messages';
import { cliFor, type Cli } from '../support/cli';
import { testEnv } from '../support/env';
import { type Estate, startEstate } from '../support/estate';
import { WorkerFleet } from '../support/reliability';
import { pollUntil } from '../support/wait';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'access.yaml');
const SUB = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const RG = 'rg-ai';
const ra = (n: number) => `b2000000-0000-4000-8000-00000000000${n}`;
const ID_RESEARCH = '1d000000-0000-4000-8000-000000000001';

describe('revoke and review against the simulator', () => {
  let estate: Estate;
  let cli: Cli;
  before(async () => {
    estate = await startEstate('revoke', SCENARIO);
    cli = cliFor(estate, 'revoke', { CUTOVER_USER: 'alice' });
  });
  after(async () => {
    await estate.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });

  const assignments = () =>
    Object.values(estate.sim.control.state().roleAssignments)
      .map((r) => r.name)
      .sort();
  /** The app's identity probe: 200 while its identity may call its account. */
  async function probeStatus(app: string): Promise<number> {
    const r = await httpRequest(`${estate.sim.control.siteUrl(RG, app)}/health/identity`, {
      timeoutMs: 10_000,
      ca: estate.sim.info.caCert,
    });
    return r.status;
  }

  test('revoke of an identity two apps use on two accounts: exactly its direct grants go, the group grant is reported', async () => {
    assert.equal(await probeStatus('notebook-b'), 200, 'notebook-b calls docs-openai with id-research');
    const before = assignments();
    const result = await estate.temporal.withWorker(estate.activities(), () =>
      cli.json<RevokeResult>(
        'revoke',
        '--identity',
        `${RG}/id-research`,
        '--subscription',
        SUB,
        '--ticket',
        'INC-7',
        '--reason',
        'study ended',
        '--no-approval',
        '--poll',
        '250ms',
      ),
    );
    assert.equal(result.outcome, 'revoked', result.evidence.why);
    const f = result.evidence.findings!;
    assert.deepEqual(f.toRemove.map((g) => g.id.split('/').pop()).sort(), [ra(1), ra(2)]);
    assert.deepEqual(
      f.inherited.map((g) => g.id.split('/').pop()),
      [ra(4)],
      'the group grant is reported',
    );
    assert.deepEqual(
      f.otherKinds.map((g) => [g.id.split('/').pop(), g.role]),
      [[ra(3), 'Reader']],
    );
    assert.deepEqual(
      assignments(),
      before.filter((n) => n !== ra(1) && n !== ra(2)),
      'nothing else was touched',
    );
    assert.ok(result.evidence.removals.every((r) => r.status === 'done' && r.removedAt));
    assert.deepEqual(result.evidence.remaining, []);
    const refusal = result.evidence.refusal!;
    assert.equal(refusal.method, 'probe');
    assert.equal(refusal.refused, true);
    // The simulator keeps a deleted grant working for its propagation delay (1.5 s): never refused sooner.
    assert.ok((refusal.measuredMs ?? 0) >= 1000, `measured ${refusal.measuredMs} ms`);
    assert.match(
      result.evidence.warnings.join('\n'),
      /notebook-a keeps its access to research-openai through a group grant/,
    );
    assert.notEqual(await probeStatus('notebook-b'), 200, 'notebook-b is refused');
    assert.equal(await probeStatus('notebook-a'), 200, 'notebook-a still calls through grp-research');
    assert.equal(await probeStatus('docs-bot'), 200, 'another identity on the same account is untouched');
  });

  test('a revoke with its gate: four-eyes, then approval; `cutover approve` moves it on', async () => {
    await estate.temporal.withWorker(estate.activities(), async () => {
      const started = await cli.json<{ workflowId: string }>(
        'revoke',
        '--identity',
        `${RG}/id-docs`,
        '--subscription',
        SUB,
        '--ticket',
        'CHG-8',
        '--reason',
        'retired bot',
        '--no-wait',
      );
      const workflowId = started.workflowId;
      assert.equal(
        workflowId,
        revokeWorkflowId({
          kind: 'identity',
          resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-docs`,
        }),
      );
      const handle = estate.temporal.client.workflow.getHandle<typeof revokeAccess>(workflowId);
      await pollUntil(async () => (await handle.query(revokeProgressQuery)).pendingGate, 'the revoke gate');
      assert.deepEqual(assignments().includes(ra(5)), true, 'nothing removed before the approval');
      const self = await cli.run('approve', workflowId, '--as', 'alice');
      assert.equal(self.code, 1);
      assert.match(self.stderr, /four-eyes/);
      const waiting = await cli.run('status', workflowId);
      assert.equal(waiting.code, 0, waiting.stderr);
      assert.match(waiting.stdout, /Waiting for approval: Remove identity id-docs's access/);
      const ok = await cli.run('approve', workflowId, '--as', 'bob');
      assert.equal(ok.code, 0, ok.stderr);
      const result = await handle.result();
      assert.equal(result.outcome, 'revoked', result.evidence.why);
      assert.deepEqual(
        result.evidence.approvals.map((a) => [a.gate, a.by]),
        [['revoke', 'bob']],
      );
      assert.ok(!assignments().includes(ra(5)));
    });
  });

  test('a worker killed while the revoke waits for the refusal: the next one resumes to the same end', async () => {
    estate.sim.control.setDelays({ propagationMs: 6000 });
    const fleet = new WorkerFleet(estate, {
      address: testEnv('temporalAddress'),
      taskQueue: estate.temporal.taskQueue,
      logName: 'revoke-crash',
    });
    try {
      await fleet.start();
      const started = await cli.json<{ workflowId: string }>(
        'revoke',
        '--identity',
        `${RG}/id-docs`,
        '--subscription',
        SUB,
        '--ticket',
        'SEC-1',
        '--reason',
        'credential leaked',
        '--emergency',
        '--poll',
        '250ms',
        '--no-wait',
      );
      const handle = estate.temporal.client.workflow.getHandle<typeof revokeAccess>(started.workflowId);
      const running = (p: RevokeProgress) => p.stages.some((s) => s.id === 'refused' && s.status === 'running');
      await pollUntil(
        async () => (running(await handle.query(revokeProgressQuery)) ? true : undefined),
        'the refusal wait',
      );
      await fleet.kill();
      await fleet.start();
      const result = await handle.result();
      await saveHistory('revoke-worker-killed', await handle.fetchHistory());
      const watched = await cli.run('watch', started.workflowId);
      assert.equal(watched.code, 0, watched.stderr);
      assert.match(watched.stdout, /Revoke identity id-docs \(SEC-1\) — revoked \[COMPLETED\]/);
      assert.equal(result.outcome, 'revoked', result.evidence.why);
      assert.equal(result.evidence.emergency, true);
      assert.deepEqual(result.evidence.approvals, [], 'no gate in emergency mode');
      assert.deepEqual(
        result.evidence.removals.map((r) => [r.grant.id.split('/').pop(), r.status]),
        [[ra(5), 'done']],
      );
      assert.ok(!assignments().includes(ra(5)));
      assert.ok((result.evidence.refusal?.measuredMs ?? 0) >= 5000, 'refused only after the 6 s propagation');
      assert.notEqual(await probeStatus('docs-bot'), 200);
    } finally {
      await fleet.close();
    }
  });

  test('review finds the unapproved group grant, an expired and an unused identity', async () => {
    // id-research and id-docs call today; id-old never does.
    for (const app of ['notebook-a', 'notebook-b', 'docs-bot']) assert.equal(await probeStatus(app), 200);
    const file = path.join(cli.dir, 'approved.yaml');
    writeFileSync(
      file,
      stringify({
        approved: [
          {
            identity: `${RG}/id-research`,
            accounts: ['*'],
            owner: 'dr-lee',
            expires: '2099-12-31',
            purpose: 'study 42',
          },
          {
            identity: `${RG}/id-docs`,
            accounts: ['docs-openai'],
            owner: 'docs-team',
            expires: '2020-01-31',
            purpose: 'docs bot',
          },
          {
            identity: `${RG}/id-old`,
            accounts: ['research-openai'],
            owner: 'dr-who',
            expires: '2099-01-01',
            purpose: 'old study',
          },
        ],
      }),
    );
    const args = ['review', '--approved', file, '--subscription', SUB];
    // The apps' calls reach the logs after the ingestion delay.
    const report = await pollUntil(async () => {
      const r = await cli.json<ReviewResult>(...args);
      return r.rows.some((x) => x.objectId === ID_RESEARCH && x.status === 'unused') ? undefined : r;
    }, 'the apps’ calls in the review');
    const status = (who: string, account: string) =>
      report.rows.find((r) => r.who.includes(who) && r.account === account)?.status;
    assert.equal(status('id-research', 'research-openai'), 'approved');
    assert.equal(status('id-research', 'docs-openai'), 'approved');
    assert.equal(status('id-docs', 'docs-openai'), 'expired');
    assert.equal(status('id-old', 'research-openai'), 'unused');
    assert.ok(
      report.rows.some(
        (r) => r.principalType === 'Group' && r.status === 'unapproved' && r.account === 'research-openai',
      ),
      JSON.stringify(report.rows),
    );
    const text = await cli.run(...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /EXPIRED\s+identity id-docs/);
    assert.match(text.stdout, /UNUSED\s+identity id-old/);
    // What the review reported goes, behind one approval: the expired id-docs and the unused id-old.
    const started = await estate.temporal.withWorker(estate.activities(), async () => {
      const run = await cli.json<ReviewResult>(
        ...args,
        '--revoke',
        '--ticket',
        'REV-Q4',
        '--log-ingestion-delay',
        '2s',
      );
      const workflowId = run.revokes!.workflowId;
      const handle = estate.temporal.client.workflow.getHandle<typeof revokeReviewed>(workflowId);
      await pollUntil(async () => (await handle.query(reviewedRevokesProgressQuery)).pendingGate, 'the gate');
      assert.ok(assignments().includes(ra(5)) && assignments().includes(ra(6)), 'nothing removed before it');
      const ok = await cli.run('approve', workflowId, '--as', 'bob');
      assert.equal(ok.code, 0, ok.stderr);
      const result = await handle.result();
      await saveHistory('review-revokes', await handle.fetchHistory());
      return result;
    });
    assert.equal(started.outcome, 'done');
    assert.deepEqual(started.revokes.map((r) => r.outcome).sort(), ['revoked', 'revoked'], JSON.stringify(started));
    assert.ok(!assignments().includes(ra(5)) && !assignments().includes(ra(6)), 'both grants gone');
    assert.ok(assignments().includes(ra(1)) && assignments().includes(ra(4)), 'the approved ones stay');

    const bad = path.join(cli.dir, 'bad.yaml');
    writeFileSync(
      bad,
      stringify({ approved: [{ identity: 'x/y', app: 'a/b', owner: '', expires: 'soon', purpose: 'p' }] }),
    );
    const refused = await cli.run('review', '--approved', bad, '--subscription', SUB);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not a valid approved-access list/);
    assert.match(refused.stderr, /expires: must be a date, YYYY-MM-DD/);
  });
});
