/**
 * The `cutover` command line. One top-level error handler: a user mistake prints one clear line (and a hint) and
 * exits 1, a malformed command line exits 2, a bug prints its stack and exits 1.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import { type CliContext, createContext, type GlobalOptions } from './context';
import { UsageError, UserError } from './errors';
import type { OutputFormat } from './output';
import { demoCommand } from './commands/demo';
import { devCommand, simCommand, workerCommand } from './commands/environment';
import { inventoryCommand } from './commands/inventory';
import { listCommand } from './commands/list';
import {
  abortCommand,
  compensationCommand,
  decideCommand,
  evidenceCommand,
  statusCommand,
  watchCommand,
} from './commands/migrations';
import { planCommand } from './commands/plan';
import { startCommand } from './commands/start';
import { OUTCOMES } from './outcome';
import type { GateId } from '../contracts/model';
import { packageRoot } from './package-root';

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

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** "Examples:" after a command's help: real command lines, one per line. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

const AS_HELP = '(required unless CUTOVER_USER is set)';

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
    .version(packageVersion(), '-V, --version', 'print the cutover version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `\n<migration> is a workflow id (cutover/<subscription>/<resource group>/<app>) or just the app name.${examples(
        'cutover demo',
        'cutover plan show examples/claims-bot.yaml',
        'cutover start examples/claims-bot.yaml --as alice',
      )}`,
    )
    .configureHelp({
      sortSubcommands: false,
      // Subcommand help lists -o, --address, … too, and says which options must be given.
      showGlobalOptions: true,
      optionDescription: (option) => {
        const text = Help.prototype.optionDescription.call(new Help(), option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
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
    .option('--no-worker', 'run no embedded worker (start `cutover worker` against this environment instead)')
    .addHelpText(
      'after',
      examples(
        'cutover dev',
        'cutover dev --reset',
        'cutover dev --no-worker   (then `cutover worker` in another terminal)',
      ),
    )
    .action((o: Parameters<typeof devCommand>[1]) => run((ctx) => devCommand(ctx, o)));
  program
    .command('demo')
    .description(
      'Migrate the demo app end to end on a throwaway environment of its own, approving automatically, and print the evidence',
    )
    .option('--plan <file>', 'plan to run (default: examples/claims-bot.yaml)')
    .option('--keep-running', 'stay up afterwards to explore the Web UI (default when on a terminal)')
    .option('--no-keep-running', 'stop as soon as the migration ends')
    .option('--port <port>', 'Temporal gRPC port, if free (default: 7233, else a free one)', port)
    .option('--ui-port <port>', 'Temporal Web UI port, if free (default: 8233, else a free one)', port)
    .addHelpText(
      'after',
      examples(
        'cutover demo',
        'cutover demo --no-keep-running',
        'cutover demo --plan examples/claims-bot-uami-slot-swap.yaml',
      ),
    )
    .action((o: Parameters<typeof demoCommand>[1]) => run((ctx) => demoCommand(ctx, o)));
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
    .action(() => run((ctx) => workerCommand(ctx, {})));
  program
    .command('sim')
    .description('Run the local Azure simulator; prints one JSON line with its endpoints once ready')
    .option('--port <port>', 'HTTPS port (0 = a free one)', port, 0)
    .option('--scenario <file>', 'scenario YAML, or "demo"', 'demo')
    .option('--state-file <file>', 'keep the simulator state in this file across restarts')
    .option('--data-dir <dir>', 'certificates and signing key (default ~/.cutover/simulator)')
    .addOption(new Option('--profile <profile>', 'timing profile').choices(['fast', 'realistic']))
    .addHelpText('after', examples('cutover sim', 'cutover sim --port 8443 --state-file ./sim-state.json'))
    .action((o: Parameters<typeof simCommand>[1]) => run((ctx) => simCommand(ctx, o)));

  // Plans.
  const plan = program.command('plan').description('Check a migration plan without changing anything');
  plan
    .command('validate')
    .argument('<file>', 'the plan (YAML or JSON)')
    .description('Validate the plan file, then run the read-only preflight against Azure')
    .option('--offline', 'only validate the file; do not read Azure')
    .addHelpText(
      'after',
      examples('cutover plan validate examples/claims-bot.yaml', 'cutover plan validate my-plan.yaml --offline'),
    )
    .action((file: string, o: { offline?: boolean }) => run((ctx) => planCommand(ctx, { file, ...o }, 'validate')));
  plan
    .command('show')
    .argument('<file>', 'the plan (YAML or JSON)')
    .description('Dry run: what would change, stage by stage, and every problem found')
    .option('--offline', 'do not read Azure')
    .addHelpText(
      'after',
      examples('cutover plan show examples/claims-bot.yaml', 'cutover -o json plan show my-plan.yaml'),
    )
    .action((file: string, o: { offline?: boolean }) => run((ctx) => planCommand(ctx, { file, ...o }, 'show')));

  // Migrations.
  const migration = [
    '<migration>',
    'workflow id (cutover/<subscription>/<resource group>/<app>) or the app name',
  ] as const;
  program
    .command('start')
    .argument('<file>', 'the plan (YAML or JSON)')
    .description(
      'Start the migration a plan describes and wait for its preflight; prints its workflow id and Web UI link',
    )
    .option('--as <name>', `who starts it ${AS_HELP}; approvers must differ under four-eyes`)
    .option('--watch', 'follow it until it ends')
    .addHelpText(
      'after',
      examples(
        'cutover start examples/claims-bot.yaml --as alice',
        'cutover start my-plan.yaml --as alice --watch',
        'CUTOVER_USER=alice cutover -o json start my-plan.yaml',
      ),
    )
    .action((file: string, o: { as?: string; watch?: boolean }) => run((ctx) => startCommand(ctx, { file, ...o })));
  program
    .command('status')
    .argument(...migration)
    .description('Stage table, pending gate, timings and outcome')
    .addHelpText('after', examples('cutover status claims-bot', 'cutover -o json status claims-bot'))
    .action((workflowId: string) => run((ctx) => statusCommand(ctx, { workflowId })));
  program
    .command('watch')
    .argument(...migration)
    .description('Follow a migration live until it ends')
    .addHelpText('after', examples('cutover watch claims-bot'))
    .action((workflowId: string) => run((ctx) => watchCommand(ctx, { workflowId })));
  for (const verb of ['approve', 'reject'] as const)
    program
      .command(verb)
      .argument(...migration)
      .description(verb === 'approve' ? 'Approve the open gate' : 'Reject the open gate: the migration rolls back')
      .option('--as <name>', `${verb === 'approve' ? 'approver' : 'who rejects'} ${AS_HELP}`)
      .addOption(
        new Option(
          '--gate <gate>',
          'the gate meant; refused unless it is the one open (default: the open one)',
        ).choices(['settings', 'local-auth']),
      )
      .option('--comment <text>', 'recorded in the evidence')
      .addHelpText(
        'after',
        verb === 'approve'
          ? examples(
              'cutover approve claims-bot --as bob --gate settings --comment "CAB-2231 approved"',
              'cutover approve claims-bot --as bob --gate local-auth',
            )
          : examples('cutover reject claims-bot --as bob --gate settings --comment "change freeze this week"'),
      )
      .action((workflowId: string, o: { as?: string; gate?: GateId; comment?: string }) =>
        run((ctx) => decideCommand(ctx, { workflowId, ...o }, verb)),
      );
  program
    .command('abort')
    .argument(...migration)
    .description('Abort a running migration and roll back what it changed')
    .requiredOption('--reason <text>', 'why (recorded in the evidence)')
    .option('--as <name>', `who aborts ${AS_HELP}`)
    .addHelpText('after', examples('cutover abort claims-bot --as oncall --reason "incident INC-42: app errors"'))
    .action((workflowId: string, o: { reason: string; as?: string }) =>
      run((ctx) => abortCommand(ctx, { workflowId, ...o })),
    );
  program
    .command('retry')
    .argument(...migration)
    .description('Retry the rollback step that is blocked')
    .option('--as <name>', `operator name ${AS_HELP}`)
    .addHelpText('after', examples('cutover retry claims-bot --as oncall'))
    .action((workflowId: string, o: { as?: string }) =>
      run((ctx) => compensationCommand(ctx, { workflowId, ...o }, 'retry')),
    );
  program
    .command('skip')
    .argument(...migration)
    .description('Skip the blocked rollback step, leaving that change in place')
    .requiredOption('--reason <text>', 'why it is safe to skip (recorded in the evidence)')
    .option('--as <name>', `operator name ${AS_HELP}`)
    .addHelpText(
      'after',
      examples('cutover skip claims-bot --as oncall --reason "role assignment removed by hand (CHG-1043)"'),
    )
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
    .action((o: Parameters<typeof listCommand>[1]) => run((ctx) => listCommand(ctx, o)));
  program
    .command('evidence')
    .argument(...migration)
    .description('Write the audit record as JSON and Markdown, and print it')
    .option('--out-dir <dir>', 'folder for the files (default: the current folder)')
    .addHelpText('after', examples('cutover evidence claims-bot --out-dir ./evidence'))
    .action((workflowId: string, o: { outDir?: string }) => run((ctx) => evidenceCommand(ctx, { workflowId, ...o })));
  program
    .command('inventory')
    .description('Who can call an Azure OpenAI account: data-plane role holders, and apps holding its key')
    .requiredOption('--account <name>', 'Azure OpenAI account name')
    .requiredOption('--resource-group <name>', 'its resource group')
    .option('--subscription <id>', 'its subscription (default: the dev environment’s)')
    .addHelpText(
      'after',
      examples(
        'cutover inventory --account claims-openai --resource-group rg-claims',
        'cutover inventory --account claims-openai --resource-group rg-claims --subscription 5b2e8c1d-9f3a-4b6e-a7c2-8d1e4f0a3b95',
      ),
    )
    .action((o: Parameters<typeof inventoryCommand>[1]) => run((ctx) => inventoryCommand(ctx, o)));
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[]): Promise<number> {
  // `cutover … | head` closes stdout early: that is the reader's choice, not a crash.
  process.stdout.once('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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
