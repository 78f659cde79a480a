/**
 * Markdown for the Web UI's current details of a fleet: the open gate first, then one row per wave and per
 * account (callers pending / running / succeeded / rolled back / failed, the account's key state), the worker's ARM
 * rates. Pure; not part of history.
 */
import { describeArmBudget, type FleetCounts, type FleetProgress } from '../../contracts/fleet';

const counts = (c: FleetCounts) =>
  `${c.pending} | ${c.running} | ${c.succeeded} | ${c.rolledBack ?? '—'} | ${c.failed - (c.rolledBack ?? 0)}`;

export function renderFleetDetails(p: FleetProgress): string {
  const lines: string[] = [];
  if (p.pendingGate)
    lines.push(
      `**Waiting for approval:** ${p.pendingGate.title}`,
      '',
      `Approve: \`cutover fleet approve ${p.changeTicket} --as <you>\` (gate \`${p.pendingGate.gate}\`)`,
      '',
    );
  else if (p.waitingFor) lines.push(`**Waiting for:** ${p.waitingFor}`, '');
  lines.push(`**Fleet ${p.changeTicket}:** ${p.outcome}${p.reason ? ` — ${p.reason}` : ''}`, '');
  lines.push('| Wave | Pending | Running | Done | Rolled back | Failed |', '|---|---|---|---|---|---|');
  for (const w of p.waves) lines.push(`| ${w.name} | ${counts(w)} |`);
  lines.push(
    '',
    '| Account | Pending | Running | Done | Rolled back | Failed | Keys |',
    '|---|---|---|---|---|---|---|',
  );
  for (const a of p.accounts) lines.push(`| ${a.name} | ${counts(a)} | ${a.state} |`);
  if (p.armBudget) lines.push('', describeArmBudget(p.armBudget));
  return lines.join('\n');
}
