/** `cutover status MIGRATION`: stage table, pending gate, timings and outcome. */
import { type MigrationStatus, migrationStatus, resolveMigrationRun } from '../../client/migrations';
import { type CliContext, withTemporal } from '../context';
import { renderProgress } from '../render';
import { isRevokeWorkflowId, revokeStatus } from '../../client/access';
import { renderRevoke } from './revoke';

export type { ShownProgress } from '../../client/migrations';

export interface StatusOptions {
  /** A workflow id, or an app name. */
  readonly workflowId: string;
  /** One run of it (`--run`); the latest by default. */
  readonly run?: string;
}

export type StatusResult = MigrationStatus;

export async function statusCommand(
  ctx: CliContext,
  opts: StatusOptions,
): Promise<StatusResult | Awaited<ReturnType<typeof revokeStatus>>> {
  return withTemporal(ctx, async (t) => {
    if (isRevokeWorkflowId(opts.workflowId)) {
      const r = await revokeStatus(t, opts.workflowId);
      ctx.out.result(r, () => renderRevoke((r.evidence ?? r.progress)!, r.status));
      return r;
    }
    const { workflowId, runId } = await resolveMigrationRun(t, opts.workflowId, opts.run);
    const s = await migrationStatus(t, workflowId, runId);
    ctx.out.result(s, () => renderProgress(s.progress, s.status, runId) + (s.link ? `\n\nWeb UI: ${s.link}` : ''));
    return s;
  });
}
