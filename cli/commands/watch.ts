/** `cutover watch MIGRATION`: follow a migration live until it ends (also `cutover start --watch`). */
import type { TemporalAccess } from '../../client/connect';
import { migrationStatus, resolveMigrationRun } from '../../client/migrations';
import { type CliContext, withTemporal } from '../context';
import { renderProgress } from '../render';
import { isRevokeWorkflowId, revokeStatus } from '../../client/access';
import { renderRevoke } from './revoke';
import type { StatusOptions, StatusResult } from './status';

/**
 * Prints what `read` returns whenever its rendering changes — redrawn in place on a terminal, one JSON line each in
 * json mode — until the workflow no longer runs (`running` says so).
 */
export async function follow<T>(
  ctx: CliContext,
  read: () => Promise<T>,
  render: (value: T) => string,
  running: (value: T) => boolean,
  intervalMs = 1000,
): Promise<T> {
  const live = ctx.out.format === 'text' && ctx.terminal.stdoutIsTTY;
  let last = '';
  for (;;) {
    const value = await read();
    const text = render(value);
    if (text !== last) {
      if (live) process.stdout.write('\x1b[2J\x1b[H');
      if (ctx.out.format === 'json') process.stdout.write(`${JSON.stringify(value)}\n`);
      else process.stdout.write(`${text}\n${live ? '' : '\n'}`);
      last = text;
    }
    if (!running(value)) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const isRunning = (value: { readonly status: string }) => value.status === 'RUNNING';

/** Follows a migration (its latest run, or `runId`) until it ends. */
export function watchLoop(
  ctx: CliContext,
  t: TemporalAccess,
  workflowId: string,
  runId?: string,
): Promise<StatusResult> {
  return follow(
    ctx,
    () => migrationStatus(t, workflowId, runId),
    (s) => renderProgress(s.progress, s.status, runId),
    isRunning,
  );
}

export async function watchCommand(
  ctx: CliContext,
  opts: StatusOptions,
): Promise<StatusResult | Awaited<ReturnType<typeof revokeStatus>>> {
  return withTemporal(ctx, async (t) => {
    if (isRevokeWorkflowId(opts.workflowId))
      return follow(
        ctx,
        () => revokeStatus(t, opts.workflowId),
        (r) => renderRevoke((r.evidence ?? r.progress)!, r.status),
        isRunning,
      );
    const { workflowId, runId } = await resolveMigrationRun(t, opts.workflowId, opts.run);
    return watchLoop(ctx, t, workflowId, runId);
  });
}
