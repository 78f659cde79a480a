/**
 * Notifications reach approvers where they work: the plan's webhooks hear of the open gate, the rollback and the end,
 * in the generic, Teams and Slack formats, each with the CLI command and the Web UI link; a webhook that answers 503
 * is retried until it takes the notice; a webhook the worker does not know fails preflight; no message holds a
 * secret. Against a local HTTP receiver.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationPlan } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { approveUpdate, rejectUpdate } from '../../workflows/migration/messages';
import { type Estate, estatePlan, startEstate } from '../support/estate';
import { saveHistory } from '../support/histories';
import { waitForProgress } from '../support/progress';

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

/** A webhook receiver: records every POST; `/flaky` answers 503 to its first two. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  let flaky = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const status = req.url === '/flaky' && flaky++ < 2 ? 503 : 200;
      received.push({ path: req.url ?? '', body: JSON.parse(text || '{}') as Record<string, unknown>, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe('notifications to the plan’s webhooks', () => {
  let estate: Estate;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let release = () => {};
  let worker: Promise<void> | undefined;
  const WEB_UI = 'http://127.0.0.1:8233';
  before(async () => {
    receiver = await startReceiver();
    estate = await startEstate('notifications');
    const webhooks = {
      ops: `${receiver.url}/ops`,
      'ops-teams': `${receiver.url}/teams`,
      'ops-slack': `${receiver.url}/slack`,
      flaky: `${receiver.url}/flaky`,
    };
    const stop = new Promise<void>((r) => (release = r));
    worker = estate.temporal.withWorker(estate.activities({ webhooks, webUiUrl: WEB_UI }), () => stop);
  });
  after(async () => {
    release();
    await worker;
    await estate.close();
    receiver.server.close();
  });

  const start = (p: MigrationPlan) =>
    estate.temporal.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: estate.temporal.taskQueue,
      workflowId: `${migrationWorkflowId(p)}/${Date.now()}`,
      args: [{ plan: p, initiatedBy: 'alice' }],
    });
  const bodiesAt = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => r.body);

  test('the open gate and the end reach every webhook, in its format, with the command and the link', async () => {
    const keys = await estate.azure.cognitive.accounts.listKeys('rg-claims', 'inplace-openai');
    const plan = estatePlan('inplace-bot', 'inplace-openai', {
      approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: true },
      notifications: [
        { webhook: 'ops' },
        { webhook: 'ops-teams', format: 'teams', events: ['gate-opened'] },
        { webhook: 'ops-slack', format: 'slack', events: ['finished'] },
      ],
    });
    const handle = await start(plan);
    await waitForProgress(handle, (p) => p.pendingGate?.gate === 'local-auth', 'the local-auth gate');
    // Delivered while the gate waits: the gate does not wait for the webhook, the webhook need not wait for the end.
    await waitUntil(() => bodiesAt('/ops').length >= 1 && bodiesAt('/teams').length >= 1, 'the gate notices');
    const [gate] = bodiesAt('/ops');
    assert.equal(gate.schema, 'cutover.notification/v1');
    assert.equal(gate.event, 'gate-opened');
    assert.equal(gate.workflowId, handle.workflowId);
    assert.equal(gate.target, 'inplace-bot');
    assert.deepEqual((gate.gate as { id: string }).id, 'local-auth');
    assert.equal(gate.command, `cutover approve ${handle.workflowId} --gate local-auth --as NAME`);
    assert.match(
      String(gate.webUi),
      new RegExp(`^${WEB_UI}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}/`),
    );
    const card = bodiesAt('/teams')[0] as {
      type: string;
      attachments: { contentType: string; content: { body: { text?: string }[] } }[];
    };
    assert.equal(card.type, 'message');
    assert.equal(card.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    assert.match(
      card.attachments[0].content.body[0].text ?? '',
      /^Waiting for approval — CHG-inplace-bot: inplace-bot → inplace-openai$/,
    );

    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', gate: 'local-auth' }] });
    const result = await handle.result();
    await saveHistory('notified-gate', await handle.fetchHistory());
    assert.equal(result.outcome, 'succeeded', result.reason);
    const finished = bodiesAt('/ops').filter((b) => b.event === 'finished');
    assert.equal(finished.length, 1);
    assert.equal(finished[0].outcome, 'succeeded');
    const slack = bodiesAt('/slack') as { text: string; blocks: { type: string }[] }[];
    assert.equal(slack.length, 1, 'slack hears only of the end');
    assert.match(
      slack[0].text,
      /^Finished — CHG-inplace-bot: inplace-bot → inplace-openai: the migration ended succeeded$/,
    );
    assert.ok(
      slack[0].blocks.some((b) => b.type === 'actions'),
      'a button to the Web UI',
    );
    // The record says which notices were delivered before it was written.
    assert.deepEqual(
      (result.evidence.notifications ?? []).map((n) => [n.event, n.webhook, n.delivered]),
      [
        ['gate-opened', 'ops', true],
        ['gate-opened', 'ops-teams', true],
      ],
    );
    const all = JSON.stringify(receiver.received);
    for (const key of [keys.key1, keys.key2]) assert.ok(key && !all.includes(key), 'no account key in any message');
  });

  test('a rejection announces the rollback; a webhook that answers 503 is retried until it takes the notice', async () => {
    const plan = estatePlan('claims-bot', 'claims-openai', {
      approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false },
      notifications: [
        { webhook: 'ops', events: ['rollback-started'] },
        { webhook: 'flaky', events: ['finished'] },
      ],
    });
    const handle = await start(plan);
    await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings', 'the settings gate');
    await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'not today' }] });
    const result = await handle.result();
    await saveHistory('notified-rollback', await handle.fetchHistory());
    assert.equal(result.outcome, 'rolled-back');
    const rollback = bodiesAt('/ops').filter((b) => b.workflowId === handle.workflowId);
    assert.deepEqual(
      rollback.map((b) => b.event),
      ['rollback-started'],
    );
    assert.match(
      String(rollback[0].message),
      /^rolling back: bob rejected "Swap settings \(remove the key\)": not today$/,
    );
    const flaky = receiver.received.filter((r) => r.path === '/flaky');
    assert.deepEqual(
      flaky.map((r) => r.status),
      [503, 503, 200],
      'two refusals, then delivered',
    );
    assert.equal(flaky[2].body.outcome, 'rolled-back');
  });

  test('a webhook the worker does not know fails preflight, before anything changes', async () => {
    const plan = estatePlan('legacy-bot', 'legacy-openai', { notifications: [{ webhook: 'nobody-knows' }] });
    const result = await (await start(plan)).result();
    assert.equal(result.outcome, 'preflight-failed');
    assert.ok(
      (result.evidence.preflightProblems ?? []).some(
        (p) => p.check === 'notifications' && p.message === 'webhook nobody-knows is not configured on the worker',
      ),
    );
  });
});

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
