/**
 * The command line of `cutover worker`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/worker.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import { examples, type Run } from '../options';

export function registerWorker(program: Command, run: Run): void {
  program
    .command('worker')
    .description('Run a production worker (Temporal from TEMPORAL_* settings, Azure from DefaultAzureCredential)')
    .addHelpText(
      'after',
      examples(
        'TEMPORAL_ADDRESS=temporal.internal:7233 cutover worker',
        'CUTOVER_TASK_QUEUE=cutover-prod cutover worker',
      ),
    )
    .action(() => run(async (ctx) => (await import('../commands/worker.js')).workerCommand(ctx)));
}
