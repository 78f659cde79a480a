/**
 * The command line of `cutover revoke`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/revoke.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { RevokeOptions } from '../commands/revoke';
import { AS_HELP, examples, type Run } from '../options';

export function registerRevoke(program: Command, run: Run): void {
  program
    .command('revoke')
    .description(
      "Remove an identity's Azure OpenAI data-plane access (direct grants only; group grants are reported), then wait until it is refused",
    )
    .option('--identity <id>', 'a user-assigned identity: its ARM id, or RESOURCE_GROUP/NAME')
    .option('--app <app>', "an app's system identity: RESOURCE_GROUP/NAME or RESOURCE_GROUP/NAME/SLOT")
    .option('--principal <object-id>', 'any principal, by Entra object id')
    .option('--account <name>', 'only this account (with --resource-group); default: every account it can reach')
    .option('--resource-group <name>', 'resource group of --account')
    .option('--subscription <id>', 'where to look (default: the dev environment’s; in Azure: every readable one)')
    .requiredOption('--ticket <id>', 'the change or incident ticket (in the evidence)')
    .requiredOption('--reason <text>', 'why the access goes (in the evidence)')
    .option('--as <name>', `who asks for it ${AS_HELP}`)
    .option('--emergency', 'no approval gate: start removing at once (a compromised identity)')
    .option('--no-approval', 'no approval gate (a planned removal someone already approved)')
    .option('--refusal-timeout <duration>', 'how long to wait for the data plane to refuse it', '30m')
    .option('--poll <duration>', 'how often to check whether it is refused', '2s')
    .option(
      '--probe-path <path>',
      'identity probe of the apps using it, or "none" to read the logs instead',
      '/health/identity',
    )
    .option('--log-ingestion-delay <duration>', 'how late the accounts’ Log Analytics rows arrive', '5m')
    .option('--no-wait', 'print the workflow id and return; follow it with `cutover status`')
    .addHelpText(
      'after',
      examples(
        'cutover revoke --identity rg-research/id-research --ticket INC-7 --reason "project ended" --as alice',
        'cutover revoke --app rg-claims/claims-bot --account claims-openai --resource-group rg-claims --ticket CHG-9 --reason "retired" --as alice',
        'cutover revoke --principal 5f0c… --emergency --ticket SEC-1 --reason "credential leaked" --as oncall',
      ),
    )
    .action((o: RevokeOptions) => run(async (ctx) => (await import('../commands/revoke.js')).revokeCommand(ctx, o)));
}
