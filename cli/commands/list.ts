/** `cutover list`: migrations found through the search attributes, with the outcome their execution really has. */
import { type ListedMigration, listMigrations, type MigrationFilter } from '../../client/list';
import { type CliContext, withTemporal } from '../context';
import { table } from '../render';

export type { ListedMigration };

export interface ListOptions extends MigrationFilter {
  readonly limit?: number;
}

export async function listCommand(ctx: CliContext, opts: ListOptions): Promise<ListedMigration[]> {
  return withTemporal(ctx, async (t) => {
    const out = await listMigrations(t, opts, opts.limit ?? 50);
    // The outcome says what the execution status would (running, or how it ended), so the table leaves it out.
    ctx.out.result(out, () =>
      out.length === 0
        ? 'No migrations match.'
        : table(
            out.map((m) => [
              m.workflowId,
              m.runId,
              m.ticket ?? '',
              m.stage ?? '',
              m.outcome,
              m.startTime.slice(0, 16).replace('T', ' '),
            ]),
            ['WORKFLOW ID', 'RUN ID', 'TICKET', 'STAGE', 'OUTCOME', 'STARTED (UTC)'],
          ),
    );
    return out;
  });
}
