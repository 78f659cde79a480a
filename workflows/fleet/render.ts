/**
 * Markdown for the Web UI's current details of a fleet: the open gate first, then one row per wave and per
 * account (callers pending / running / succeeded / failed, the account's key state). Pure; not part of history.
 */
import type { FleetCounts, FleetProgress } from '../../contracts/fleet';

const counts = (c: FleetCounts) => `${c.pending} | ${c.running} | ${c.succeeded} | ${c.failed}`;

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
  lines.push('| Wave | Pending | Running | Done | Failed |', '|---|---|---|---|---|');
  for (const w of p.waves) lines.push(`| ${w.name} | ${counts(w)} |`);
  lines.push('', '| Account | Pending | Running | Done | Failed | Keys |', '|---|---|---|---|---|---|');
  for (const a of p.accounts) lines.push(`| ${a.name} | ${counts(a)} | ${a.state} |`);
  return lines.join('\n');
}
