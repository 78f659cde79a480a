/**
 * The command line of `cutover inventory`: arguments, options and help, cheap to load for `--help`. What it does
 * (../commands/inventory.ts) is imported only when it runs.
 */
import type { Command } from 'commander';
import type { InventoryOptions } from '../commands/inventory';
import { examples, type Run } from '../options';

export function registerInventory(program: Command, run: Run): void {
  program
    .command('inventory')
    .description(
      'Who can call an Azure OpenAI account and who did: data-plane role holders, apps holding its key, callers in its logs',
    )
    .requiredOption('--account <name>', 'Azure OpenAI account name')
    .requiredOption('--resource-group <name>', 'its resource group')
    .option('--subscription <id>', 'its subscription (default: the dev environment’s)')
    .option('--window <duration>', 'how far back to read its diagnostic logs for who called it', '7d')
    .addHelpText(
      'after',
      examples(
        'cutover inventory --account claims-openai --resource-group rg-claims',
        'cutover inventory --account claims-openai --resource-group rg-claims --subscription 5b2e8c1d-9f3a-4b6e-a7c2-8d1e4f0a3b95',
      ),
    )
    .action((o: InventoryOptions) =>
      run(async (ctx) => (await import('../commands/inventory.js')).inventoryCommand(ctx, o)),
    );
}
