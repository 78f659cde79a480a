/**
 * The `cutover` command line. One top-level error handler: a user mistake prints one clear line (and a hint) and
 * exits 1, a malformed command line exits 2, a bug prints its stack and exits 1.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type CliContext, createContext, type GlobalOptions } from './context';
import { UsageError, UserError } from './errors';
import type { OutputFormat } from './output';
import { demoCommand } from './commands/demo';
import { devCommand, simCommand, workerCommand } from './commands/environment';
import { inventoryCommand } from './commands/inventory';
import {
  abortCommand,
  compensationCommand,
  decideCommand,
  evidenceCommand,
  listCommand,
  startCommand,
  statusCommand,
  watchCommand,
} from './commands/migrations';
import { planCommand } from './commands/plan';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

export function buildProgram(run: (fn: (ctx: CliContext) => Promise<unknown>) => Promise<void>): Command {
  const program = new Command('cutover')
    .description(
      'Move apps that call Azure OpenAI from API keys to Microsoft Entra managed identities: safely, reversibly, with evidence.',
    )
    .addOption(
      new Option('-o, --output <format>', 'text or json (data on stdout, messages on stderr)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option(
      '--address <host:port>',
      'Temporal frontend (default: TEMPORAL_ADDRESS, the config profile, the dev environment, localhost:7233)',
    )
    .option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or default)')
    .option('--task-queue <name>', 'task queue of the cutover workers (default: CUTOVER_TASK_QUEUE or cutover)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\n<migration> is a workflow id (cutover/<subscription>/<resource group>/<app>) or just the app name.',
    )
    .configureHelp({ sortSubcommands: false })
    // Before any subcommand is added: subcommands inherit these, so their usage errors also exit 2, not 1.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  // Environment.
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
    .action((o: Parameters<typeof devCommand>[1]) => run((ctx) => devCommand(ctx, o)));
  program
    .command('demo')
    .description(
      'Migrate the demo app end to end on the embedded default, approving automatically, and print the evidence',
    )
    .option('--plan <file>', 'plan to run (default: examples/claims-bot.yaml)')
    .option('--keep-running', 'stay up afterwards to explore the Web UI (default when on a terminal)')
    .option('--no-keep-running', 'stop as soon as the migration ends')
    .option('--port <port>', 'Temporal gRPC port', port)
    .option('--ui-port <port>', 'Temporal Web UI port', port)
    .action((o: Parameters<typeof demoCommand>[1]) => run((ctx) => demoCommand(ctx, o)));
  program
    .command('worker')
    .description('Run a production worker (Temporal from TEMPORAL_* settings, Azure from DefaultAzureCredential)')
    .action(() => run((ctx) => workerCommand(ctx, {})));
  program
    .command('sim')
    .description('Run the local Azure simulator; prints one JSON line with its endpoints once ready')
    .option('--port <port>', 'HTTPS port (0 = a free one)', port, 0)
    .option('--scenario <file>', 'scenario YAML, or "demo"', 'demo')
    .option('--state-file <file>', 'keep the simulator state in this file across restarts')
    .option('--data-dir <dir>', 'certificates and signing key (default ~/.cutover/simulator)')
    .addOption(new Option('--profile <profile>', 'timing profile').choices(['fast', 'realistic']))
    .action((o: Parameters<typeof simCommand>[1]) => run((ctx) => simCommand(ctx, o)));

  // Plans.
  const plan = program.command('plan').description('Check a migration plan without changing anything');
  plan
    .command('validate <file>')
    .description('Validate the plan file, then run the read-only preflight against Azure')
    .option('--offline', 'only validate the file; do not read Azure')
    .action((file: string, o: { offline?: boolean }) => run((ctx) => planCommand(ctx, { file, ...o }, 'validate')));
  plan
    .command('show <file>')
    .description('Dry run: what would change, stage by stage, and every problem found')
    .option('--offline', 'do not read Azure')
    .action((file: string, o: { offline?: boolean }) => run((ctx) => planCommand(ctx, { file, ...o }, 'show')));

  // Migrations.
  program
    .command('start <file>')
    .description('Start the migration a plan describes; prints its workflow id and Web UI link')
    .option('--as <name>', 'who starts it (default: your user name); approvers must differ under four-eyes')
    .option('--watch', 'follow it until it ends')
    .action((file: string, o: { as?: string; watch?: boolean }) => run((ctx) => startCommand(ctx, { file, ...o })));
  program
    .command('status <migration>')
    .description('Stage table, pending gate, timings and outcome')
    .action((workflowId: string) => run((ctx) => statusCommand(ctx, { workflowId })));
  program
    .command('watch <migration>')
    .description('Follow a migration live until it ends')
    .action((workflowId: string) => run((ctx) => watchCommand(ctx, { workflowId })));
  for (const verb of ['approve', 'reject'] as const)
    program
      .command(`${verb} <migration>`)
      .description(verb === 'approve' ? 'Approve the open gate' : 'Reject the open gate: the migration rolls back')
      .option('--as <name>', 'approver name (default: your user name)')
      .option('--comment <text>', 'recorded in the evidence')
      .action((workflowId: string, o: { as?: string; comment?: string }) =>
        run((ctx) => decideCommand(ctx, { workflowId, ...o }, verb)),
      );
  program
    .command('abort <migration>')
    .description('Abort a running migration and roll back what it changed')
    .requiredOption('--reason <text>', 'why (recorded in the evidence)')
    .option('--as <name>', 'who aborts (default: your user name)')
    .action((workflowId: string, o: { reason: string; as?: string }) =>
      run((ctx) => abortCommand(ctx, { workflowId, ...o })),
    );
  program
    .command('retry <migration>')
    .description('Retry the rollback step that is blocked')
    .option('--as <name>', 'operator name (default: your user name)')
    .action((workflowId: string, o: { as?: string }) =>
      run((ctx) => compensationCommand(ctx, { workflowId, ...o }, 'retry')),
    );
  program
    .command('skip <migration>')
    .description('Skip the blocked rollback step, leaving that change in place')
    .requiredOption('--reason <text>', 'why it is safe to skip (recorded in the evidence)')
    .option('--as <name>', 'operator name (default: your user name)')
    .action((workflowId: string, o: { reason: string; as?: string }) =>
      run((ctx) => compensationCommand(ctx, { workflowId, ...o }, 'skip')),
    );
  program
    .command('list')
    .description('List migrations, filtered by search attributes')
    .option('--stage <stage>', 'current stage, e.g. propagation')
    .option('--app <name>', 'app name')
    .option('--account <name>', 'Azure OpenAI account name')
    .option('--ticket <id>', 'change ticket')
    .option(
      '--outcome <outcome>',
      'running, succeeded, rolled-back, rollback-incomplete, rollback-blocked, preflight-failed',
    )
    .option('--limit <n>', 'at most this many', positive, 50)
    .action((o: Parameters<typeof listCommand>[1]) => run((ctx) => listCommand(ctx, o)));
  program
    .command('evidence <migration>')
    .description('Write the audit record as JSON and Markdown, and print it')
    .option('--out-dir <dir>', 'folder for the files (default: the current folder)')
    .action((workflowId: string, o: { outDir?: string }) => run((ctx) => evidenceCommand(ctx, { workflowId, ...o })));
  program
    .command('inventory')
    .description('Who can call an Azure OpenAI account: data-plane role holders, and apps holding its key')
    .requiredOption('--account <name>', 'Azure OpenAI account name')
    .requiredOption('--resource-group <name>', 'its resource group')
    .option('--subscription <id>', 'its subscription (default: the dev environment’s)')
    .action((o: Parameters<typeof inventoryCommand>[1]) => run((ctx) => inventoryCommand(ctx, o)));
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  let globals: GlobalOptions = {};
  const program = buildProgram(async (fn) => {
    const ctx = createContext(globals);
    try {
      await fn(ctx);
    } catch (err) {
      code = report(err, ctx.out.format);
    }
  });
  program.hook('preAction', () => {
    const o = program.opts<{ output: OutputFormat; address?: string; namespace?: string; taskQueue?: string }>();
    globals = {
      output: o.output,
      ...(o.address ? { address: o.address } : {}),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.taskQueue ? { taskQueue: o.taskQueue } : {}),
    };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // Help shown because a command is incomplete (`cutover plan` without a verb) is a usage error.
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      if (err.code === 'commander.executeSubCommandAsync') return 1;
      return 2;
    }
    return report(err, 'text');
  }
  return code;
}

function report(err: unknown, format: OutputFormat): number {
  if (err instanceof UserError) {
    if (format === 'json')
      process.stderr.write(`${JSON.stringify({ error: err.message, hint: err.hint, details: err.details })}\n`);
    else {
      process.stderr.write(`error: ${err.message}\n`);
      for (const d of err.details) process.stderr.write(`  - ${d}\n`);
      if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    }
    return 1;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(
    `cutover: unexpected error (a bug — please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
