/**
 * The `cutover` command line. One top-level error handler: a user mistake prints one clear line (and a hint) and
 * exits 1, a malformed command line exits 2, a bug prints its stack and exits 1.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Help, Option } from 'commander';
import type { GlobalOptions } from './context';
import { UsageError, UserError } from './errors';
import type { Run } from './options';
import type { OutputFormat } from './output';
import { examples } from './options';
import { packageRoot } from './package-root';
import { registerAbort } from './definitions/abort';
import { registerDecide } from './definitions/decide';
import { registerDemo } from './definitions/demo';
import { registerDev } from './definitions/dev';
import { registerEvidence } from './definitions/evidence';
import { registerFleet } from './definitions/fleet';
import { registerHistory } from './definitions/history';
import { registerInventory } from './definitions/inventory';
import { registerList } from './definitions/list';
import { registerPlan } from './definitions/plan';
import { registerRetry } from './definitions/retry';
import { registerReview } from './definitions/review';
import { registerRevoke } from './definitions/revoke';
import { registerSim } from './definitions/sim';
import { registerSkip } from './definitions/skip';
import { registerStart } from './definitions/start';
import { registerStatus } from './definitions/status';
import { registerWatch } from './definitions/watch';
import { registerWorker } from './definitions/worker';

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(run: Run): Command {
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
      `\n<migration> is a workflow id (cutover/<kind>/<subscription>/<resource group>/<app>) or just the app name.${examples(
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

  // Environment, plans, then migrations: the order `cutover --help` lists them in.
  registerDev(program, run);
  registerDemo(program, run);
  registerWorker(program, run);
  registerSim(program, run);
  registerPlan(program, run);
  registerStart(program, run);
  registerStatus(program, run);
  registerWatch(program, run);
  registerDecide(program, run, 'approve');
  registerDecide(program, run, 'reject');
  registerAbort(program, run);
  registerRetry(program, run);
  registerSkip(program, run);
  registerList(program, run);
  registerRevoke(program, run);
  registerReview(program, run);
  registerHistory(program, run);
  registerEvidence(program, run);
  registerFleet(program, run);
  registerInventory(program, run);
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
  // What a command needs is loaded when it runs (the `.js`: a dynamic import resolves like ESM), so that `--help`,
  // `--version` and a usage error load commander and the command definitions only.
  const program = buildProgram(async (fn) => {
    const { createContext } = await import('./context.js');
    const ctx = createContext(globals);
    try {
      await fn(ctx);
    } catch (err) {
      const { asUserError } = await import('./client-errors.js');
      code = report(asUserError(err), ctx.out.format);
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
