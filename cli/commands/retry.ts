/** `cutover retry MIGRATION`: retry the rollback step that is blocked. */
import { resolveBlockedStep, resolveMigration } from '../../client/migrations';
import type { MigrationProgress } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { personActing } from '../person';

export interface RetryOptions {
  readonly workflowId: string;
  readonly as?: string;
}

export async function retryCommand(ctx: CliContext, opts: RetryOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'retries the step');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const p = await resolveBlockedStep(t, workflowId, 'retry', { by });
    ctx.out.result(p, () => `Retrying the blocked rollback step of ${workflowId}`);
    return p;
  });
}
