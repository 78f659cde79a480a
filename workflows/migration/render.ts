/**
 * Markdown for the Web UI's "current details" panel: what a person must do first (the open gate and how to decide
 * it, or the blocked rollback step), then the compact stage table. The UI renders it in a narrow panel next to the
 * summary (about 460 px at a 1280 px wide window), so status cells are one short word kept on one line.
 * Pure and deterministic: it reads only the progress it is given. Current details are not part of the history
 * (the UI reads them with the `__temporal_workflow_metadata` query), so changing this text needs no `patched()`.
 */
import { type MigrationPlan, targetLabel, targetOf } from '../../plan/schema';
import type { MigrationProgress, StageId, StageStatus } from '../../contracts/model';

/** One short word per status: the Status column stays narrow. */
const STATUS: Record<StageStatus, string> = {
  pending: '·',
  running: '▶ run',
  waiting: '… wait',
  done: '✔ done',
  skipped: '– skip',
  failed: '✖ fail',
  'rolled-back': '↶ undone',
  blocked: '⛔ blocked',
};

/** Short stage names for the panel; `progress` and `cutover status` keep the full titles. */
export const SHORT_STAGE: Record<StageId, string> = {
  preflight: 'Preflight',
  identity: 'Managed identity',
  role: 'Role',
  propagation: 'Propagation',
  'approve-settings': 'Approval: settings',
  settings: 'Settings swap',
  analysis: 'Analysis',
  'key-holders': 'Key holders & usage',
  'approve-local-auth': 'Approval: local auth',
  'local-auth': 'Local auth off',
  'key-analysis': 'Analysis (keys off)',
  rollback: 'Rollback',
  evidence: 'Evidence',
};

/**
 * A cell that must not wrap, with a no-break space after it: the Web UI's Markdown table has no cell padding and
 * no other way to say either.
 */
function nowrap(text: string): string {
  return text ? `${text.replace(/ /g, '\u00a0')}\u00a0` : '';
}

/** GUIDs (principal and role assignment ids) shortened to their first group: the full ids are in `cutover status`. */
function short(text?: string): string {
  return cell(text).replace(/\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '$1…');
}

function took(s: MigrationProgress['stages'][number]): string {
  if (!s.startedAt || !s.endedAt) return '';
  const ms = Date.parse(s.endedAt) - Date.parse(s.startedAt);
  return ms < 1000 ? `${ms}ms` : ms < 120_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 60_000)}m`;
}

function cell(text?: string): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** "2026-12-02T04:53:18.517Z" → "2026-12-02 04:53 UTC". */
function when(iso?: string): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : 'no limit';
}

/** The first lines: what a person must do, or where the run is. */
function headline(plan: MigrationPlan, p: MigrationProgress): string[] {
  const app = targetOf(plan).name;
  if (p.pendingGate) {
    const g = p.pendingGate;
    return [
      `**WAITING FOR APPROVAL: ${cell(g.title)}** — approve with \`cutover approve ${app} --gate ${g.gate} --as NAME\` or Send an Update → approve`,
      '',
      `In the Web UI: More Actions → Send an Update → \`approve\`, Data \`"your name"\` (or \`{"approver": "your name", "comment": "…"}\`); \`reject\` rolls back. Open until ${when(g.deadline)}.`,
    ];
  }
  if (p.blocked)
    return [
      `**ROLLBACK BLOCKED: ${cell(p.blocked.compensation)}** failed: ${cell(p.blocked.error)} — fix the cause, then \`cutover retry ${app} --as NAME\` or Send an Update → retryCompensation`,
      '',
      `Or \`skipCompensation\` with \`{"by": "your name", "reason": "why it is safe"}\` to leave that change in place.`,
    ];
  const stage = p.stages.find((s) => s.id === p.stage);
  if (p.outcome === 'running')
    return [
      `**RUNNING: ${cell(stage ? SHORT_STAGE[stage.id] : p.stage)}**${p.waitingFor ? ` — waiting for ${cell(p.waitingFor)}` : ''}`,
    ];
  return [`**${p.outcome.toUpperCase().replace(/-/g, ' ')}**${p.reason ? ` — ${cell(p.reason)}` : ''}`];
}

export function renderDetails(plan: MigrationPlan, p: MigrationProgress): string {
  const lines = [
    ...headline(plan, p),
    '',
    `${cell(plan.changeTicket)} · ${targetLabel(targetOf(plan))} → ${plan.account.name} · ${plan.identity.type} · ${plan.strategy.type} · started by ${cell(p.initiatedBy)} · outcome **${p.outcome}**`,
    '',
    '| Stage | Status | Took | Detail |',
    '|---|---|---|---|',
    ...p.stages.map(
      (s) => `| ${nowrap(SHORT_STAGE[s.id])} | ${nowrap(STATUS[s.status])} | ${nowrap(took(s))} | ${short(s.detail)} |`,
    ),
  ];
  if (p.reason && p.outcome === 'running') lines.push('', `**Reason:** ${cell(p.reason)}`);
  return lines.join('\n');
}
