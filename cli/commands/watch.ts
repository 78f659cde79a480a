/** `cutover watch MIGRATION`: follow a migration live until it ends (also `cutover start --watch`). */
import type { TemporalAccess } from '../../client/connect';
import { migrationStatus, resolveMigrationRun } from '../../client/migrations';
import { type CliContext, withTemporal } from '../context';
import { renderProgress } from '../render';
import { isRevokeWorkflowId, revokeStatus } from '../../client/access';
import { renderRevoke } from './revoke';
import type { StatusOptions, StatusResult } from './status';

/**
 * Prints the status (of the latest run, or `runId`) whenever it changes — redrawn in place on a terminal, one JSON
 * line each in json mode.
 */
export async function watchLoop(
  ctx: CliContext,
  t: TemporalAccess,
  workflowId: string,
  runId?: string,
): Promise<StatusResult> {
  const live = ctx.out.format === 'text' && ctx.terminal.stdoutIsTTY;
  let last = '';
  for (;;) {
    const s = await migrationStatus(t, workflowId, runId);
    const text = renderProgress(s.progress, s.status, runId);
    if (text !== last) {
      if (live) process.stdout.write('\x1b[2J\x1b[H');
      if (ctx.out.format === 'json') process.stdout.write(`${JSON.stringify(s)}\n`);
      else process.stdout.write(`${text}\n${live ? '' : '\n'}`);
      last = text;
    }
    if (s.status !== 'RUNNING') return s;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Follows a revoke until it ends, printing its stages whenever they change. */
async function watchRevoke(ctx: CliContext, t: TemporalAccess, workflowId: string) {
  let last = '';
  for (;;) {
    const r = await revokeStatus(t, workflowId);
    const text = renderRevoke((r.evidence ?? r.progress)!, r.status);
    if (text !== last) {
      if (ctx.out.format === 'json') process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`${text}\n\n`);
      last = text;
    }
    if (r.status !== 'RUNNING') return r;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export async function watchCommand(
  ctx: CliContext,
  opts: StatusOptions,
): Promise<StatusResult | Awaited<ReturnType<typeof revokeStatus>>> {
  return withTemporal(ctx, async (t) => {
    if (isRevokeWorkflowId(opts.workflowId)) return watchRevoke(ctx, t, opts.workflowId);
    const { workflowId, runId } = await resolveMigrationRun(t, opts.workflowId, opts.run);
    return watchLoop(ctx, t, workflowId, runId);
  });
}
