/**
 * The real `cutover` CLI as a subprocess (`node bin/cutover.js`, compiled by `npm test`'s build step), configured the
 * way a user configures it: Azure through the production path (`CUTOVER_ARM_ENDPOINT`, `AZURE_AUTHORITY_HOST`,
 * `CUTOVER_CA_CERT` and a service principal in `AZURE_*`, i.e. `DefaultAzureCredential`'s environment credential)
 * pointed at a test simulator, Temporal through `--address` / `--task-queue`. `HOME` and `CUTOVER_HOME` are fresh
 * folders, so no `cutover dev` environment file and no Temporal config profile of the machine is picked up.
 * Every invocation is appended to a transcript under the run's work dir, which the final secret scan reads.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { stringify } from 'yaml';
import { WORKER_PRINCIPAL } from '../../worker/embedded';
import { testEnv } from './env';
import { type Estate, ESTATE, startEstate } from './estate';
import { WAIT_MS } from './wait';

export const CLI_BIN = path.join(__dirname, '..', '..', 'bin', 'cutover.js');

export interface CliResult {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Cli {
  /** A folder of this CLI's own under the run's work dir, for plan files and evidence. */
  readonly dir: string;
  /** Runs `cutover <global options> ...args`. */
  run(...args: string[]): Promise<CliResult>;
  /** Runs `cutover -o json ...args`, asserts exit 0, and parses stdout — which must hold the JSON and nothing else. */
  json<T>(...args: string[]): Promise<T>;
  /** Writes plan-file fields as YAML; returns the path. */
  writePlan(name: string, fields: Record<string, unknown>): string;
}

/** The environment of a user pointing cutover at `estate`'s simulator as if it were Azure. */
function productionEnv(estate: Estate, home: string, caPath: string): NodeJS.ProcessEnv {
  const principal = estate.sim.control.credentials(WORKER_PRINCIPAL);
  return {
    PATH: process.env.PATH,
    HOME: home,
    CUTOVER_HOME: path.join(home, '.cutover'),
    CUTOVER_WEB_UI_URL: testEnv('temporalUiUrl'),
    CUTOVER_ARM_ENDPOINT: estate.sim.info.armEndpoint,
    CUTOVER_LOGS_ENDPOINT: estate.sim.info.logsEndpoint,
    CUTOVER_METRICS_ENDPOINT: estate.sim.info.metricsEndpoint,
    AZURE_AUTHORITY_HOST: estate.sim.info.authorityHost,
    CUTOVER_CA_CERT: caPath,
    AZURE_TENANT_ID: principal.tenantId,
    AZURE_CLIENT_ID: principal.clientId,
    AZURE_CLIENT_SECRET: principal.clientSecret,
  };
}

/** `extraEnv`: further documented settings of this user (e.g. `CUTOVER_USER`). */
export function cliFor(estate: Estate, name: string, extraEnv: NodeJS.ProcessEnv = {}): Cli {
  const dir = path.join(testEnv('workDir'), `cli-${name}-${process.pid}`);
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const caPath = path.join(dir, 'simulator-ca.pem');
  writeFileSync(caPath, estate.sim.info.caCert);
  const env = { ...productionEnv(estate, home, caPath), ...extraEnv };
  const globals = ['--address', testEnv('temporalAddress'), '--task-queue', estate.temporal.taskQueue];
  const transcript = path.join(dir, 'transcript.log');
  const cli: Cli = {
    dir,
    async run(...args) {
      const result = await runCli([...globals, ...args], env, dir);
      appendFileSync(
        transcript,
        `$ cutover ${args.join(' ')}\n${result.stdout}${result.stderr}[exit ${result.code}]\n\n`,
      );
      return result;
    },
    async json<T>(...args: string[]) {
      const result = await cli.run('-o', 'json', ...args);
      assert.equal(result.code, 0, `cutover ${args.join(' ')} failed:\n${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    writePlan(file, fields) {
      const planPath = path.join(dir, `${file}.yaml`);
      writeFileSync(planPath, stringify(fields));
      return planPath;
    },
  };
  return cli;
}

/** Runs the compiled CLI with exactly `env` (nothing inherited) in `cwd`. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = WAIT_MS) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr });
    });
  });
}

/**
 * A user mistake: exit 1, an `error:` line and a `hint:` line on stderr, nothing else — never a stack trace.
 * Returns the error line.
 */
export function assertUserError(result: CliResult, message: RegExp): string {
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(result.code, 1, `exit code of cutover ${result.args.join(' ')}; stderr:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(result.stderr, /unexpected error/, 'not reported as a bug');
  const error = lines.find((l) => l.startsWith('error: '));
  assert.ok(error, `an error line in:\n${result.stderr}`);
  assert.match(error, message);
  assert.ok(
    lines.some((l) => l.startsWith('hint: ')),
    `a hint in:\n${result.stderr}`,
  );
  return error;
}

/**
 * A malformed command line: exit 2, one `error:` line (and commander's pointer to --help) — or, for a command
 * group without its verb (`cutover plan`), the group's usage — on stderr, no stack.
 */
export function assertUsageError(result: CliResult): void {
  assert.equal(result.code, 2, `exit code of cutover ${result.args.join(' ')}; stderr:\n${result.stderr}`);
  assert.match(result.stderr, /^(error: .*\n\(run with --help for usage\)\n$|Usage: )/);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(result.stdout, '', 'nothing on stdout');
}

/**
 * An estate (scenario `scenario`) and a CLI user for the enclosing `describe`: started before its tests, closed
 * after them. Read `estate` and `cli` inside tests only.
 */
export function cliEstate(
  name: string,
  cliName: string,
  scenario = ESTATE,
): { readonly estate: Estate; readonly cli: Cli } {
  let started: { estate: Estate; cli: Cli } | undefined;
  before(async () => {
    const estate = await startEstate(name, scenario);
    started = { estate, cli: cliFor(estate, cliName) };
  });
  after(async () => {
    await started?.estate.close();
  });
  const get = () => {
    if (!started) throw new Error(`the ${name} estate is not started yet`);
    return started;
  };
  return {
    get estate() {
      return get().estate;
    },
    get cli() {
      return get().cli;
    },
  };
}

/** The ARM requests sent to the estate's simulator since request number `from` that would change something. */
export function armChangesSince(estate: Estate, from: number) {
  return estate.sim.control
    .requests()
    .slice(from)
    .filter((r) => r.surface === 'arm' && /\/(write|delete)$|slotsswap|restart|regenerateKey/.test(r.operation ?? ''));
}

/**
 * `cutover plan show` of a plan that must pass: writes `fields` as plan `name`, runs it, checks it exited 0 with a
 * passed preflight, and checks it sent no change to Azure. Returns what it printed.
 */
export async function showPassingPlan(
  env: { readonly estate: Estate; readonly cli: Cli },
  name: string,
  fields: Record<string, unknown>,
): Promise<{ file: string; stdout: string }> {
  const file = env.cli.writePlan(name, fields);
  const from = env.estate.sim.control.requests().length;
  const text = await env.cli.run('plan', 'show', file);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /valid; preflight passed/);
  assert.deepEqual(armChangesSince(env.estate, from), [], 'a dry run sends no change to Azure');
  return { file, stdout: text.stdout };
}
