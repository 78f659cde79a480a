/**
 * The command line of `cutover evidence`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/evidence.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { EvidenceOptions } from '../commands/evidence';
import { examples, MIGRATION_ARGUMENT, RUN_OPTION, type Run } from '../options';

export function registerEvidence(program: Command, run: Run): void {
  program
    .command('evidence')
    .argument(...MIGRATION_ARGUMENT)
    .description('Write the audit record as JSON and Markdown, and print it')
    .option('--out-dir <dir>', 'folder for the files (default: the current folder)')
    .option(...RUN_OPTION)
    .addHelpText(
      'after',
      examples(
        'cutover evidence claims-bot --out-dir ./evidence',
        'cutover evidence claims-bot --run 0f9e2a4c-6d1b-4e8a-9c3f-5b7d2e1a8c46',
      ),
    )
    .action((workflowId: string, o: Omit<EvidenceOptions, 'workflowId'>) =>
      run(async (ctx) => (await import('../commands/evidence.js')).evidenceCommand(ctx, { workflowId, ...o })),
    );
}
