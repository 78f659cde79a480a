/**
 * The command line of `cutover dev`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/dev.ts) is imported only when it runs.
 */
import { type Command, Option } from 'commander';
import type { DevOptions } from '../commands/dev';
import { examples, port, type Run } from '../options';

export function registerDev(program: Command, run: Run): void {
  program
    .command('dev')
    .description(
      'Run the embedded default: Temporal dev server + Web UI, the Azure simulator (demo scenario) and a worker',
    )
    .option('--port <port>', 'Temporal gRPC port', port, 7233)
    .option('--ui-port <port>', 'Temporal Web UI port', port, 8233)
    .option('--sim-port <port>', 'simulator HTTPS port (default: a free one)', port)
    .option('--reset', 'start the simulator from the demo scenario again instead of the kept state')
    .addOption(new Option('--profile <profile>', 'simulator timing profile').choices(['fast', 'realistic']))
    .option('--verbose', 'log every request the simulator answers')
    .option('--no-worker', 'run no embedded worker (start `cutover worker` against this environment instead)')
    .addHelpText(
      'after',
      examples(
        'cutover dev',
        'cutover dev --reset',
        'cutover dev --no-worker   (then `cutover worker` in another terminal)',
      ),
    )
    .action((o: DevOptions) => run(async (ctx) => (await import('../commands/dev.js')).devCommand(ctx, o)));
}
