/** `cutover history APP`: every migration (every run) of an app, newest first, with the outcome each really had. */
import type { Command } from 'commander';
import { type ListedMigration, migrationHistory } from '../../client/list';
import { type CliContext, withTemporal } from '../context';
import { examples, type Run } from '../options';
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

export function registerHistory(program: Command, run: Run): void {
  program
    .command('history')
    .argument('<app>', 'app name (or a workflow id)')
    .description('Every migration of an app, every run, newest first: times, run id, ticket and outcome')
    .addHelpText(
      'after',
      examples(
        'cutover history claims-bot',
        'cutover -o json history claims-bot',
        'cutover evidence claims-bot --run 0f9e2a4c-6d1b-4e8a-9c3f-5b7d2e1a8c46',
      ),
    )
    .action((app: string) => run((ctx) => historyCommand(ctx, { app })));
}
