/**
 * The command line of `cutover list`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/list.ts) is imported only when it runs.
 */
import { type Command, Option } from 'commander';
import { OUTCOMES } from '../../contracts/outcomes';
import type { ListOptions } from '../commands/list';
import { examples, positive, type Run } from '../options';

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
    .action((o: ListOptions) => run(async (ctx) => (await import('../commands/list.js')).listCommand(ctx, o)));
}
