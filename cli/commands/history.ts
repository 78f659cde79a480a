/** `cutover history APP`: every migration (every run) of an app, newest first, with the outcome each really had. */
import { type ListedMigration, migrationHistory } from '../../client/list';
import { type CliContext, withTemporal } from '../context';
import { table } from '../render';

export interface HistoryOptions {
  /** An app name, or a workflow id. */
  readonly app: string;
}

const minute = (iso?: string) => (iso ? iso.slice(0, 16).replace('T', ' ') : '');

export async function historyCommand(ctx: CliContext, opts: HistoryOptions): Promise<ListedMigration[]> {
  return withTemporal(ctx, async (t) => {
    const runs = await migrationHistory(t, opts.app);
    ctx.out.result(runs, () =>
      table(
        runs.map((m) => [
          minute(m.startTime),
          m.endTime ? minute(m.endTime) : '(running)',
          m.runId,
          m.workflowId,
          m.ticket ?? '',
          m.outcome,
        ]),
        ['STARTED (UTC)', 'ENDED (UTC)', 'RUN ID', 'WORKFLOW ID', 'TICKET', 'OUTCOME'],
      ),
    );
    return runs;
  });
}
