/**
 * Workflow unit tests: the real workflow on the real dev server, with activities replaced by an in-memory fake of
 * Azure (the only place mocks are allowed). They pin the orchestration: stage order, compensations in reverse,
 * gates and their validators, abort, blocked rollback. Integration tests against the simulator live elsewhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { trafficActivities } from '../../activities/traffic';
import type { MigrationActivities } from '../../activities';
import { parsePlan, type MigrationPlan } from '../../plan/schema';
import { FailureType } from '../../contracts/failures';
import { migrateToManagedIdentity } from '../../workflows';
import { abortUpdate, approveUpdate, rejectUpdate, skipCompensationUpdate } from '../../workflows/migration/messages';
import type { BeforeState, KeyHolderScan, ProbeResult } from '../../contracts/model';
import type { ProbeAnswer } from '../../contracts/probes';
import type { KeyUsageObservation } from '../../contracts/observation';
import { ACCOUNT_LOCK_WORKFLOW } from '../../contracts/lock';
import { requestLockSignal } from '../../workflows/lock/workflow';
import { waitForProgress } from '../support/progress';
import { temporalHarness, type TemporalHarness } from '../support/temporal';

const SUB = '00000000-0000-0000-0000-00000000000a';
const TENANT = '00000000-0000-0000-0000-0000000000aa';

function plan(overrides: Record<string, unknown> = {}): MigrationPlan {
  return parsePlan({
    changeTicket: 'CHG-1',
    tenantId: TENANT,
    subscriptionId: SUB,
    target: { kind: 'app-service', resourceGroup: 'rg', name: 'claims-bot' },
    account: { name: 'claims-openai', deployment: 'gpt-4o-mini' },
    smokeTest: { interval: '100ms' },
    // No budget may run out on a slow machine where a test is not about it; those that are set a short one.
    budgets: { propagationWait: '10m', downtime: '10m', approvalTimeout: '10m' },
    approvals: { beforeDisableLocalAuth: false },
    // Azure Monitor data arrives at once here; analysis and the log check run only where a test asks for them.
    observability: { logIngestionDelay: '0s', metricsDelay: '0s' },
    analysis: { after: [] },
    localAuth: { quietPeriod: '0s' },
    ...overrides,
  });
}

interface FakeOptions {
  smokePasses?: boolean;
  probeFailures?: number;
  failRestoreSettings?: boolean;
  /** Answers of successive key-holder checks (the last one repeats); clear when absent. */
  keyHolders?: KeyHolderScan['verdict'][];
  /** Shared between fakes: the account as two migrations see it. */
  account?: { localAuthDisabled: boolean };
  /** For the account lock, which runs as a real workflow. */
  client?: Client;
  /** The app fails its smoke test after the key switch (an app still using a key somewhere). */
  smokeFailsWithoutKeys?: boolean;
  /** Verdicts of successive looks at the account's logs (the last one repeats); quiet when absent. */
  keyUsage?: KeyUsageObservation['verdict'][];
  /** An analysis measurement's result for a metric (undefined: no data); 0 when absent. */
  measure?: (metric: string, measurement: number) => number | undefined;
}

/** A key-holder check with this verdict. */
function scanOf(verdict: KeyHolderScan['verdict']): KeyHolderScan {
  const bystander = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/bystander`;
  return {
    account: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/claims-openai`,
    scannedAt: new Date().toISOString(),
    verdict,
    holders:
      verdict === 'clear'
        ? []
        : [
            verdict === 'holders'
              ? { resourceId: bystander, settingNames: ['AZURE_OPENAI_API_KEY'] }
              : { resourceId: bystander, settingNames: [], unverifiable: 'the worker may not read its app settings' },
          ],
    scopes: [{ scope: `/subscriptions/${SUB}`, status: 'scanned', resources: 2 }],
    excluded: [],
  };
}

/** An in-memory Azure that the fake activities read and change, so tests can assert the end state. */
function fakeAzure(options: FakeOptions = {}) {
  const state = {
    identity: 'None' as string,
    principalId: undefined as string | undefined,
    roles: new Set<string>(),
    settings: { AZURE_OPENAI_API_KEY: 'k', OTHER: 'x' } as Record<string, string>,
    localAuthDisabled: false,
  };
  const account = options.account ?? { localAuthDisabled: false };
  const verdicts = [...(options.keyHolders ?? ['clear'])];
  const nextScan = () => scanOf(verdicts.length > 1 ? verdicts.shift()! : verdicts[0]);
  const calls: string[] = [];
  const usage = [...(options.keyUsage ?? ['quiet'])];
  let measurements = 0;
  let probes = 0;
  const site = { subscriptionId: SUB, resourceGroup: 'rg', name: 'claims-bot' };
  const beforeState: BeforeState = {
    capturedAt: '2026-01-01T00:00:00Z',
    sites: [
      {
        site,
        resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/claims-bot`,
        baseUrl: 'https://claims-bot.example',
        identity: { type: 'None', userAssignedIdentityIds: [] },
        settingNames: ['AZURE_OPENAI_API_KEY', 'OTHER'],
        touchedSettings: {
          AZURE_OPENAI_API_KEY: { kind: 'account-key', fingerprint: 'sha256:x', keyName: 'key1' },
          AZURE_OPENAI_AUTH_MODE: { kind: 'absent' },
        },
        slotConfigNames: [],
      },
    ],
    account: {
      ref: { subscriptionId: SUB, resourceGroup: 'rg', name: 'claims-openai' },
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/claims-openai`,
      endpoint: 'https://claims-openai.example/',
      disableLocalAuth: false,
      keyFingerprints: ['sha256:x'],
    },
    role: { name: 'Cognitive Services OpenAI User', definitionId: 'role-def' },
    roleAssignments: [],
    warnings: [],
  };
  const probeApp = async ({ url }: { url: string }): Promise<ProbeResult> => {
    const at = new Date().toISOString();
    if (url.endsWith('/health/identity')) {
      calls.push('probe:identity');
      probes++;
      return probes > (options.probeFailures ?? 0)
        ? { ok: true, status: 200, authMode: 'identity', at }
        : { ok: false, status: 503, errorCode: 'PermissionDenied', at };
    }
    calls.push('probe:health');
    const usesIdentity = !('AZURE_OPENAI_API_KEY' in state.settings);
    if (options.smokeFailsWithoutKeys && calls.includes('readAccountState') && account.localAuthDisabled)
      return { ok: false, status: 503, errorCode: 'AuthenticationTypeDisabled', at };
    return usesIdentity && options.smokePasses !== false
      ? { ok: true, status: 200, authMode: 'identity', requestId: 'req-1', at }
      : { ok: false, status: 503, errorCode: 'MissingKey', at };
  };
  // Only the migration's activities of an App Service app: the revoke's, the fleet's and a container app's traffic
  // shift's (test/integration/container-app-traffic.test.ts) are not faked here.
  const activities: Omit<
    MigrationActivities,
    | keyof ReturnType<typeof trafficActivities>
    | 'findAccess'
    | 'removeGrant'
    | 'waitUntilRefused'
    | 'writeRevokeEvidence'
    | 'writeFleetEvidence'
    | 'findKeyHoldersOfAccounts'
    | 'armBudget'
  > = {
    async preflight() {
      calls.push('preflight');
      return beforeState;
    },
    async enableIdentity() {
      calls.push('enableIdentity');
      state.identity = 'SystemAssigned';
      state.principalId ??= 'principal-1';
      return { principalId: state.principalId, changed: true };
    },
    async enableIdentities({ sites, identity }) {
      const enabled = [];
      for (const site of sites) enabled.push(await activities.enableIdentity({ site, identity }));
      return enabled;
    },
    async restoreIdentity({ before }) {
      calls.push('restoreIdentity');
      state.identity = before.type;
      state.principalId = undefined;
      return { changed: true };
    },
    async assignRole({ principalId, scope }) {
      calls.push('assignRole');
      state.roles.add(principalId);
      return { roleAssignmentId: `${scope}/ra`, name: 'ra', scope, principalId, ours: true };
    },
    async assignRoles({ grants }) {
      return Promise.all(grants.map((g) => activities.assignRole(g)));
    },
    async deleteRoleAssignment({ principalId }) {
      calls.push('deleteRoleAssignment');
      return { deleted: state.roles.delete(principalId) };
    },
    probeApp,
    /** Like the real activity: polls at the interval, heartbeating (so an abort reaches it), until pass or budget. */
    async pollApp(input) {
      const answers: ProbeAnswer[] = [];
      for (let attempts = 1; ; attempts++) {
        const last = await probeApp(input);
        if (input.record) answers.push({ ...last, repeats: 1 });
        Context.current().heartbeat({ attempts });
        if (last.ok || attempts * input.intervalMs >= input.budgetMs)
          return { passed: last.ok, attempts, last, answers };
        await Context.current().sleep(Math.min(input.intervalMs, 50));
      }
    },
    async pollApps({ polls }) {
      return Promise.all(polls.map((p) => activities.pollApp(p)));
    },
    async updateSettings({ remove, set }) {
      calls.push('updateSettings');
      for (const n of remove) delete state.settings[n];
      Object.assign(state.settings, set);
      return { changed: [...remove, ...Object.keys(set)] };
    },
    async restoreSettings() {
      calls.push('restoreSettings');
      if (options.failRestoreSettings)
        throw ApplicationFailure.create({
          type: FailureType.CannotRestoreSetting,
          message: 'policy denies it',
          nonRetryable: true,
        });
      delete state.settings.AZURE_OPENAI_AUTH_MODE;
      state.settings.AZURE_OPENAI_API_KEY = 'k';
      return { changed: ['AZURE_OPENAI_API_KEY'] };
    },
    async swapSlots() {
      calls.push('swapSlots');
      return { swapped: true };
    },
    async findKeyCallers() {
      calls.push('findKeyCallers');
      return [];
    },
    async findKeyHolders() {
      calls.push('findKeyHolders');
      return nextScan();
    },
    async waitForKeyHolders({ since }) {
      calls.push('waitForKeyHolders');
      const scan = nextScan();
      return {
        scan,
        reason: scan.verdict === 'clear' ? 'clear' : since === scan.verdict ? 'window' : 'changed',
        checks: 1,
      };
    },
    async readAccountState() {
      calls.push('readAccountState');
      return { disableLocalAuth: account.localAuthDisabled, provisioningState: 'Succeeded' };
    },
    async requestAccountLock({ lockWorkflowId, resource, request }) {
      calls.push('requestAccountLock');
      await options.client!.workflow.signalWithStart(ACCOUNT_LOCK_WORKFLOW, {
        workflowId: lockWorkflowId,
        taskQueue: Context.current().info.taskQueue,
        args: [{ resource }],
        signal: requestLockSignal,
        signalArgs: [request],
      });
    },
    async setLocalAuth({ disabled }) {
      calls.push(`setLocalAuth:${disabled}`);
      const changed = account.localAuthDisabled !== disabled;
      state.localAuthDisabled = disabled;
      account.localAuthDisabled = disabled;
      return { changed };
    },
    async verifyKeysRefused() {
      calls.push('verifyKeysRefused');
      return { code: 'AuthenticationTypeDisabled', attempts: 1 };
    },
    async observeKeyUsage({ window }) {
      calls.push('observeKeyUsage');
      const verdict = usage.length > 1 ? usage.shift()! : usage[0];
      return {
        verdict,
        account: 'claims-openai',
        window,
        readAt: new Date().toISOString(),
        summary:
          verdict === 'quiet'
            ? 'no key call in the logs'
            : verdict === 'key-calls'
              ? 'key calls in the account’s logs: unknown caller at 203.0.113.7 (curl/8.5): 3 key calls'
              : 'claims-openai has no diagnostic setting: its calls are not logged anywhere',
        workspaces: [],
        keyCallers:
          verdict === 'key-calls'
            ? [
                {
                  ip: '203.0.113.7',
                  userAgent: 'curl/8.5',
                  calls: 3,
                  failed: 0,
                  firstSeen: window.start,
                  lastSeen: window.end,
                },
              ]
            : [],
        ownKeyCalls: 0,
      };
    },
    async measureAnalysis({ metrics }) {
      const n = measurements++;
      calls.push(`measureAnalysis:${n}`);
      return {
        values: metrics.map((metric) => {
          const result = options.measure ? options.measure(metric, n) : 0;
          return result === undefined
            ? { metric, detail: 'no data' }
            : { metric, result, detail: `${result} of ${metric}` };
        }),
        queries: metrics.map((m) => `query of ${m}`),
      };
    },
    async measureDowntime({ window }) {
      calls.push('measureDowntime');
      return { failedRequests: 0, windowMs: 1000, window, grain: 'PT1M' };
    },
    async writeEvidence(evidence) {
      calls.push('writeEvidence');
      return { path: `/evidence/${evidence.workflowId}.json` };
    },
    async notify(notice) {
      calls.push(`notify:${notice.event}`);
      return { delivered: true, status: 200, attempts: 1 };
    },
  };
  return { state, calls, activities };
}

/** Asserts an update was refused by its validator with a message matching `pattern`. */
function refusedWith(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected an update failure, got ${String(err)}`);
    assert.match(String(err.cause?.message), pattern);
    return true;
  };
}

describe('migrateToManagedIdentity (fake activities)', () => {
  let h: TemporalHarness;
  before(async () => {
    h = await temporalHarness('wf-unit');
  });
  after(async () => {
    await h.close();
  });

  const azure = (options: FakeOptions = {}) => fakeAzure({ client: h.client, ...options });
  const start = (p: MigrationPlan, id: string, initiatedBy = 'alice') =>
    h.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: h.taskQueue,
      workflowId: `${id}-${Date.now()}`,
      args: [{ plan: p, initiatedBy }],
    });

  test('happy path runs every stage in order and disables local auth', async () => {
    const fake = azure({ probeFailures: 2 });
    const result = await h.withWorker(fake.activities, async () => (await start(plan(), 'happy')).result());
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(
      fake.calls.filter((c) => !c.startsWith('probe')),
      [
        'preflight',
        'enableIdentity',
        'assignRole',
        'updateSettings',
        // No approval before the key switch: the lock first, then one check under it.
        'requestAccountLock',
        'findKeyHolders',
        'readAccountState',
        'setLocalAuth:true',
        'verifyKeysRefused',
        'writeEvidence',
      ],
    );
    assert.equal(
      fake.calls.filter((c) => c === 'probe:identity').length,
      3,
      'propagation polled until the third probe passed',
    );
    assert.equal(fake.state.localAuthDisabled, true);
    assert.ok(!('AZURE_OPENAI_API_KEY' in fake.state.settings));
    assert.equal(result.evidence.outcome, 'succeeded');
    assert.deepEqual(result.evidence.identity?.principalIds, ['principal-1']);
    assert.ok(result.evidence.smokeTests.some((s) => s.passed && s.requestId === 'req-1'));
    assert.equal(typeof result.evidence.downtimeMs, 'number');
  });

  test('a failing smoke test rolls back every change in reverse order', async () => {
    const fake = azure({ smokePasses: false });
    const result = await h.withWorker(fake.activities, async () =>
      (await start(plan({ budgets: { downtime: '2s' } }), 'smoke-fail')).result(),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /smoke test of claims-bot did not pass/);
    const undo = fake.calls.filter((c) => ['restoreSettings', 'deleteRoleAssignment', 'restoreIdentity'].includes(c));
    assert.deepEqual(undo, ['restoreSettings', 'deleteRoleAssignment', 'restoreIdentity']);
    assert.equal(fake.state.identity, 'None');
    assert.equal(fake.state.roles.size, 0);
    assert.equal(fake.state.settings.AZURE_OPENAI_API_KEY, 'k');
    assert.ok(!fake.calls.includes('setLocalAuth:true'), 'never reached local auth');
    assert.ok(result.evidence.compensations.every((c) => c.status === 'done'));
  });

  test('approval gate: validators reject wrong approvals; a rejection rolls back', async () => {
    const fake = azure();
    const result = await h.withWorker(fake.activities, async () => {
      const handle = await start(
        plan({ approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false } }),
        'reject',
      );
      await waitForProgress(handle, (p) => p.pendingGate?.gate === 'settings');
      await assert.rejects(
        handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] }),
        refusedWith(/four-eyes/),
      );
      await assert.rejects(
        handle.executeUpdate(approveUpdate, { args: [{ approver: '' }] }),
        refusedWith(/approver is required/),
      );
      await assert.rejects(
        handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', gate: 'local-auth' }] }),
        refusedWith(/gate "local-auth" is not open/),
      );
      const rec = await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'not during peak' }] });
      assert.equal(rec.decision, 'rejected');
      await assert.rejects(
        handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol' }] }),
        refusedWith(/no approval gate is open/),
      );
      return handle.result();
    });
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /bob rejected/);
    assert.ok(!fake.calls.includes('updateSettings'), 'settings were never touched');
    assert.deepEqual(
      result.evidence.approvals.map((a) => [a.by, a.decision]),
      [['bob', 'rejected']],
    );
    assert.equal(fake.state.identity, 'None');
  });

  test('approval gate: an approval moves the migration on', async () => {
    const fake = azure();
    const result = await h.withWorker(fake.activities, async () => {
      const handle = await start(
        plan({ approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: true } }),
        'approve',
      );
      await waitForProgress(handle, (p) => p.pendingGate?.gate === 'local-auth');
      await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', comment: 'go' }] });
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded');
    assert.deepEqual(
      result.evidence.approvals.map((a) => [a.gate, a.by, a.comment]),
      [['local-auth', 'bob', 'go']],
    );
    // The approver is shown who holds the key; under the lock, after the approval, it is checked again.
    const checks = fake.calls.filter((c) => c === 'findKeyHolders' || c === 'requestAccountLock');
    assert.deepEqual(checks, ['findKeyHolders', 'requestAccountLock', 'findKeyHolders']);
  });

  test('without an identity probe the whole propagation budget is waited out, then the smoke test decides', async () => {
    const fake = azure({ probeFailures: 1000 });
    const result = await h.withWorker(fake.activities, async () =>
      (
        await start(
          plan({
            smokeTest: { interval: '100ms', identityProbePath: 'none' },
            budgets: { propagationWait: '1s' },
          }),
          'no-probe',
        )
      ).result(),
    );
    assert.equal(result.outcome, 'succeeded');
    assert.ok(!fake.calls.includes('probe:identity'), 'the identity probe was never called');
    const propagation = result.evidence.stages.find((st) => st.id === 'propagation')!;
    assert.ok(
      Date.parse(propagation.endedAt!) - Date.parse(propagation.startedAt!) >= 1000,
      'the budget was waited out',
    );
  });

  test('an approval that times out rolls back when the plan says so', async () => {
    const fake = azure();
    const result = await h.withWorker(fake.activities, async () =>
      (
        await start(
          plan({
            approvals: { beforeSettingsSwap: true, beforeDisableLocalAuth: false, onTimeout: 'rollback' },
            budgets: { approvalTimeout: '10s' },
          }),
          'gate-timeout',
        )
      ).result(),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /no decision on "Swap settings \(remove the key\)" within the approval timeout/);
    assert.ok(!fake.calls.includes('updateSettings'));
    assert.equal(fake.state.identity, 'None');
  });

  test('abort during the propagation wait rolls back', async () => {
    const fake = azure({ probeFailures: 1000 });
    const result = await h.withWorker(fake.activities, async () => {
      const handle = await start(plan({ budgets: { propagationWait: '10m' } }), 'abort');
      await waitForProgress(handle, (p) => p.stage === 'propagation' && fake.calls.includes('probe:identity'));
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'oncall', reason: 'incident' }] });
      return handle.result();
    });
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.reason, 'aborted by oncall: incident');
    assert.deepEqual(
      fake.calls.filter((c) => c.startsWith('restore') || c.startsWith('delete')),
      ['deleteRoleAssignment', 'restoreIdentity'],
    );
  });

  test('workflow cancellation rolls back too', async () => {
    const fake = azure({ probeFailures: 1000 });
    const result = await h.withWorker(fake.activities, async () => {
      const handle = await start(plan({ budgets: { propagationWait: '10m' } }), 'cancel');
      await waitForProgress(handle, (p) => p.stage === 'propagation');
      await handle.cancel();
      return handle.result();
    });
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(fake.state.identity, 'None');
    assert.equal(fake.state.roles.size, 0);
  });

  test('a compensation that keeps failing blocks the rollback until an operator skips it', async () => {
    const fake = azure({ smokePasses: false, failRestoreSettings: true });
    const result = await h.withWorker(fake.activities, async () => {
      const handle = await start(plan({ budgets: { downtime: '2s' } }), 'blocked');
      const p = await waitForProgress(handle, (x) => x.blocked !== undefined);
      assert.match(p.blocked!.error, /policy denies it/);
      await assert.rejects(
        handle.executeUpdate(skipCompensationUpdate, { args: [{ by: 'oncall' }] }),
        refusedWith(/reason is required/),
      );
      await handle.executeUpdate(skipCompensationUpdate, { args: [{ by: 'oncall', reason: 'restored by hand' }] });
      return handle.result();
    });
    assert.equal(result.outcome, 'rollback-incomplete');
    const skipped = result.evidence.compensations.find((c) => c.kind === 'restore-settings');
    assert.equal(skipped?.status, 'skipped');
    assert.equal(skipped?.skippedBy, 'oncall');
    assert.equal(fake.state.identity, 'None', 'later compensations still ran');
  });

  test('another caller holding the key: the check runs before the gate, which never opens (skip)', async () => {
    const fake = azure({ keyHolders: ['holders'] });
    const result = await h.withWorker(fake.activities, async () =>
      (await start(plan({ approvals: { beforeDisableLocalAuth: true } }), 'holders-skip')).result(),
    );
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.evidence.approvals.length, 0, 'nobody was asked to approve a switch that would not happen');
    assert.ok(!fake.calls.includes('setLocalAuth:true'));
    assert.match(result.evidence.localAuth.skippedBecause ?? '', /other callers still hold the key: bystander/);
    assert.equal(result.evidence.localAuth.keyHolders?.verdict, 'holders');
    const st = (id: string) => result.evidence.stages.find((x) => x.id === id)?.status;
    assert.deepEqual([st('key-holders'), st('approve-local-auth'), st('local-auth')], ['done', 'skipped', 'skipped']);
  });

  test('a check that cannot read everything is inconclusive, handled like other holders (fail rolls back)', async () => {
    const fake = azure({ keyHolders: ['inconclusive'] });
    const result = await h.withWorker(fake.activities, async () =>
      (await start(plan({ localAuth: { ifOtherCallers: 'fail' } }), 'holders-fail')).result(),
    );
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /cannot prove nobody else holds the key/);
    assert.ok(!fake.calls.includes('setLocalAuth:true'));
    assert.equal(fake.state.settings.AZURE_OPENAI_API_KEY, 'k', 'the app is back on its key');
  });

  test('wait: the key switch waits for the other holders, then opens its gate with the clear result', async () => {
    const fake = azure({ keyHolders: ['holders', 'holders', 'clear'] });
    const result = await h.withWorker(fake.activities, async () => {
      const handle = await start(
        plan({
          approvals: { beforeDisableLocalAuth: true },
          localAuth: { ifOtherCallers: 'wait', recheckInterval: '1s' },
        }),
        'holders-wait',
      );
      const p = await waitForProgress(handle, (x) => x.pendingGate?.gate === 'local-auth');
      assert.match(p.pendingGate!.title, /no other caller holds the key/);
      await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded');
    assert.ok(fake.calls.includes('waitForKeyHolders'));
    assert.ok(fake.calls.includes('setLocalAuth:true'));
  });

  test('two migrations on one account: one switch under the lock; the other neither switches nor undoes it', async () => {
    const account = { localAuthDisabled: false };
    const first = azure({ account });
    const second = azure({ account, smokeFailsWithoutKeys: true });
    const a = await h.withWorker(first.activities, async () => (await start(plan(), 'lock-a')).result());
    assert.equal(a.outcome, 'succeeded');
    assert.ok(first.calls.includes('setLocalAuth:true'));
    // The second run finds the account already switched by someone else: not its change to own.
    // Its smoke test after the switch fails by design: a short downtime budget ends it quickly.
    const rb = await h.withWorker(second.activities, async () =>
      (await start(plan({ budgets: { downtime: '2s' } }), 'lock-b')).result(),
    );
    assert.equal(rb.outcome, 'rolled-back', 'its app fails without keys, so it rolls back');
    assert.ok(second.calls.includes('readAccountState'));
    assert.ok(!second.calls.some((c) => c.startsWith('setLocalAuth')), 'it never touched the account');
    assert.equal(account.localAuthDisabled, true, 'the first run’s switch stands');
    assert.ok(!rb.evidence.compensations.some((c) => c.kind === 'enable-local-auth'));
  });

  test('concurrent key switches on one account are serialised by its lock', async () => {
    const account = { localAuthDisabled: false };
    const fake = azure({ account });
    let inside = 0;
    let overlapped = false;
    const activities = {
      ...fake.activities,
      async readAccountState(input: Parameters<typeof fake.activities.readAccountState>[0]) {
        inside++;
        if (inside > 1) overlapped = true;
        await new Promise((r) => setTimeout(r, 300));
        return fake.activities.readAccountState(input);
      },
      async verifyKeysRefused(input: Parameters<typeof fake.activities.verifyKeysRefused>[0]) {
        const r = await fake.activities.verifyKeysRefused(input);
        inside--;
        return r;
      },
    };
    const results = await h.withWorker(activities, async () => {
      const handles = await Promise.all(
        ['one', 'two', 'three'].map((n) =>
          start(plan({ target: { resourceGroup: 'rg', name: `bot-${n}` } }), `lock-concurrent-${n}`),
        ),
      );
      return Promise.all(handles.map((x) => x.result()));
    });
    for (const r of results) assert.equal(r.outcome, 'succeeded', r.reason);
    assert.equal(overlapped, false, 'no two runs were inside the key switch at once');
    assert.equal(fake.calls.filter((c) => c === 'setLocalAuth:true').length, 1, 'exactly one switched');
    assert.equal(results.filter((r) => r.evidence.compensations.some((c) => c.kind === 'enable-local-auth')).length, 1);
  });

  test('a preflight failure changes nothing and reports every problem', async () => {
    const fake = azure();
    fake.activities.preflight = async () => {
      throw ApplicationFailure.create({
        type: FailureType.PreflightFailed,
        message: 'preflight found 2 problems',
        nonRetryable: true,
        details: [
          { check: 'app', message: 'reading app claims-bot: 404 ResourceNotFound' },
          { check: 'role', message: 'no role named "X"' },
        ],
      });
    };
    const result = await h.withWorker(fake.activities, async () => (await start(plan(), 'preflight')).result());
    assert.equal(result.outcome, 'preflight-failed');
    assert.equal(result.evidence.preflightProblems?.length, 2);
    assert.deepEqual(fake.calls, ['writeEvidence']);
  });

  describe('observed key usage and analysis', () => {
    const quiet = { quietPeriod: '1h' };
    const fast = { interval: '1s', count: 2 };

    test('key calls nobody listed, seen in the logs, keep the keys on and are named (skip)', async () => {
      const fake = azure({ keyUsage: ['key-calls'] });
      const result = await h.withWorker(fake.activities, async () =>
        (await start(plan({ localAuth: quiet }), 'usage-skip')).result(),
      );
      assert.equal(result.outcome, 'succeeded');
      assert.ok(!fake.calls.includes('setLocalAuth:true'), 'keys stay on');
      assert.match(result.evidence.localAuth.skippedBecause ?? '', /unknown caller at 203\.0\.113\.7 \(curl\/8\.5\)/);
      assert.equal(result.evidence.localAuth.keyUsage?.[0]?.verdict, 'key-calls');
      assert.equal(result.evidence.stages.find((st) => st.id === 'local-auth')?.status, 'skipped');
    });

    test('key calls with ifOtherCallers: wait look again until the logs are quiet, then switch', async () => {
      const fake = azure({ keyUsage: ['key-calls', 'key-calls', 'quiet'] });
      const result = await h.withWorker(fake.activities, async () =>
        (
          await start(plan({ localAuth: { ...quiet, ifOtherCallers: 'wait', recheckInterval: '1s' } }), 'usage-wait')
        ).result(),
      );
      assert.equal(result.outcome, 'succeeded');
      assert.ok(fake.calls.includes('setLocalAuth:true'));
      assert.deepEqual(
        result.evidence.localAuth.keyUsage?.map((o) => o.verdict),
        ['key-calls', 'key-calls', 'quiet', 'quiet'],
        'three looks before the gate, one more under the lock',
      );
    });

    test('unobservable usage: acknowledge opens a gate (approve switches keys off); skip and fail follow the plan', async () => {
      const ack = azure({ keyUsage: ['unobservable'] });
      const acknowledged = await h.withWorker(ack.activities, async () => {
        const handle = await start(plan({ localAuth: quiet }), 'usage-ack');
        const p = await waitForProgress(handle, (x) => x.pendingGate?.gate === 'key-usage');
        assert.match(p.pendingGate!.title, /cannot be observed .*no diagnostic setting/);
        await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', comment: 'no logs, inventory clear' }] });
        return handle.result();
      });
      assert.equal(acknowledged.outcome, 'succeeded');
      assert.ok(ack.calls.includes('setLocalAuth:true'));
      assert.deepEqual(
        acknowledged.evidence.approvals.map((a) => [a.gate, a.by]),
        [['key-usage', 'bob']],
      );

      const skip = azure({ keyUsage: ['unobservable'] });
      const skipped = await h.withWorker(skip.activities, async () =>
        (
          await start(
            plan({ localAuth: quiet, observability: { ifUnobservable: 'skip', logIngestionDelay: '0s' } }),
            'usage-unobservable-skip',
          )
        ).result(),
      );
      assert.equal(skipped.outcome, 'succeeded');
      assert.ok(!skip.calls.includes('setLocalAuth:true'));
      assert.match(skipped.evidence.localAuth.skippedBecause ?? '', /no diagnostic setting/);

      const fail = azure({ keyUsage: ['unobservable'] });
      const failed = await h.withWorker(fail.activities, async () =>
        (
          await start(
            plan({ localAuth: quiet, observability: { ifUnobservable: 'fail', logIngestionDelay: '0s' } }),
            'usage-unobservable-fail',
          )
        ).result(),
      );
      assert.equal(failed.outcome, 'rolled-back');
      assert.ok(fail.calls.includes('restoreSettings'));
    });

    test('a failed analysis after the switch rolls back', async () => {
      const fake = azure({ measure: (metric, n) => (metric === 'app-5xx' && n === 1 ? 12 : 0) });
      const result = await h.withWorker(fake.activities, async () =>
        (await start(plan({ analysis: { ...fast, after: ['switch'] } }), 'analysis-fail')).result(),
      );
      assert.equal(result.outcome, 'rolled-back');
      assert.match(result.reason ?? '', /analysis after the switch failed: app-5xx: 12 of app-5xx/);
      assert.ok(fake.calls.includes('restoreSettings'));
      assert.ok(!fake.calls.includes('setLocalAuth:true'));
      const a = result.evidence.analyses?.[0];
      assert.equal(a?.verdict, 'failed');
      assert.deepEqual(
        a?.measurements.map((m) => m.values.find((v) => v.metric === 'app-5xx')?.phase),
        ['successful', 'failed'],
      );
    });

    test('an inconclusive analysis opens a gate and notifies; approving goes on', async () => {
      const fake = azure({ measure: (metric) => (metric === 'account-refusals' ? undefined : 0) });
      const result = await h.withWorker(fake.activities, async () => {
        const handle = await start(
          plan({ analysis: { ...fast, after: ['switch'] }, notifications: [{ webhook: 'ops' }] }),
          'analysis-inconclusive',
        );
        const p = await waitForProgress(handle, (x) => x.pendingGate?.gate === 'analysis');
        assert.match(p.pendingGate!.title, /account-refusals inconclusive 2× \(no data\)/);
        await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
        return handle.result();
      });
      assert.equal(result.outcome, 'succeeded');
      assert.ok(fake.calls.includes('notify:analysis-inconclusive'));
      assert.equal(result.evidence.analyses?.[0]?.verdict, 'inconclusive');
    });

    test('a healthy cutover passes both analyses quietly, measurements and queries in the evidence', async () => {
      const fake = azure();
      const result = await h.withWorker(fake.activities, async () =>
        (await start(plan({ analysis: fast }), 'analysis-pass')).result(),
      );
      assert.equal(result.outcome, 'succeeded');
      assert.deepEqual(
        result.evidence.analyses?.map((a) => [a.point, a.verdict, a.measurements.length]),
        [
          ['switch', 'successful', 2],
          ['key-switch', 'successful', 2],
        ],
      );
      assert.ok(result.evidence.analyses?.[0]?.queries.includes('query of app-5xx'));
      assert.equal(result.evidence.consumedDowntime?.failedRequests, 0);
      assert.ok(!result.evidence.approvals.length, 'no gate opened');
    });
  });
});
