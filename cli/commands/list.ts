/** `cutover list`: migrations found through the search attributes, with the outcome their execution really has. */
import { type Command, Option } from 'commander';
import { type ListedMigration, listMigrations, type MigrationFilter } from '../../client/list';
import { OUTCOMES } from '../../client/outcome';
import { type CliContext, withTemporal } from '../context';
import { examples, positive, type Run } from '../options';
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

export function registerList(program: Command, run: Run): void {
  program
    .command('list')
    .description('List migrations, filtered by search attributes')
    .option('--stage <stage>', 'current stage, e.g. propagation')
    .option('--app <name>', 'app name')
    .option('--account <name>', 'Azure OpenAI account name')
    .option('--ticket <id>', 'change ticket')
    .addOption(
      new Option(
        '--outcome <outcome>',
        'running: every migration whose workflow still runs; the others: how it ended (terminated … when ended from outside)',
      ).choices(OUTCOMES),
    )
    .option('--limit <n>', 'at most this many', positive, 50)
    .addHelpText(
      'after',
      examples(
        'cutover list --outcome running',
        'cutover list --app claims-bot',
        'cutover -o json list --ticket CHG-1042',
      ),
    )
    .action((o: ListOptions) => run((ctx) => listCommand(ctx, o)));
}
