/** `cutover abort MIGRATION --reason WHY`: abort a running migration; it rolls back what it changed. */
import { abortMigration, resolveMigration } from '../../client/migrations';
import type { MigrationProgress } from '../../contracts/model';
import { type CliContext, withTemporal } from '../context';
import { personActing } from '../person';

export interface AbortOptions {
  readonly workflowId: string;
  readonly as?: string;
  readonly reason: string;
}

export async function abortCommand(ctx: CliContext, opts: AbortOptions): Promise<MigrationProgress> {
  const by = personActing(ctx, opts.as, 'aborts');
  return withTemporal(ctx, async (t) => {
    const workflowId = await resolveMigration(t, opts.workflowId);
    const p = await abortMigration(t, workflowId, { by, reason: opts.reason });
    ctx.out.result(
      p,
      () => `Aborting ${workflowId}: rolling back what it changed. Follow it: cutover watch ${workflowId}`,
    );
    return p;
  });
}
