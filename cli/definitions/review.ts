/**
 * The command line of `cutover review`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/review.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { ReviewOptions } from '../commands/review';
import { AS_HELP, examples, positive, type Run } from '../options';

export function registerReview(program: Command, run: Run): void {
  program
    .command('review')
    .description(
      'Compare who holds Azure OpenAI data-plane roles with an approved-access list: unapproved, expired, unused for N days',
    )
    .requiredOption(
      '--approved <file>',
      'the approved-access list (YAML: approved: [{principal|identity|app, accounts, owner, expires, purpose}])',
    )
    .option(
      '--account <name>',
      'only this account (with --resource-group); default: every Azure OpenAI account of the subscription',
    )
    .option('--resource-group <name>', 'resource group of --account')
    .option('--subscription <id>', 'the accounts’ subscription (default: the dev environment’s)')
    .option('--unused-days <n>', 'an approved identity with no call in this many days is reported unused', positive, 30)
    .option('--revoke', 'start revokes of everything reported, behind one approval (four-eyes)')
    .option('--log-ingestion-delay <duration>', 'how late the accounts’ Log Analytics rows arrive (for --revoke)', '5m')
    .option('--ticket <id>', 'the ticket of the revokes (with --revoke)')
    .option('--as <name>', `who starts the revokes ${AS_HELP}`)
    .addHelpText(
      'after',
      examples(
        'cutover review --approved access.yaml',
        'cutover -o json review --approved access.yaml --unused-days 90',
        'cutover review --approved access.yaml --revoke --ticket REV-2026-Q4 --as alice',
      ),
    )
    .action((o: ReviewOptions) => run(async (ctx) => (await import('../commands/review.js')).reviewCommand(ctx, o)));
}
