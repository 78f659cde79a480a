/** Text renderings of a fleet for the terminal: its plan (dry run), its progress, its evidence as Markdown. */
import type { CallerRecord, FleetEvidence, FleetPlan, FleetProgress } from '../contracts/fleet';
import { callerPlan, FAILED_CALLER_STATES } from '../contracts/fleet';
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
  const strategy = p.strategy.type === 'slot-swap' ? `slot swap via ${p.strategy.stagingSlot}` : 'in place';
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

export function renderFleetProgress(p: FleetProgress, executionStatus: string): string[] {
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
  const row = (c: { pending: number; running: number; succeeded: number; failed: number }) => [
    String(c.pending),
    String(c.running),
    String(c.succeeded),
    String(c.failed),
  ];
  lines.push(
    '',
    table(
      p.waves.map((w) => [w.name, ...row(w)]),
      ['WAVE', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'],
    ),
    '',
    table(
      p.accounts.map((a) => [a.name, ...row(a), a.state + (a.reason ? ` (${a.reason})` : '')]),
      ['ACCOUNT', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KEYS'],
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
