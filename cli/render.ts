/** Text renderings of CLI results (JSON mode prints the objects themselves). */
import { describeSteps } from '../plan/traffic-shift';
import type { PlanProblem, MigrationPlan } from '../plan/schema';
import { formatDuration } from '../plan/durations';
import { TARGET_KINDS, targetLabel, targetOf } from '../plan/targets';
import { describeScan } from '../contracts/key-holders';
import type { AnalysisRecord } from '../contracts/observation';
import type {
  BeforeState,
  Evidence,
  KeyHolderScan,
  MigrationProgress,
  PreflightProblem,
  StageStatus,
} from '../contracts/model';

const MARK: Record<StageStatus, string> = {
  pending: ' ',
  running: '>',
  waiting: '…',
  done: '✓',
  skipped: '-',
  failed: '✗',
  'rolled-back': '↶',
  blocked: '!',
};

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function table(rows: readonly (readonly string[])[], header: readonly string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : pad(c ?? '', widths[i]))).join('  ')).join('\n');
}

function clock(iso?: string): string {
  return iso ? iso.slice(11, 19) : '';
}

function elapsed(start?: string, end?: string): string {
  if (!start || !end) return '';
  const ms = Date.parse(end) - Date.parse(start);
  return ms >= 0 ? formatDuration(Math.round(ms / 1000) * 1000 || ms) : '';
}

/** `outcome` may be one the CLI derived from the execution's status (`terminated` …), not only a recorded one. */
export function renderProgress(
  p: Omit<MigrationProgress, 'outcome'> & { outcome: string },
  status?: string,
  /** Named when an earlier run was asked for, not the latest. */
  runId?: string,
): string {
  const lines = [
    `${p.workflowId}${runId ? ` (run ${runId})` : ''}`,
    `ticket ${p.changeTicket} · started by ${p.initiatedBy} · outcome ${p.outcome}${status ? ` · workflow ${status}` : ''}`,
    '',
    table(
      p.stages.map((s) => [
        MARK[s.status],
        s.title,
        s.status,
        clock(s.startedAt),
        elapsed(s.startedAt, s.endedAt),
        s.detail ?? '',
      ]),
      [' ', 'STAGE', 'STATUS', 'STARTED', 'TOOK', 'DETAIL'],
    ),
  ];
  if (p.pendingGate)
    lines.push(
      '',
      `Waiting for approval: ${p.pendingGate.title} (until ${p.pendingGate.deadline ?? 'no limit'})`,
      `  cutover approve ${p.workflowId} --gate ${p.pendingGate.gate} --as NAME   |   cutover reject ${p.workflowId} --gate ${p.pendingGate.gate} --as NAME --comment WHY`,
    );
  else if (p.blocked)
    lines.push(
      '',
      `Rollback blocked: ${p.blocked.compensation} failed: ${p.blocked.error}`,
      `  cutover retry ${p.workflowId} --as NAME   |   cutover skip ${p.workflowId} --as NAME --reason WHY`,
    );
  else if (p.waitingFor) lines.push('', `Waiting for: ${p.waitingFor}`);
  if (p.keyHolders) lines.push('', `Key holders: ${describeScan(p.keyHolders)}`);
  if (p.keyUsage) lines.push(`Key usage (logs): ${p.keyUsage.summary}`);
  for (const a of p.analyses ?? []) lines.push('', ...renderAnalysis(a));
  if (p.reason) lines.push('', `Reason: ${p.reason}`);
  return lines.join('\n');
}

/** An analysis run: its verdict and each measurement as it arrived. */
export function renderAnalysis(a: AnalysisRecord): string[] {
  return [
    `Analysis ${a.point === 'switch' ? 'after the switch' : 'after the key switch'}: ${a.verdict}${a.reason ? ` — ${a.reason}` : ''}`,
    ...a.measurements.map(
      (m, i) =>
        `  ${i + 1}. ${m.window.start.slice(11, 19)}–${m.window.end.slice(11, 19)}  ${m.values.map((v) => `${v.metric} ${v.result ?? '?'} ${v.phase}`).join(' · ')}`,
    ),
    ...(a.consumedDowntime
      ? [
          `  consumed downtime: ${a.consumedDowntime.failedRequests} failed requests, ${Math.round(a.consumedDowntime.windowMs / 1000)}s`,
        ]
      : []),
  ];
}

/**
 * Every scope the key-holder check read (or could not), and every holder with its kind (app-service, function-app),
 * for `plan show` and the evidence.
 */
export function renderKeyHolderScan(scan: KeyHolderScan): string[] {
  if (scan.localAuthDisabled) return ['local auth is already disabled: no key can be in use'];
  return [
    ...scan.scopes.map(
      (s) =>
        `${s.status === 'scanned' ? '✓' : '✗'} ${s.scope}${s.name ? ` (${s.name})` : ''}: ${
          s.status === 'scanned' ? `${s.resources} app(s) and slot(s) read` : `could not be read — ${s.reason ?? ''}`
        }`,
    ),
    ...scan.holders.map(
      (h) =>
        `! ${(h.kind ?? 'app-service').padEnd(12)} ${h.resourceId}: ${h.unverifiable ? `might hold the key — ${h.unverifiable}` : `holds the key in ${h.settingNames.join(', ')}`}${
          h.references?.length
            ? ` (Key Vault: ${h.references.map((r) => `${r.setting} → ${r.vault}/${r.secret}`).join(', ')})`
            : ''
        }`,
    ),
    ...scan.excluded.map((id) => `- ${id}: moved off the key by this migration`),
    ...(scan.ignored ?? []).map((i) => `- ${i.resourceId}: not counted — ${i.reason}`),
  ];
}

export function renderPlanProblems(problems: readonly PlanProblem[]): string[] {
  return problems.map((p) => `${p.field || '(plan)'}: ${p.message}`);
}

export function renderPreflightProblems(problems: readonly PreflightProblem[]): string[] {
  return problems.map((p) => `[${p.check}] ${p.message}${p.hint ? ` — ${p.hint}` : ''}`);
}

/** Whose identity it is, for kinds without slots: the container app's, the search service's, the ML workspace's. */
const IDENTITY_HOLDER: Readonly<Record<string, string>> = {
  'container-app': 'the app',
  'ml-connection': 'the workspace',
  'ai-search': 'the service',
};

/** What the migration would do, stage by stage, from the plan and the preflight's before-state. */
export function renderPlanSteps(plan: MigrationPlan, before?: BeforeState): string[] {
  const words = TARGET_KINDS[plan.target.kind];
  const target = `${words.mention}${targetLabel(plan.target)}`;
  const sites =
    plan.strategy.type === 'slot-swap'
      ? `${words.mention}${plan.target.name} and slot ${plan.strategy.stagingSlot}`
      : target;
  const identity =
    plan.identity.type === 'system-assigned'
      ? 'the system-assigned identity'
      : `user-assigned identity ${plan.identity.resourceId?.split('/').pop() ?? ''}`;
  const idNow = before?.sites
    .map((s) => `${s.site.slot ?? IDENTITY_HOLDER[s.site.kind ?? ''] ?? 'production'}: ${s.identity.type}`)
    .join(', ');
  const set = Object.entries(plan.settings.set).map(([k, v]) => `${k}=${v}`);
  if (plan.identity.type === 'user-assigned') set.push('AZURE_CLIENT_ID=<identity client id>');
  const steps = [
    `1. Identity: enable ${identity} on ${sites}${idNow ? ` (now ${idNow})` : ''}`,
    `2. Role: assign "${plan.role}" on account ${plan.account.name} to that identity (principalType ServicePrincipal)`,
    plan.smokeTest.identityProbePath === 'none'
      ? `3. Propagation: no identity probe — wait ${formatDuration(plan.budgets.propagationWaitMs)} for the role to take effect`
      : `3. Propagation: poll ${plan.smokeTest.identityProbePath} until the identity can call ${plan.account.deployment} (at most ${formatDuration(plan.budgets.propagationWaitMs)})`,
    `4. ${plan.approvals.beforeSettingsSwap ? 'Approval gate, then settings' : 'Settings'}: remove ${plan.settings.remove.join(', ')}${set.length ? `; set ${set.join(', ')}` : ''} ${
      plan.strategy.type === 'slot-swap'
        ? `on slot ${plan.strategy.stagingSlot} (${words.restart}), smoke-test it, then swap it into production`
        : plan.strategy.type === 'traffic-shift'
          ? `in a new revision of ${target} at 0 % traffic, smoke-test ${plan.smokeTest.path} on the revision's own FQDN, then shift traffic to it in steps of ${describeSteps(plan.strategy.steps ?? [100])} with a smoke test at each (the old revision keeps serving the rest, and runs until the migration ends)`
          : `on ${target} in place (${words.restart})`
    }; smoke-test ${plan.smokeTest.path} within the ${formatDuration(plan.budgets.downtimeMs)} ${
      plan.strategy.type === 'traffic-shift' ? 'budget of each step' : 'downtime budget'
    }`,
    plan.localAuth.disable
      ? `5. Key switch: ${plan.approvals.beforeDisableLocalAuth ? 'after an approval gate, ' : ''}disable key auth on ${plan.account.name}${
          before?.account.disableLocalAuth ? ' (already disabled)' : ''
        } once no other caller in any readable subscription holds its key (otherwise: ${plan.localAuth.ifOtherCallers}), then check keys are refused${
          plan.target.kind === 'container-app'
            ? `; then ${plan.strategy.type === 'traffic-shift' ? 'deactivate the old revision(s) and ' : ''}remove the secret that held the key (a rollback restores it, read again from the account)`
            : ''
        }${
          before?.keyHolders
            ? ` — now: ${describeScan(before.keyHolders)}${predictKeySwitch(plan, before.keyHolders)}`
            : ''
        }`
      : '5. Local auth: left enabled (localAuth.disable: false)',
    '6. Evidence: write the audit record',
  ];
  return steps;
}

/** What the key switch would do, given who holds the key now. */
function predictKeySwitch(plan: MigrationPlan, scan: KeyHolderScan): string {
  if (scan.verdict === 'clear' || scan.localAuthDisabled) return ' → the key switch would go ahead';
  return {
    skip: ' → the key switch would be skipped (local auth stays enabled)',
    wait: ' → the key switch would wait for them',
    fail: ' → the migration would fail before any change',
  }[plan.localAuth.ifOtherCallers];
}

export function renderEvidenceMarkdown(e: Evidence): string {
  const rows = (xs: readonly (readonly string[])[]) =>
    xs.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`).join('\n');
  return [
    `# Evidence: ${e.changeTicket} — ${targetOf(e.plan).name} → managed identity`,
    '',
    `- **Outcome:** ${e.outcome}${e.reason ? ` — ${e.reason}` : ''}`,
    `- **Workflow:** \`${e.workflowId}\` (run \`${e.runId}\`)`,
    `- **Started by:** ${e.initiatedBy} at ${e.startedAt}; ended ${e.endedAt}`,
    `- **Account:** ${e.plan.account.name} (deployment ${e.plan.account.deployment}); role ${e.plan.role}`,
    `- **Identity:** ${e.identity ? `${e.identity.type}, principal ${e.identity.principalIds.join(', ')}` : 'not changed'}`,
    `- **Downtime budget used:** ${
      e.downtimeMs !== undefined
        ? `${(e.downtimeMs / 1000).toFixed(1)} s (from the first change that touches traffic until the smoke test passed)`
        : 'n/a'
    }`,
    `- **Local auth:** before ${e.localAuth.before === undefined ? 'unknown' : e.localAuth.before ? 'disabled' : 'enabled'}, after ${
      e.localAuth.after === undefined ? 'unchanged' : e.localAuth.after ? 'disabled' : 'enabled'
    }${e.localAuth.skippedBecause ? ` (${e.localAuth.skippedBecause})` : ''}`,
    '',
    '## Approvals',
    '',
    e.approvals.length
      ? `| Gate | Decision | By | At | Comment |\n|---|---|---|---|---|\n${rows(e.approvals.map((a) => [a.gate, a.decision, a.by, a.at, a.comment ?? '']))}`
      : 'None required.',
    '',
    '## Stages',
    '',
    `| Stage | Status | Started | Ended | Detail |\n|---|---|---|---|---|\n${rows(
      e.stages.map((s) => [s.title, s.status, s.startedAt ?? '', s.endedAt ?? '', s.detail ?? '']),
    )}`,
    '',
    '## Changes',
    '',
    `- Resources touched: ${e.resourcesTouched.map((r) => `\`${r}\``).join(', ') || 'none'}`,
    `- Role assignments: ${e.roleAssignments.map((r) => `\`${r.roleAssignmentId}\`${r.ours ? '' : ' (pre-existing, not ours)'}`).join(', ') || 'none'}`,
    `- Settings removed: ${e.settingsChanged.removed.join(', ')}; set: ${e.settingsChanged.set.join(', ')} (names only; values are never recorded)`,
    '',
    '## Smoke tests',
    '',
    e.smokeTests.length
      ? `| At | Target | Passed | Status | Request id | Error |\n|---|---|---|---|---|---|\n${rows(
          e.smokeTests.map((t) => [
            t.at,
            t.target,
            t.passed ? 'yes' : 'no',
            String(t.status ?? ''),
            t.requestId ?? '',
            t.errorCode ?? '',
          ]),
        )}`
      : 'None run.',
    '',
    '## Rollback',
    '',
    e.compensations.some((c) => c.status !== 'pending')
      ? `| Step | Status | Attempts | Note |\n|---|---|---|---|\n${rows(
          e.compensations.map((c) => [c.description, c.status, String(c.attempts), c.error ?? c.reason ?? '']),
        )}`
      : 'Not needed.',
    ...(e.localAuth.keyHolders
      ? [
          '',
          '## Key holders (who else held the account key)',
          '',
          ...renderKeyHolderScan(e.localAuth.keyHolders).map((l) => `- ${l}`),
        ]
      : []),
    ...(e.localAuth.keyUsage?.length
      ? [
          '',
          '## Key usage (the account’s diagnostic logs)',
          '',
          ...e.localAuth.keyUsage.map((o) => `- ${o.readAt}: ${o.verdict} — ${o.summary}`),
          ...(e.localAuth.keyUsage.at(-1)?.query ? ['', '```kusto', e.localAuth.keyUsage.at(-1)!.query!, '```'] : []),
        ]
      : []),
    ...(e.analyses?.length ? ['', '## Analyses', '', ...e.analyses.flatMap((a) => [...renderAnalysis(a), ''])] : []),
    ...(e.consumedDowntime
      ? [
          `Consumed downtime (Azure Monitor): ${e.consumedDowntime.failedRequests} failed requests over ${Math.round(e.consumedDowntime.windowMs / 1000)}s`,
        ]
      : []),
    ...(e.preflightProblems?.length
      ? ['', '## Preflight problems', '', ...e.preflightProblems.map((p) => `- [${p.check}] ${p.message}`)]
      : []),
    ...(e.warnings.length ? ['', '## Warnings', '', ...e.warnings.map((w) => `- ${w}`)] : []),
    '',
  ].join('\n');
}
