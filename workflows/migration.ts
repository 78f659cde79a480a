/**
 * `migrateToManagedIdentity`: moves one App Service app from an Azure OpenAI API key to a managed identity.
 *
 * Stages: preflight (read-only, records the before-state) → identity → role → propagation (durable polling of the
 * app's identity probe) → [approval] → settings (in place, or on the staging slot then a swap; the downtime budget
 * runs from the first change that touches traffic) → [approval] → local auth (disable, then prove keys are refused)
 * → evidence.
 *
 * Compensations are recorded *before* each change (a call that timed out may have succeeded) and undo only what this
 * run changed: restore-identity, delete-role-assignment, restore-settings, swap-back, enable-local-auth. They run in
 * reverse under a non-cancellable scope; one that keeps failing blocks the rollback visibly until an operator sends
 * `retryCompensation` or `skipCompensation`.
 *
 * Messages: updates `approve`, `reject`, `abort`, `retryCompensation`, `skipCompensation`; query `progress`.
 * Rollback triggers: a failed smoke test or exhausted downtime budget, a rejection, an approval timeout (per plan),
 * `abort`, and workflow cancellation.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { MigrationActivities } from '../activities/migration';
import { plannedMoves } from '../plan/moves';
import { accountLockWorkflowId, type LockGrant, lockGrantedSignal, releaseLockSignal } from './account-lock';
import { FailureType, NON_RETRYABLE_FAILURES } from './failures';
import { describeScan, scanSignature } from './key-holders';
import {
  type AbortInput,
  abortUpdate,
  approveUpdate,
  type DecisionInput,
  MESSAGE_DESCRIPTIONS,
  progressQuery,
  rejectUpdate,
  retryCompensationUpdate,
  skipCompensationUpdate,
} from './messages';
import { renderDetails } from './render';
import { CutoverAccount, CutoverApp, CutoverOutcome, CutoverStage, CutoverTicket } from './search-attributes';
import type {
  ApprovalRecord,
  BeforeState,
  BlockedRollback,
  Compensation,
  CompensationRecord,
  Evidence,
  GateId,
  KeyHolderScan,
  MigrationInput,
  MigrationProgress,
  MigrationResult,
  Outcome,
  PendingGate,
  PreflightProblem,
  ProbeResult,
  RoleAssignmentResult,
  SettingSnapshot,
  SiteRef,
  SiteSnapshot,
  SmokeTestRecord,
  StageId,
  StageProgress,
} from './types';

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
};

/**
 * Timeout profiles: every profile sets startToCloseTimeout, and every activity heartbeats while it runs, so a worker
 * that dies mid-call is replaced after heartbeatTimeout rather than after startToCloseTimeout.
 */
export const armCall = { startToCloseTimeout: '2 minutes', heartbeatTimeout: '10s', retry } satisfies ActivityOptions;
export const armLongRunning = {
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '10s',
  retry,
} satisfies ActivityOptions;
export const appProbe = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10s',
  retry: { ...retry, maximumAttempts: 3 },
} satisfies ActivityOptions;
/** Compensations retry less before blocking, so an operator sees a stuck rollback within a minute. */
export const compensationCall = {
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '10s',
  retry: { ...retry, maximumAttempts: 5 },
} satisfies ActivityOptions;

const arm = proxyActivities<MigrationActivities>(armCall);
const armLong = proxyActivities<MigrationActivities>(armLongRunning);
/** One key-holder wait polls inside for up to an hour (KEY_HOLDER_WINDOW_MS), heartbeating as it goes. */
export const keyHolderWaitCall = {
  startToCloseTimeout: '75 minutes',
  heartbeatTimeout: '10s',
  retry,
} satisfies ActivityOptions;

const probes = proxyActivities<MigrationActivities>(appProbe);
const undo = proxyActivities<MigrationActivities>(compensationCall);
const keyHolderWait = proxyActivities<MigrationActivities>(keyHolderWaitCall);

/** A reason to stop going forward and roll back; internal to this workflow. */
class StageFailure extends Error {
  constructor(
    readonly stage: StageId,
    message: string,
  ) {
    super(message);
    this.name = 'StageFailure';
  }
}

const STAGE_TITLES: Record<StageId, string> = {
  preflight: 'Preflight (read-only checks, before-state)',
  identity: 'Enable managed identity',
  role: 'Assign role',
  propagation: 'Wait for role propagation',
  'approve-settings': 'Approval: swap settings',
  settings: 'Swap settings and smoke-test',
  'key-holders': 'Check who still holds the key',
  'approve-local-auth': 'Approval: disable local auth',
  'local-auth': 'Disable local (key) auth',
  rollback: 'Rollback',
  evidence: 'Evidence record',
};

const GATE_STAGE: Record<GateId, StageId> = { settings: 'approve-settings', 'local-auth': 'approve-local-auth' };

/**
 * Patch: the key switch of issue 8 — the key-holder check across subscriptions and Key Vault references runs before
 * the gate, waits within bounded history, the standby of a slot swap is moved off the key, and the account's key
 * switch happens under its lock, owning only the change it makes. Executions that started before replay the old path.
 */
export const KEY_SWITCH_V2 = 'key-switch-v2';

/** Longest one key-holder wait activity polls before the workflow records its answer (a few events per window). */
const KEY_HOLDER_WINDOW_MS = 3_600_000;
/** Consecutive refusals of a key that prove the account's front ends all follow the switch. */
const KEY_REFUSAL_CONFIRMATIONS = 3;

export async function migrateToManagedIdentity(input: MigrationInput): Promise<MigrationResult> {
  const { plan, initiatedBy } = input;
  const info = workflowInfo();
  const v2 = patched(KEY_SWITCH_V2);
  const startedAt = new Date().toISOString();

  const stages: StageProgress[] = (Object.keys(STAGE_TITLES) as StageId[]).map((id) => ({
    id,
    title: STAGE_TITLES[id],
    status: 'pending',
  }));
  if (!plan.approvals.beforeSettingsSwap) skipStage('approve-settings', 'not required by the plan');
  if (!plan.localAuth.disable) {
    skipStage('key-holders', 'local auth stays on (plan)');
    skipStage('approve-local-auth', 'local auth stays on (plan)');
    skipStage('local-auth', 'local auth stays on (plan)');
  } else if (!plan.approvals.beforeDisableLocalAuth) skipStage('approve-local-auth', 'not required by the plan');
  if (!v2) skipStage('key-holders', 'checked as part of local auth');

  let current: StageId = 'preflight';
  let outcome: Outcome = 'running';
  let reason: string | undefined;
  let waitingFor: string | undefined;
  let pendingGate: PendingGate | undefined;
  let decision: ApprovalRecord | undefined;
  let abortRequest: { by: string; reason: string } | undefined;
  let blocked: BlockedRollback | undefined;
  let operatorDecision: { action: 'retry' | 'skip'; by: string; reason?: string } | undefined;
  let before: BeforeState | undefined;
  let preflightProblems: PreflightProblem[] | undefined;
  let downtimeMs: number | undefined;
  let localAuthAfter: boolean | undefined;
  let localAuthSkipped: string | undefined;
  let identityClientId: string | undefined;
  let keyHolders: KeyHolderScan | undefined;
  let standbyKept = false;
  let rollingBack = false;
  const warnings: string[] = [];
  const approvals: ApprovalRecord[] = [];
  const principalIds: string[] = [];
  const roleAssignments: RoleAssignmentResult[] = [];
  const smokeTests: SmokeTestRecord[] = [];
  const settingsSites: string[] = [];
  const resourcesTouched = new Set<string>();
  const compensations: { step: Compensation; record: CompensationRecord }[] = [];

  // ------------------------------------------------------------------------------------------------------------
  // Visibility.

  function stage(id: StageId): StageProgress {
    return stages.find((s) => s.id === id)!;
  }
  function skipStage(id: StageId, detail: string) {
    Object.assign(stage(id), { status: 'skipped', detail });
  }
  function progress(): MigrationProgress {
    return {
      workflowId: info.workflowId,
      changeTicket: plan.changeTicket,
      initiatedBy,
      stage: current,
      stages,
      ...(pendingGate ? { pendingGate } : {}),
      ...(blocked ? { blocked } : {}),
      outcome,
      ...(reason ? { reason } : {}),
      ...(waitingFor ? { waitingFor } : {}),
      ...(keyHolders ? { keyHolders } : {}),
      approvals,
    };
  }
  function refresh() {
    setCurrentDetails(renderDetails(plan, progress()));
  }
  function begin(id: StageId, detail?: string) {
    current = id;
    Object.assign(stage(id), { status: 'running', startedAt: new Date().toISOString(), detail });
    upsertSearchAttributes([{ key: CutoverStage, value: id }]);
    refresh();
  }
  function end(id: StageId, status: StageProgress['status'], detail?: string) {
    Object.assign(stage(id), {
      status,
      endedAt: new Date().toISOString(),
      ...(detail !== undefined ? { detail } : {}),
    });
    refresh();
  }
  function note(id: StageId, detail: string) {
    stage(id).detail = detail;
    refresh();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Messages.

  const forward = new CancellationScope();

  function validateDecision(d: DecisionInput) {
    if (!pendingGate) throw refuse('no approval gate is open');
    if (!filled(d?.approver)) throw refuse('approver is required');
    if (d.gate !== undefined && d.gate !== pendingGate.gate)
      throw refuse(`gate "${d.gate}" is not open; the open gate is "${pendingGate.gate}"`);
    if (plan.approvals.fourEyes && d.approver.trim().toLowerCase() === initiatedBy.trim().toLowerCase())
      throw refuse(`four-eyes rule: ${d.approver} started this migration and cannot approve it`);
  }
  function decide(kind: ApprovalRecord['decision'], d: DecisionInput): ApprovalRecord {
    const record: ApprovalRecord = {
      gate: pendingGate!.gate,
      decision: kind,
      by: d.approver.trim(),
      ...(d.comment ? { comment: d.comment } : {}),
      at: new Date().toISOString(),
    };
    approvals.push(record);
    decision = record;
    pendingGate = undefined;
    refresh();
    return record;
  }
  setHandler(approveUpdate, (d) => decide('approved', d), {
    validator: validateDecision,
    description: MESSAGE_DESCRIPTIONS.approve,
  });
  setHandler(rejectUpdate, (d) => decide('rejected', d), {
    validator: validateDecision,
    description: MESSAGE_DESCRIPTIONS.reject,
  });
  setHandler(
    abortUpdate,
    (a) => {
      abortRequest = { by: a.by.trim(), reason: a.reason.trim() };
      forward.cancel();
      refresh();
      return progress();
    },
    {
      validator: (a: AbortInput) => {
        if (!filled(a?.by)) throw refuse('"by" is required');
        if (!filled(a.reason)) throw refuse('a reason is required');
        if (outcome !== 'running' || rollingBack || abortRequest)
          throw refuse('the migration is not running forward: nothing to abort');
      },
      description: MESSAGE_DESCRIPTIONS.abort,
    },
  );
  const validateOperator = (skip: boolean) => (o: { by: string; reason?: string }) => {
    if (!blocked) throw refuse('no rollback step is blocked');
    if (!filled(o?.by)) throw refuse('"by" is required');
    if (skip && !filled(o.reason)) throw refuse('a reason is required to skip');
  };
  setHandler(
    retryCompensationUpdate,
    (o) => {
      operatorDecision = { action: 'retry', by: o.by.trim() };
      return progress();
    },
    { validator: validateOperator(false), description: MESSAGE_DESCRIPTIONS.retryCompensation },
  );
  setHandler(
    skipCompensationUpdate,
    (o) => {
      operatorDecision = { action: 'skip', by: o.by.trim(), reason: o.reason?.trim() };
      return progress();
    },
    { validator: validateOperator(true), description: MESSAGE_DESCRIPTIONS.skipCompensation },
  );
  setHandler(progressQuery, progress, { description: MESSAGE_DESCRIPTIONS.progress });

  // The account's key-switch lock (see account-lock.ts): granted by a signal from the lock workflow.
  const lockWorkflowId = accountLockWorkflowId(
    info.taskQueue,
    `/subscriptions/${plan.account.subscriptionId}/resourceGroups/${plan.account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${plan.account.name}`,
  );
  let lockRequestId: string | undefined;
  let lockGrant: LockGrant | undefined;
  setHandler(lockGrantedSignal, (g) => {
    if (g.requestId === lockRequestId) lockGrant = g;
  });

  upsertSearchAttributes([
    { key: CutoverApp, value: plan.app.name },
    { key: CutoverAccount, value: plan.account.name },
    { key: CutoverTicket, value: plan.changeTicket },
    { key: CutoverStage, value: 'preflight' },
    { key: CutoverOutcome, value: 'running' },
  ]);
  refresh();

  // ------------------------------------------------------------------------------------------------------------
  // Building blocks.

  function compensate(step: Compensation, description: string) {
    compensations.push({ step, record: { kind: step.kind, description, status: 'pending', attempts: 0 } });
  }

  async function gate(id: GateId, title: string): Promise<void> {
    const stageId = GATE_STAGE[id];
    begin(stageId);
    stage(stageId).status = 'waiting';
    decision = undefined;
    for (;;) {
      const deadline = new Date(Date.now() + plan.budgets.approvalTimeoutMs).toISOString();
      pendingGate = { gate: id, title, openedAt: new Date().toISOString(), deadline };
      waitingFor = `approval: ${title} (until ${deadline})`;
      refresh();
      if (
        await condition(() => decision !== undefined, plan.budgets.approvalTimeoutMs, {
          summary: `approval timeout: ${title}`,
        })
      )
        break;
      if (plan.approvals.onTimeout === 'rollback') {
        pendingGate = undefined;
        waitingFor = undefined;
        throw new StageFailure(stageId, `no decision on "${title}" within the approval timeout`);
      }
    }
    waitingFor = undefined;
    const d = decision!;
    if (d.decision === 'rejected') {
      end(stageId, 'failed', `rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
      throw new StageFailure(stageId, `${d.by} rejected "${title}"${d.comment ? `: ${d.comment}` : ''}`);
    }
    end(stageId, 'done', `approved by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
  }

  /** Polls an app URL until it passes, with backoff, durably (timers survive worker restarts). */
  async function pollUntilPass(
    stageId: StageId,
    what: string,
    url: string,
    budgetMs: number,
    options: { record: boolean; backoff: boolean; expectJson?: Record<string, string | number | boolean> },
  ): Promise<ProbeResult> {
    const startedAt = Date.now();
    let interval = plan.smokeTest.intervalMs;
    let attempt = 0;
    for (;;) {
      attempt++;
      const result = await probes.probeApp.executeWithOptions({ ...appProbe, summary: `${what} #${attempt}` }, [
        {
          url,
          expectStatus: plan.smokeTest.expectStatus,
          expectJson: options.expectJson ?? plan.smokeTest.expectJson,
          timeoutMs: plan.smokeTest.requestTimeoutMs,
        },
      ]);
      if (options.record)
        smokeTests.push({
          target: url,
          passed: result.ok,
          ...(result.status !== undefined ? { status: result.status } : {}),
          ...(result.requestId ? { requestId: result.requestId } : {}),
          ...(result.errorCode ? { errorCode: result.errorCode } : {}),
          at: result.at,
        });
      if (result.ok) return result;
      const elapsed = Date.now() - startedAt;
      const last = [result.errorCode, result.message].filter(Boolean).join(': ') || `HTTP ${result.status}`;
      if (elapsed + interval > budgetMs)
        throw new StageFailure(
          stageId,
          `${what} did not pass within ${Math.round(budgetMs / 1000)}s (${attempt} attempts; last: ${last})`,
        );
      waitingFor = `${what}: attempt ${attempt} failed (${last}); next in ${Math.round(interval / 1000)}s`;
      note(stageId, waitingFor);
      await sleep(interval, { summary: `next ${what}` });
      if (options.backoff) interval = Math.min(Math.round(interval * 1.5), 30_000);
    }
  }

  function urlOf(site: SiteSnapshot, path: string): string {
    return `${site.baseUrl.replace(/\/$/, '')}${path}`;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Forward path.

  async function runForward(): Promise<void> {
    begin('preflight');
    before = await arm.preflight.executeWithOptions({ ...armCall, summary: 'read-only checks' }, [{ plan }]);
    warnings.push(...before.warnings);
    end('preflight', 'done', before.warnings.length ? `${before.warnings.length} warning(s)` : 'all checks passed');
    const b = before;
    const target = b.sites[0];
    const sites = b.sites;
    const role = b.role;
    const accountScope = b.account.resourceId;

    // 1. Identity, on every site the app will run in.
    begin('identity');
    const principals: string[] = [];
    for (const site of sites) {
      compensate(
        { kind: 'restore-identity', site: site.site, before: site.identity },
        `restore identity of ${label(site.site)}`,
      );
      resourcesTouched.add(site.resourceId);
      const r = await arm.enableIdentity.executeWithOptions(
        { ...armCall, summary: `identity on ${label(site.site)}` },
        [{ site: site.site, identity: plan.identity }],
      );
      if (!principals.includes(r.principalId)) principals.push(r.principalId);
      if (r.clientId) identityClientId = r.clientId;
    }
    principalIds.push(...principals);
    end('identity', 'done', `principal ${principals.join(', ')}`);

    // 2. Role on the account, for each principal.
    begin('role');
    resourcesTouched.add(accountScope);
    for (const principalId of principals) {
      compensate(
        {
          kind: 'delete-role-assignment',
          scope: accountScope,
          principalId,
          roleDefinitionId: role.definitionId,
          preExistingNames: b.roleAssignments.map((ra) => ra.name.toLowerCase()),
        },
        `delete the ${role.name} assignment of ${principalId}`,
      );
      const ra = await arm.assignRole.executeWithOptions({ ...armCall, summary: `${role.name} → ${principalId}` }, [
        { scope: accountScope, principalId, roleDefinitionId: role.definitionId },
      ]);
      roleAssignments.push(ra);
    }
    end('role', 'done', roleAssignments.map((ra) => `${ra.name}${ra.ours ? '' : ' (pre-existing)'}`).join(', '));

    // 3. Propagation: each site's identity probe must reach the data plane.
    begin('propagation');
    if (plan.smokeTest.identityProbePath === 'none') {
      // No probe to ask: wait the whole budget, and let the smoke test's downtime budget absorb any remainder.
      waitingFor = `role propagation: the app has no identity probe, waiting ${Math.round(plan.budgets.propagationWaitMs / 1000)}s`;
      note('propagation', waitingFor);
      await sleep(plan.budgets.propagationWaitMs, { summary: 'role propagation (no identity probe)' });
    }
    for (const site of plan.smokeTest.identityProbePath === 'none' ? [] : sites) {
      await pollUntilPass(
        'propagation',
        `identity probe of ${label(site.site)}`,
        probeUrl(urlOf(site, plan.smokeTest.identityProbePath), identityClientId),
        plan.budgets.propagationWaitMs,
        {
          record: false,
          backoff: true,
          expectJson: { authMode: 'identity' },
        },
      );
    }
    waitingFor = undefined;
    end('propagation', 'done', 'the app’s identity can call Azure OpenAI');

    // 4. Approval, then the settings swap.
    if (plan.approvals.beforeSettingsSwap) await gate('settings', 'Swap settings (remove the key)');
    begin('settings');
    const set: Record<string, string> = { ...plan.settings.set };
    if (plan.identity.type === 'user-assigned' && identityClientId) set.AZURE_CLIENT_ID = identityClientId;
    const changeSettings = async (site: SiteSnapshot) => {
      compensate(
        { kind: 'restore-settings', site: site.site, before: site.touchedSettings, account: b.account.ref },
        `restore settings of ${label(site.site)}`,
      );
      settingsSites.push(site.resourceId);
      await arm.updateSettings.executeWithOptions({ ...armCall, summary: `settings of ${label(site.site)}` }, [
        { site: site.site, remove: plan.settings.remove, set },
      ]);
    };
    let downtimeStart: number;
    if (plan.strategy.type === 'slot-swap') {
      const staging = sites[1];
      await changeSettings(staging);
      await pollUntilPass(
        'settings',
        `smoke test of ${label(staging.site)}`,
        urlOf(staging, plan.smokeTest.path),
        plan.budgets.downtimeMs,
        {
          record: true,
          backoff: false,
        },
      );
      const marker = { remove: plan.settings.remove, set };
      compensate(
        { kind: 'swap-back', site: target.site, slot: staging.site.slot!, marker },
        `swap ${staging.site.slot} back out of production`,
      );
      downtimeStart = Date.now();
      await armLong.swapSlots.executeWithOptions(
        { ...armLongRunning, summary: `swap ${staging.site.slot} → production` },
        [{ site: target.site, slot: staging.site.slot!, direction: 'forward', marker }],
      );
    } else {
      downtimeStart = Date.now();
      await changeSettings(target);
    }
    await pollUntilPass(
      'settings',
      `smoke test of ${label(target.site)}`,
      urlOf(target, plan.smokeTest.path),
      plan.budgets.downtimeMs - (Date.now() - downtimeStart),
      {
        record: true,
        backoff: false,
      },
    );
    downtimeMs = Date.now() - downtimeStart;
    waitingFor = undefined;
    if (v2 && plan.strategy.type === 'slot-swap' && plan.strategy.standby === 'migrate')
      await migrateStandby(sites[1], target.touchedSettings, set);
    end(
      'settings',
      'done',
      `smoke test passed; downtime ${Math.round(downtimeMs / 1000)}s${standbyKept ? '; the standby slot keeps the key' : ''}`,
    );

    // 5. Local auth.
    if (v2) return keySwitch(b, target);
    if (!plan.localAuth.disable) return;
    if (b.account.disableLocalAuth) {
      localAuthAfter = true;
      skipStage('approve-local-auth', 'already disabled');
      skipStage('local-auth', 'local auth was already disabled');
      return;
    }
    if (plan.approvals.beforeDisableLocalAuth) await gate('local-auth', 'Disable local (key) auth on the account');
    begin('local-auth');
    const exclude = [sites[0].resourceId.replace(/\/slots\/[^/]+$/i, '')];
    let callers = await arm.findKeyCallers.executeWithOptions(
      { ...armLongRunning, summary: 'who still uses the key?' },
      [{ account: b.account.ref, excludeSiteIds: exclude }],
    );
    if (callers.length > 0 && plan.localAuth.ifOtherCallers === 'wait') {
      const deadline = Date.now() + plan.budgets.approvalTimeoutMs;
      while (callers.length > 0 && Date.now() < deadline) {
        waitingFor = `other callers still use the key: ${callers.map((c) => c.siteResourceId.split('/').pop()).join(', ')}`;
        note('local-auth', waitingFor);
        // Plans recorded before recheckInterval existed looked again every minute.
        await sleep(plan.localAuth.recheckIntervalMs ?? 60_000, { summary: 'look again for other key callers' });
        callers = await arm.findKeyCallers.executeWithOptions(
          { ...armLongRunning, summary: 'who still uses the key?' },
          [{ account: b.account.ref, excludeSiteIds: exclude }],
        );
      }
      waitingFor = undefined;
    }
    if (callers.length > 0) {
      const who = callers.map((c) => `${c.siteResourceId} (${c.unverifiable ?? c.settingNames.join(', ')})`).join('; ');
      if (plan.localAuth.ifOtherCallers === 'fail')
        throw new StageFailure('local-auth', `other callers still use the account key: ${who}`);
      localAuthSkipped = `other callers still use the account key: ${who}`;
      localAuthAfter = false;
      warnings.push(`local auth left enabled: ${localAuthSkipped}`);
      end('local-auth', 'skipped', localAuthSkipped);
      return;
    }
    compensate({ kind: 'enable-local-auth', account: b.account.ref }, `re-enable local auth on ${b.account.ref.name}`);
    await armLong.setLocalAuth.executeWithOptions({ ...armLongRunning, summary: 'disableLocalAuth = true' }, [
      { account: b.account.ref, disabled: true },
    ]);
    note('local-auth', 'waiting for keys to be refused');
    await armLong.verifyKeysRefused.executeWithOptions({ ...armLongRunning, summary: 'keys refused?' }, [
      {
        endpoint: b.account.endpoint,
        deployment: plan.account.deployment,
        timeoutMs: plan.budgets.localAuthSwitchMs,
        intervalMs: plan.smokeTest.intervalMs,
      },
    ]);
    await pollUntilPass(
      'local-auth',
      `smoke test of ${label(target.site)} without keys`,
      urlOf(target, plan.smokeTest.path),
      plan.budgets.downtimeMs,
      {
        record: true,
        backoff: false,
      },
    );
    localAuthAfter = true;
    waitingFor = undefined;
    end('local-auth', 'done', 'keys refused with AuthenticationTypeDisabled; the app calls with its identity');
  }

  /**
   * After a swap the staging slot holds production's old configuration, the key with it: the standby for a swap
   * back. Moving it off the key too lets the key switch go ahead; if its code cannot run on the identity, it is put
   * back and stays a key holder like any other (the key switch then skips, waits or fails per the plan).
   */
  async function migrateStandby(
    staging: SiteSnapshot,
    production: Readonly<Record<string, SettingSnapshot>>,
    set: Record<string, string>,
  ): Promise<void> {
    const account = before!.account.ref;
    const step: Compensation = { kind: 'restore-settings', site: staging.site, before: production, account };
    compensate(step, `restore the standby settings of ${label(staging.site)}`);
    settingsSites.push(staging.resourceId);
    note('settings', `moving the standby ${label(staging.site)} off the key`);
    await arm.updateSettings.executeWithOptions({ ...armCall, summary: `standby settings of ${label(staging.site)}` }, [
      { site: staging.site, remove: plan.settings.remove, set },
    ]);
    try {
      await pollUntilPass(
        'settings',
        `smoke test of the standby ${label(staging.site)}`,
        urlOf(staging, plan.smokeTest.path),
        plan.budgets.downtimeMs,
        { record: true, backoff: false },
      );
    } catch (err) {
      if (!(err instanceof StageFailure)) throw err;
      // Not serving production: put it back now rather than roll back a cutover that worked.
      await undo.restoreSettings.executeWithOptions(
        { ...compensationCall, summary: `restore the standby settings of ${label(staging.site)}` },
        [{ site: staging.site, before: production, account }],
      );
      compensations.pop();
      settingsSites.pop();
      standbyKept = true;
      warnings.push(
        `the standby slot ${label(staging.site)} could not run on its identity (${err.message}): it keeps the key`,
      );
    }
  }

  /** What this run moved off the key: the only callers the key-holder check leaves out. */
  function movedOffKey(): string[] {
    const staging = plan.strategy.type === 'slot-swap' ? before?.sites[1]?.resourceId.toLowerCase() : undefined;
    return plannedMoves(plan).filter((id) => !(standbyKept && id.toLowerCase() === staging));
  }

  /**
   * The key switch: who else holds the key is checked before anyone is asked to approve (and waited for, if the
   * plan says so), then — under the account's lock, so no other run updates it meanwhile — checked again, the
   * account read (a switch someone else made is not ours to undo), switched, and proven: keys refused several
   * times in a row, the app still answering.
   */
  async function keySwitch(b: BeforeState, target: SiteSnapshot): Promise<void> {
    if (!plan.localAuth.disable) return;
    const account = b.account.ref;
    if (b.account.disableLocalAuth) {
      localAuthAfter = true;
      for (const id of ['key-holders', 'approve-local-auth'] as const) skipStage(id, 'already disabled');
      skipStage('local-auth', 'local auth was already disabled');
      return;
    }
    begin('key-holders', 'scanning every readable subscription');
    if (!(await keyHoldersGone('key-holders'))) return;
    end('key-holders', 'done', describeScan(keyHolders!));
    if (plan.approvals.beforeDisableLocalAuth)
      await gate('local-auth', `Disable local (key) auth on ${account.name} — ${describeScan(keyHolders!)}`);
    begin('local-auth', 'waiting for the account’s key-switch lock');
    for (;;) {
      await acquireLock();
      note('local-auth', 'checking again under the lock');
      if (await keyHoldersGone('local-auth', { once: true })) break;
      await releaseLock();
      if (plan.localAuth.ifOtherCallers !== 'wait' || stage('local-auth').status === 'skipped') return;
      if (!(await keyHoldersGone('local-auth'))) return;
    }
    const state = await arm.readAccountState.executeWithOptions({ ...armCall, summary: 'is key auth still on?' }, [
      { account },
    ]);
    if (state.disableLocalAuth) {
      note('local-auth', 'another change disabled local auth meanwhile: not ours to undo');
    } else {
      compensate({ kind: 'enable-local-auth', account }, `re-enable local auth on ${account.name}`);
      await armLong.setLocalAuth.executeWithOptions({ ...armLongRunning, summary: 'disableLocalAuth = true' }, [
        { account, disabled: true },
      ]);
    }
    note('local-auth', 'waiting for keys to be refused');
    await armLong.verifyKeysRefused.executeWithOptions({ ...armLongRunning, summary: 'keys refused?' }, [
      {
        endpoint: b.account.endpoint,
        deployment: plan.account.deployment,
        timeoutMs: plan.budgets.localAuthSwitchMs,
        intervalMs: plan.smokeTest.intervalMs,
        confirmations: KEY_REFUSAL_CONFIRMATIONS,
      },
    ]);
    await pollUntilPass(
      'local-auth',
      `smoke test of ${label(target.site)} without keys`,
      urlOf(target, plan.smokeTest.path),
      plan.budgets.downtimeMs,
      { record: true, backoff: false },
    );
    await releaseLock();
    localAuthAfter = true;
    waitingFor = undefined;
    end(
      'local-auth',
      'done',
      `keys refused with AuthenticationTypeDisabled ${KEY_REFUSAL_CONFIRMATIONS} times in a row; the app calls with its identity`,
    );
  }

  /**
   * Runs the key-holder check (and with `wait`, waits for it to come clear, up to the approval timeout). Returns
   * true when nobody else holds the key; otherwise fails (plan: fail) or skips the key switch with a warning.
   */
  async function keyHoldersGone(stageId: StageId, opts: { once?: boolean } = {}): Promise<boolean> {
    const exclude = movedOffKey();
    keyHolders = await armLong.findKeyHolders.executeWithOptions(
      { ...armLongRunning, summary: 'who still holds the key?' },
      [{ account: before!.account.ref, exclude }],
    );
    refresh();
    if (keyHolders.verdict !== 'clear' && plan.localAuth.ifOtherCallers === 'wait' && !opts.once) {
      const deadline = Date.now() + plan.budgets.approvalTimeoutMs;
      stage(stageId).status = 'waiting';
      while (keyHolders.verdict !== 'clear' && Date.now() < deadline) {
        waitingFor = `${describeScan(keyHolders)} — looking again every ${Math.round(plan.localAuth.recheckIntervalMs / 1000)}s until ${new Date(deadline).toISOString()}`;
        note(stageId, waitingFor);
        const windowMs = Math.min(
          KEY_HOLDER_WINDOW_MS,
          Math.max(plan.localAuth.recheckIntervalMs, deadline - Date.now()),
        );
        const windowStart = Date.now();
        const r = await keyHolderWait.waitForKeyHolders.executeWithOptions(
          { ...keyHolderWaitCall, summary: 'waiting for the other key holders to move' },
          [
            {
              account: before!.account.ref,
              exclude,
              since: scanSignature(keyHolders),
              recheckIntervalMs: plan.localAuth.recheckIntervalMs,
              windowMs,
            },
          ],
        );
        keyHolders = r.scan;
        // The window is a floor on the cadence whatever the activity did, so history stays bounded by time.
        const left = windowMs - (Date.now() - windowStart);
        if (r.reason === 'window' && left >= 1000) await sleep(left, { summary: 'next key-holder window' });
      }
      stage(stageId).status = 'running';
      waitingFor = undefined;
      refresh();
    }
    if (keyHolders.verdict === 'clear') return true;
    if (opts.once && plan.localAuth.ifOtherCallers === 'wait') return false; // the caller goes back to waiting
    const why = describeScan(keyHolders);
    if (plan.localAuth.ifOtherCallers === 'fail') throw new StageFailure(stageId, why);
    localAuthSkipped = why;
    localAuthAfter = false;
    warnings.push(`local auth left enabled: ${why}`);
    if (stageId === 'key-holders') end('key-holders', 'done', why);
    for (const id of ['approve-local-auth', 'local-auth'] as const)
      if (stage(id).status === 'pending' || stage(id).status === 'running') end(id, 'skipped', why);
    return false;
  }

  async function acquireLock(): Promise<void> {
    lockRequestId = uuid4();
    lockGrant = undefined;
    const leaseMs = plan.budgets.localAuthSwitchMs + 2 * plan.budgets.downtimeMs + 600_000;
    await arm.requestAccountLock.executeWithOptions({ ...armCall, summary: 'queue for the key-switch lock' }, [
      {
        lockWorkflowId,
        resource: before!.account.resourceId,
        request: {
          requestId: lockRequestId,
          workflowId: info.workflowId,
          runId: info.runId,
          leaseMs,
          purpose: `${plan.changeTicket}: ${plan.app.name}`,
        },
      },
    ]);
    if (await condition(() => lockGrant !== undefined, '2s')) return;
    waitingFor = `another cutover run is switching key auth on ${plan.account.name}: queued for its lock (${lockWorkflowId})`;
    note('local-auth', waitingFor);
    stage('local-auth').status = 'waiting';
    refresh();
    if (!(await condition(() => lockGrant !== undefined, plan.budgets.approvalTimeoutMs)))
      throw new StageFailure('local-auth', `the key switch of ${plan.account.name} stayed locked by another run`);
    stage('local-auth').status = 'running';
    waitingFor = undefined;
    refresh();
  }

  /** Idempotent; never fails the migration (a lock whose lease ran out has let go already). */
  async function releaseLock(): Promise<void> {
    const requestId = lockRequestId;
    if (!requestId) return;
    lockRequestId = undefined;
    lockGrant = undefined;
    try {
      await getExternalWorkflowHandle(lockWorkflowId).signal(releaseLockSignal, { requestId });
    } catch {
      // The lock has ended: nothing to release.
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Rollback.

  async function runCompensation(step: Compensation, description: string): Promise<void> {
    const opts = { ...compensationCall, summary: description };
    switch (step.kind) {
      case 'restore-identity':
        await undo.restoreIdentity.executeWithOptions(opts, [{ site: step.site, before: step.before }]);
        return;
      case 'delete-role-assignment':
        await undo.deleteRoleAssignment.executeWithOptions(opts, [step]);
        return;
      case 'restore-settings':
        await undo.restoreSettings.executeWithOptions(opts, [
          { site: step.site, before: step.before, account: step.account },
        ]);
        return;
      case 'swap-back':
        await undo.swapSlots.executeWithOptions(opts, [
          { site: step.site, slot: step.slot, direction: 'back', marker: step.marker },
        ]);
        return;
      case 'enable-local-auth':
        await undo.setLocalAuth.executeWithOptions(opts, [{ account: step.account, disabled: false }]);
        await releaseLock();
        return;
    }
  }

  async function rollback(): Promise<void> {
    rollingBack = true;
    begin('rollback', `undoing ${compensations.length} change(s) in reverse`);
    for (const { step, record } of [...compensations].reverse()) {
      for (;;) {
        record.attempts++;
        try {
          await runCompensation(step, record.description);
          record.status = 'done';
          delete record.error;
          break;
        } catch (err) {
          record.status = 'failed';
          record.error = failureMessage(err);
          blocked = { compensation: record.description, error: record.error, since: new Date().toISOString() };
          waitingFor = `an operator: rollback step "${record.description}" failed (${record.error}); send retryCompensation or skipCompensation`;
          stage('rollback').status = 'blocked';
          upsertSearchAttributes([{ key: CutoverOutcome, value: 'rollback-blocked' }]);
          refresh();
          operatorDecision = undefined;
          await condition(() => operatorDecision !== undefined);
          const d = operatorDecision!;
          blocked = undefined;
          waitingFor = undefined;
          stage('rollback').status = 'running';
          upsertSearchAttributes([{ key: CutoverOutcome, value: 'running' }]);
          if (d.action === 'skip') {
            record.status = 'skipped';
            record.skippedBy = d.by;
            record.reason = d.reason;
            refresh();
            break;
          }
          refresh();
        }
      }
    }
    const skipped = compensations.filter((c) => c.record.status === 'skipped').length;
    end('rollback', 'done', skipped ? `${skipped} step(s) skipped by an operator` : 'every change undone');
    for (const s of stages)
      if (
        s.status === 'done' &&
        s.id !== 'preflight' &&
        s.id !== 'rollback' &&
        s.id !== 'key-holders' &&
        !s.id.startsWith('approve')
      )
        s.status = 'rolled-back';
    outcome = skipped ? 'rollback-incomplete' : 'rolled-back';
  }

  // ------------------------------------------------------------------------------------------------------------
  // Run.

  try {
    await forward.run(runForward);
    outcome = 'succeeded';
  } catch (err) {
    const failedStage = current;
    if (err instanceof StageFailure) reason = err.message;
    else if (isCancellation(err))
      reason = abortRequest ? `aborted by ${abortRequest.by}: ${abortRequest.reason}` : 'the workflow was cancelled';
    else reason = failureMessage(err);
    pendingGate = undefined;
    waitingFor = undefined;
    const problems = preflightProblemsOf(err);
    if (problems) preflightProblems = problems;
    const st = stage(failedStage);
    if (st.status === 'running' || st.status === 'waiting') end(failedStage, 'failed', reason);
    if (!before) {
      outcome = problems ? 'preflight-failed' : 'failed';
    } else {
      await CancellationScope.nonCancellable(rollback);
    }
  }

  // Evidence, whatever happened.
  return CancellationScope.nonCancellable(async () => {
    await releaseLock();
    if (stage('rollback').status === 'pending') skipStage('rollback', 'not needed');
    for (const st of stages)
      if (st.status === 'pending' && st.id !== 'evidence')
        Object.assign(st, { status: 'skipped', detail: 'not reached' });
    begin('evidence');
    // The record describes itself as written: it is, by the time anyone reads it.
    end('evidence', 'done', 'this record');
    const evidence: Evidence = {
      schema: 'cutover.evidence/v1',
      workflowId: info.workflowId,
      runId: info.runId,
      changeTicket: plan.changeTicket,
      ...(plan.description ? { description: plan.description } : {}),
      initiatedBy,
      startedAt,
      endedAt: new Date().toISOString(),
      outcome,
      ...(reason ? { reason } : {}),
      plan,
      approvals,
      resourcesTouched: [...resourcesTouched],
      ...(principalIds.length
        ? {
            identity: {
              type: plan.identity.type,
              principalIds,
              ...(identityClientId ? { clientId: identityClientId } : {}),
            },
          }
        : {}),
      roleAssignments,
      settingsChanged: {
        removed: [...plan.settings.remove],
        set: Object.keys(plan.settings.set),
        sites: settingsSites,
      },
      localAuth: {
        ...(before ? { before: before.account.disableLocalAuth } : {}),
        ...(localAuthAfter !== undefined
          ? { after: outcome === 'succeeded' ? localAuthAfter : before?.account.disableLocalAuth }
          : {}),
        ...(localAuthSkipped ? { skippedBecause: localAuthSkipped } : {}),
        ...(keyHolders ? { keyHolders } : {}),
      },
      stages: stages.map((st) => ({ ...st })),
      ...(downtimeMs !== undefined ? { downtimeMs } : {}),
      smokeTests,
      compensations: compensations.map((c) => c.record),
      ...(preflightProblems ? { preflightProblems } : {}),
      warnings,
      ...(before ? { before } : {}),
    };
    const { path } = await arm.writeEvidence.executeWithOptions({ ...armCall, summary: 'write the evidence record' }, [
      evidence,
    ]);
    note('evidence', `written by the worker: ${path.split('/').pop() ?? path}`);
    upsertSearchAttributes([
      { key: CutoverStage, value: 'done' },
      { key: CutoverOutcome, value: outcome },
    ]);
    refresh();
    await condition(allHandlersFinished);
    return { outcome, ...(reason ? { reason } : {}), evidence, evidencePath: path };
  });
}

/** An update refusal as the caller should read it: one line, no stack trace pointing into worker sources. */
function refuse(message: string): ApplicationFailure {
  const failure = ApplicationFailure.create({ type: 'UpdateRefused', message, nonRetryable: true });
  failure.stack = '';
  return failure;
}

/** Update inputs come from any client (the Web UI sends raw JSON): check shapes at run time. */
function filled(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** A user-assigned identity is named to the probe: before the settings swap the app has no AZURE_CLIENT_ID yet. */
function probeUrl(url: string, clientId: string | undefined): string {
  return clientId ? `${url}${url.includes('?') ? '&' : '?'}clientId=${encodeURIComponent(clientId)}` : url;
}

function label(site: SiteRef): string {
  return site.slot ? `${site.name}/${site.slot}` : site.name;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

function preflightProblemsOf(err: unknown): PreflightProblem[] | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === FailureType.PreflightFailed)
    return (cause.details ?? []) as PreflightProblem[];
  return undefined;
}
