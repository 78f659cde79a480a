/** `cutover skip MIGRATION --reason WHY`: skip the blocked rollback step, leaving that change in place. */
import { resolveBlockedStep, resolveMigration } from '../../client/migrations';
import type { MigrationProgress } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { personActing } from '../person';

export interface SkipOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly reason?: string;
}

export async function skipCommand(ctx: CliContext, opts: SkipOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'skips the step');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const p = await resolveBlockedStep(t, workflowId, 'skip', { by, ...(opts.reason ? { reason: opts.reason } : {}) });
    ctx.out.result(p, () => `Skipped the blocked rollback step of ${workflowId}`);
    return p;
  });
}
