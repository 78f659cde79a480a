/**
 * Markdown for the Web UI's "current details" panel (and `cutover status`): the stage table, what the migration
 * waits for and until when, and how to move it on. Pure and deterministic: it reads only the progress it is given.
 */
import { type MigrationPlan, targetLabel, targetOf } from '../../plan/schema';
import type { MigrationProgress, StageStatus } from '../../contracts/model';

const ICON: Record<StageStatus, string> = {
  pending: '·',
  running: '▶',
  waiting: '…',
  done: '✔',
  skipped: '–',
  failed: '✖',
  'rolled-back': '↶',
  blocked: '⛔',
};

function time(iso?: string): string {
  return iso ? iso.slice(11, 19) : '';
}

/** Status and duration in one short cell: the Web UI shows details in a narrow, unpadded panel. */
function status(s: MigrationProgress['stages'][number]): string {
  const parts = [`${ICON[s.status]} ${s.status}`];
  if (s.startedAt && s.endedAt) {
    const ms = Date.parse(s.endedAt) - Date.parse(s.startedAt);
    parts.push(ms < 1000 ? `${ms}ms` : `${Math.round(ms / 1000)}s`);
  } else if (s.startedAt) parts.push(`since ${time(s.startedAt)}`);
  return parts.join(' ');
}

function cell(text?: string): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderDetails(plan: MigrationPlan, p: MigrationProgress): string {
  // What a person must do comes first: the top of the panel is what the Web UI shows without scrolling.
  const lines: string[] = [];
  if (p.pendingGate)
    lines.push(
      `**Waiting for approval:** ${cell(p.pendingGate.title)} (until ${p.pendingGate.deadline ?? 'no limit'}) — run \`cutover approve ${p.workflowId} --gate ${p.pendingGate.gate} --as NAME\`, or Send an Update → \`approve\` with \`{"approver": "your name"}\` (\`reject\` to roll back).`,
      '',
    );
  else if (p.blocked)
    lines.push(
      `**Rollback blocked:** ${cell(p.blocked.compensation)} failed: ${cell(p.blocked.error)}. Fix the cause, then send \`retryCompensation\` \`{"by": "you"}\`, or \`skipCompensation\` \`{"by": "you", "reason": "…"}\`.`,
      '',
    );
  else if (p.waitingFor) lines.push(`**Waiting for:** ${cell(p.waitingFor)}`, '');
  lines.push(
    `### ${cell(plan.changeTicket)}: ${targetLabel(targetOf(plan))} → ${plan.account.name}`,
    `Identity: ${plan.identity.type} · role: ${plan.role} · strategy: ${plan.strategy.type} · started by ${cell(p.initiatedBy)} · outcome: **${p.outcome}**`,
    '',
    '| Stage | Status | Detail |',
    '|---|---|---|',
    ...p.stages.map((s) => `| ${s.title} | ${status(s)} | ${cell(s.detail)} |`),
  );
  if (p.reason) lines.push('', `**Reason:** ${cell(p.reason)}`);
  return lines.join('\n');
}
