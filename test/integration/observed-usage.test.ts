/**
 * Observed key usage and analysis end to end: the account's diagnostic logs in the simulator's Log Analytics
 * workspace (with its ingestion delay), read by the real `@azure/monitor-query-logs` and metrics clients. A key
 * caller nobody listed blocks the key switch and is named; no diagnostic setting follows the plan; a key call
 * made just before the switch, not yet ingested, is still caught; refusals after the swap fail the analysis and
 * roll back; missing data makes it inconclusive (a gate); a healthy cutover passes quietly.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { clientSecretCredential, createAzureClients } from '../../azure/clients';
import { approveUpdate, rejectUpdate } from '../../workflows/migration/messages';
import type { MigrationPlan } from '../../plan/schema';
import { waitForProgress } from '../support/progress';
import { appHealth, type Estate, estatePlan, RG, SUB, startEstate, runMigration } from '../support/estate';

/** Azure Monitor as the simulator's fast profile delivers it (rows ingested 1.5 s after the call). */
const observability = { logIngestionDelay: '2s', metricsDelay: '0s' };
const analysis = { interval: '2s', count: 2, after: ['switch', 'key-switch'] };
const ACCOUNT_ID = (name: string) =>
  `subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/${name}`;

describe('observed key usage and analysis against the simulator', () => {
  let estate: Estate;
  before(async () => {
    estate = await startEstate('observed-usage');
  });
  after(async () => {
    await estate.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });

  const run = (name: string, plan: MigrationPlan, during?: Parameters<typeof runMigration>[3]) =>
    runMigration(estate, name, plan, during);
  /** The platform team turns the account's diagnostic logs off. */
  async function removeDiagnosticSetting(account: string) {
    const admin = clientSecretCredential(estate.endpoints, estate.sim.control.credentials('monitoring-admin'));
    await createAzureClients(admin, SUB, estate.endpoints).monitor.diagnosticSettings.delete(
      ACCOUNT_ID(account),
      'to-log-claims',
    );
  }
  const localAuthOf = async (name: string) =>
    (await estate.azure.cognitive.accounts.get(RG, name)).properties?.disableLocalAuth === true;

  test('a healthy cutover: quiet logs, both analyses pass, the evidence holds the query and the measurements', async () => {
    assert.equal((await appHealth(estate, RG, 'inplace-bot')).body.authMode, 'key', 'the bot calls with its key first');
    const result = await run(
      'observed-healthy',
      estatePlan('inplace-bot', 'inplace-openai', { localAuth: { quietPeriod: '1h' }, observability, analysis }),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(await localAuthOf('inplace-openai'), true);
    const usage = result.evidence.localAuth.keyUsage ?? [];
    assert.deepEqual(
      usage.map((o) => o.verdict),
      ['quiet'],
      'once, under the lock: no approval stands before the key switch',
    );
    assert.ok(usage[0].ownKeyCalls > 0, 'the bot’s own key calls before it moved are told apart');
    assert.match(usage[0].query ?? '', /AzureDiagnostics[\s\S]*RequestResponse/);
    assert.ok(usage.every((o) => Date.parse(o.readAt) - Date.parse(o.window.end) >= -1000));
    assert.deepEqual(
      result.evidence.analyses?.map((a) => [a.point, a.verdict, a.measurements.length]),
      [
        ['switch', 'successful', 2],
        ['key-switch', 'successful', 2],
      ],
    );
    const values = result.evidence.analyses.flatMap((a) => a.measurements.flatMap((m) => m.values));
    assert.ok(
      values.every((v) => v.phase === 'successful' && v.result === 0),
      JSON.stringify(values),
    );
    assert.ok(result.evidence.consumedDowntime, 'downtime as Azure Monitor counted it');
  });

  test('an unknown key caller in the logs blocks the key switch and is named', async () => {
    const call = await estate.sim.control.callAccount({
      account: 'inplace-openai',
      key: 1,
      ip: '203.0.113.7',
      userAgent: 'research-notebook/1.0',
    });
    assert.equal(call.status, 200, 'the notebook calls with the key');
    const result = await run(
      'observed-unknown-caller',
      estatePlan('inplace-bot', 'inplace-openai', { localAuth: { quietPeriod: '1h' }, observability }),
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(await localAuthOf('inplace-openai'), false, 'keys stay on');
    assert.match(
      result.evidence.localAuth.skippedBecause ?? '',
      /unknown caller at 203\.0\.113\.7 \(research-notebook\/1\.0\): 1 key call/,
    );
    const last = result.evidence.localAuth.keyUsage?.at(-1);
    assert.equal(last?.verdict, 'key-calls');
    assert.deepEqual(
      last?.keyCallers.map((c) => [c.ip, c.userAgent, c.calls]),
      [['203.0.113.7', 'research-notebook/1.0', 1]],
    );
    assert.equal((await appHealth(estate, RG, 'inplace-bot')).body.authMode, 'identity', 'the bot itself moved');
  });

  test('a key call just before the switch, not yet ingested, is still caught under the lock', async () => {
    estate.sim.control.setDelays({ logIngestionMs: 4000 });
    const result = await run(
      'observed-late-key-call',
      estatePlan('inplace-bot', 'inplace-openai', {
        localAuth: { quietPeriod: '1h' },
        observability: { ...observability, logIngestionDelay: '5s' },
        approvals: { beforeDisableLocalAuth: true },
      }),
      async (handle) => {
        await waitForProgress(handle, (p) => p.pendingGate?.gate === 'local-auth', 'the local-auth gate');
        // A CI job calls with the key right before the approval: its row is not queryable for 4 s.
        const call = await estate.sim.control.callAccount({
          account: 'inplace-openai',
          key: 2,
          ip: '198.51.100.20',
          userAgent: 'ci-job/7',
        });
        assert.equal(call.status, 200);
        await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
      },
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(await localAuthOf('inplace-openai'), false, 'the switch did not happen');
    assert.deepEqual(
      result.evidence.localAuth.keyUsage?.map((o) => o.verdict),
      ['quiet', 'key-calls'],
    );
    assert.match(result.evidence.localAuth.skippedBecause ?? '', /198\.51\.100\.20 \(ci-job\/7\)/);
  });

  test('no diagnostic setting: usage is unobservable and an approver must acknowledge the blind switch', async () => {
    await removeDiagnosticSetting('inplace-openai');
    const result = await run(
      'observed-unobservable-acknowledged',
      estatePlan('inplace-bot', 'inplace-openai', { localAuth: { quietPeriod: '1h' }, observability }),
      async (handle) => {
        const p = await waitForProgress(handle, (x) => x.pendingGate?.gate === 'key-usage', 'the key-usage gate');
        assert.match(p.pendingGate!.title, /inplace-openai has no diagnostic setting/);
        await handle.executeUpdate(approveUpdate, {
          args: [{ approver: 'bob', comment: 'inventory is clear; logs go to Splunk' }],
        });
      },
    );
    assert.equal(result.outcome, 'succeeded', result.reason);
    assert.equal(await localAuthOf('inplace-openai'), true);
    assert.deepEqual(
      result.evidence.approvals.map((a) => [a.gate, a.by]),
      [['key-usage', 'bob']],
    );
  });

  test('refusals on the account after the swap fail the analysis: the run rolls back', async () => {
    const plan = estatePlan('claims-bot', 'claims-openai', {
      strategy: { type: 'slot-swap', stagingSlot: 'staging' },
      localAuth: { disable: false },
      observability,
      analysis: { ...analysis, after: ['switch'], metrics: [{ name: 'account-refusals' }] },
    });
    const result = await run('observed-analysis-fails', plan, async (handle) => {
      await waitForProgress(handle, (p) => p.stages.some((s) => s.id === 'analysis' && s.status !== 'pending'));
      // A caller breaks right after the cutover: the account refuses it.
      const refused = await estate.sim.control.callAccount({
        account: 'claims-openai',
        key: 'not-the-key',
        ip: '192.0.2.44',
        userAgent: 'batch-scorer/2',
      });
      assert.equal(refused.status, 401);
    });
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /analysis after the switch failed: account-refusals: 1 calls refused/);
    assert.match(result.reason ?? '', /192\.0\.2\.44 \(batch-scorer\/2\)/);
    assert.equal((await appHealth(estate, RG, 'claims-bot')).body.authMode, 'key', 'swapped back');
    assert.ok(result.evidence.compensations.some((c) => c.kind === 'swap-back' && c.status === 'done'));
  });

  test('an analysis without data is inconclusive: it opens a gate, and a rejection rolls back', async () => {
    await removeDiagnosticSetting('inplace-openai');
    const plan = estatePlan('inplace-bot', 'inplace-openai', {
      localAuth: { disable: false },
      observability,
      analysis: { ...analysis, after: ['switch'] },
    });
    const result = await run('observed-analysis-inconclusive', plan, async (handle) => {
      const p = await waitForProgress(handle, (x) => x.pendingGate?.gate === 'analysis', 'the analysis gate');
      assert.match(p.pendingGate!.title, /account-refusals inconclusive 2× \(inplace-openai has no diagnostic setting/);
      const measured = p.analyses?.[0]?.measurements ?? [];
      assert.equal(measured.length, 2, 'progress shows the measurements');
      assert.ok(measured.every((m) => m.values.find((v) => v.metric === 'app-5xx')?.phase === 'successful'));
      await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'no logs, no go' }] });
    });
    assert.equal(result.outcome, 'rolled-back');
    assert.equal((await appHealth(estate, RG, 'inplace-bot')).body.authMode, 'key', 'the bot is back on its key');
  });
});
