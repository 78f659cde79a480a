/** Text renderings of a fleet for the terminal: its plan (dry run), its progress, its evidence as Markdown. */
import { describeSteps } from '../plan/traffic-shift';
import type { CallerRecord, FleetCounts, FleetEvidence, FleetPlan, FleetProgress } from '../contracts/fleet';
import { callerPlan, describeArmBudget, FAILED_CALLER_STATES } from '../contracts/fleet';
import { formatDuration } from '../plan/durations';
import { table } from './render';

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function waveLine(plan: FleetPlan, w: number): string {
  const wave = plan.waves[w];
  const extras = [
    `${wave.concurrency} at a time`,
    `tolerates ${plural(wave.allowedFailures, 'failure')}`,
    ...(wave.bakeMs ? [`bake ${formatDuration(wave.bakeMs)}`] : []),
    ...(wave.approval ? ['approval first'] : []),
  ];
  return `${w + 1}. ${wave.name}: ${plural(wave.callers.length, 'caller')} (${extras.join(', ')})`;
}

/** What one caller's migration would change, in one line. */
function changeLine(plan: FleetPlan, i: number): string {
  const p = callerPlan(plan, i);
  const strategy =
    p.strategy.type === 'slot-swap'
      ? `slot swap via ${p.strategy.stagingSlot}`
      : p.strategy.type === 'traffic-shift'
        ? `traffic shift ${describeSteps(p.strategy.steps ?? [100])}`
        : 'in place';
  const set = Object.keys(p.settings.set);
  return `${p.identity.type} identity, ${p.role}, remove ${p.settings.remove.join(', ')}${set.length ? `, set ${set.join(', ')}` : ''}, ${strategy}`;
}

export function renderFleetPlan(plan: FleetPlan, workflowId: string): string[] {
  const lines = [
    `Fleet ${plan.changeTicket} (${workflowId}): ${plural(plan.callers.length, 'caller')} on ${plural(plan.accounts.length, 'account')}, ${plural(plan.waves.length, 'wave')}`,
    '',
    'Waves:',
  ];
  plan.waves.forEach((wave, w) => {
    lines.push(`  ${waveLine(plan, w)}`);
    for (const i of wave.callers) {
      const c = plan.callers[i];
      lines.push(`     ${c.id} (${c.target.kind}) → ${plan.accounts[c.account].ref.name}: ${changeLine(plan, i)}`);
    }
  });
  lines.push('', 'Accounts (key auth off once every caller of the account has moved):');
  plan.accounts.forEach((a, ai) => {
    const n = plan.callers.filter((c) => c.account === ai).length;
    const k = a.keySwitch;
    lines.push(
      `  ${a.ref.name} (subscription ${a.ref.subscriptionId}): ${plural(n, 'caller')}; ` +
        (k.disable
          ? `keys off${k.approval ? ' after approval' : ''}, quiet period ${formatDuration(k.quietPeriodMs)}, bake ${formatDuration(k.bakeMs)}`
          : 'keys stay on'),
    );
  });
  return lines;
}

const failed = (c: CallerRecord) => FAILED_CALLER_STATES.includes(c.state);

/** How far back the pace is measured. */
const PACE_WINDOW_MS = 10 * 60_000;

/**
 * The pace of the last minutes and when the callers left would be done at it (gates, bakes and key switches not
 * counted); nothing before two callers have ended.
 */
export function paceLine(p: FleetProgress, now: number): string | undefined {
  if (p.outcome !== 'running') return undefined;
  const left = p.callers.filter((c) => c.state === 'pending' || c.state === 'running').length;
  // A held caller has moved: it counts as done from when it was held.
  const ended = p.callers
    .filter((c) => (c.endedAt ?? c.heldAt) && c.startedAt && c.state !== 'not-started')
    .map((c) => Date.parse((c.endedAt ?? c.heldAt)!))
    .filter((t) => now - t <= PACE_WINDOW_MS);
  const starts = p.callers.filter((c) => c.startedAt).map((c) => Date.parse(c.startedAt!));
  if (ended.length < 2 || left === 0 || starts.length === 0) return undefined;
  const since = Math.max(Math.min(...starts), now - PACE_WINDOW_MS);
  const perMs = ended.length / Math.max(1, now - since);
  const etaMs = left / perMs;
  const perMin = perMs * 60_000;
  return `Pace: ${perMin >= 10 ? Math.round(perMin) : perMin.toFixed(1)} callers/min; ${plural(left, 'caller')} left: about ${formatDuration(Math.round(etaMs / 1000) * 1000)} more (by ${new Date(now + etaMs).toISOString().slice(11, 19)} UTC; gates, bakes and key switches not counted)`;
}

export function renderFleetProgress(p: FleetProgress, executionStatus: string, now = Date.now()): string[] {
  const outcome = executionStatus === 'RUNNING' || executionStatus === 'COMPLETED' ? p.outcome : executionStatus;
  const lines = [
    `Fleet ${p.changeTicket} (${p.workflowId}): ${outcome}${p.wave && p.outcome === 'running' ? ` — wave ${p.wave}` : ''}${p.reason ? ` — ${p.reason}` : ''}`,
  ];
  if (p.pendingGate)
    lines.push(
      `Waiting for approval: ${p.pendingGate.title} (gate ${p.pendingGate.gate}, until ${p.pendingGate.deadline ?? '—'})`,
      `  cutover fleet approve ${p.changeTicket} --as <you>   |   cutover fleet reject ${p.changeTicket} --as <you>`,
    );
  else if (p.waitingFor) lines.push(`Waiting for: ${p.waitingFor}`);
  const row = (c: FleetCounts) => [
    String(c.pending),
    String(c.running),
    String(c.succeeded),
    String(c.rolledBack ?? '—'),
    String(c.failed - (c.rolledBack ?? 0)),
  ];
  lines.push(
    '',
    table(
      p.waves.map((w) => [w.name, ...row(w)]),
      ['WAVE', 'PENDING', 'RUNNING', 'SUCCEEDED', 'ROLLED BACK', 'FAILED'],
    ),
    '',
    table(
      p.accounts.map((a) => [a.name, ...row(a), a.state + (a.reason ? ` (${a.reason})` : '')]),
      ['ACCOUNT', 'PENDING', 'RUNNING', 'SUCCEEDED', 'ROLLED BACK', 'FAILED', 'KEYS'],
    ),
  );
  const running = p.callers.filter((c) => c.state === 'running');
  if (running.length) {
    const oldest = [...running].sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''))[0];
    lines.push(
      '',
      `Running: ${running.length}; the longest running is ${oldest.id} (since ${oldest.startedAt ?? '?'})`,
    );
  }
  const held = p.callers.filter((c) => c.state === 'held');
  if (held.length)
    lines.push(
      `Held: ${plural(held.length, 'caller')} moved, each waiting for its wave's end (onStop roll-back-wave): kept then, or rolled back with the wave`,
    );
  const pace = paceLine(p, now);
  if (pace) lines.push(pace);
  if (p.armBudget) lines.push(describeArmBudget(p.armBudget));
  const bad = p.callers.filter(failed);
  if (bad.length)
    lines.push('', 'Failed callers:', ...bad.map((c) => `  ✗ ${c.id}: ${c.state}${c.reason ? ` — ${c.reason}` : ''}`));
  if (p.runs > 1) lines.push('', `(${p.runs} runs of the fleet workflow so far: it continues as new between waves)`);
  return lines;
}

export function renderFleetEvidence(e: FleetEvidence): string {
  const lines = [
    `# Fleet ${e.changeTicket}: ${e.outcome}`,
    '',
    `- Workflow: \`${e.workflowId}\` (${e.runs} run${e.runs === 1 ? '' : 's'}, last \`${e.runId}\`)`,
    `- Started by ${e.initiatedBy}, ${e.startedAt} → ${e.endedAt}`,
    ...(e.reason ? [`- Stopped: ${e.reason}`] : []),
    '',
    '## Waves',
    '',
    ...e.waves.map((w) => `- **${w.name}**: ${w.callers.join(', ') || '(no caller was left for it)'}`),
  ];
  for (const a of e.accounts) {
    lines.push(
      '',
      `## Account ${a.name}: keys ${a.state}`,
      '',
      ...(a.reason ? [`${a.reason}`, ''] : []),
      ...(a.keyHolders ? [`Key-holder check (${a.keyHolders.scannedAt}): ${a.keyHolders.verdict}`, ''] : []),
      ...(a.keyUsage
        ? [`Key usage (${a.keyUsage.window.start} → ${a.keyUsage.window.end}): ${a.keyUsage.summary}`, '']
        : []),
      '| Caller | Kind | State | Identity (object id) | Role assignment |',
      '|---|---|---|---|---|',
      ...a.callers.map(
        (c) => `| ${c.id} | ${c.kind} | ${c.state} | ${c.principalId ?? ''} | ${c.roleAssignmentId ?? ''} |`,
      ),
    );
  }
  if (e.approvals.length)
    lines.push(
      '',
      '## Approvals',
      '',
      ...e.approvals.map(
        (a) => `- ${a.gate}: ${a.decision} by ${a.by} at ${a.at}${a.comment ? ` — ${a.comment}` : ''}`,
      ),
    );
  return `${lines.join('\n')}\n`;
}
