/**
 * The browser for the Web UI tests: Debian's headless Chromium driven by playwright-core (Playwright's own browser
 * download cannot work here, so `npx playwright install` is never used).
 * - test/run.ts calls `ensureChromium` once before the suite: when the browser is missing and this is root with
 *   apt-get, it installs Debian's `chromium` package;
 * - a browser test calls `chromiumOrSkip` first: it fails with the package to install when the browser is still
 *   missing, or returns a skip reason when CUTOVER_SKIP_BROWSER=1.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_PACKAGE = 'chromium';
/** Set to 1 to skip the browser tests (they print why) instead of installing or requiring Chromium. */
export const SKIP_BROWSER_ENV = 'CUTOVER_SKIP_BROWSER';

/** Headless, no sandbox (tests run as root), nothing that reaches the network on its own. */
export const CHROMIUM_LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export function browserSkipped(): boolean {
  return process.env[SKIP_BROWSER_ENV] === '1';
}

/** True when a test file among `files` needs the browser: they live under `<testDir>/ui/`. */
export function needsBrowser(testDir: string, files: readonly string[]): boolean {
  return files.some((f) => path.relative(testDir, f).split(path.sep)[0] === 'ui');
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

/** Runs a command without a shell; resolves with its exit code and its output (stdout and stderr, interleaved). */
function run(cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

function tail(output: string, lines = 15): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Makes sure /usr/bin/chromium exists: installs Debian's package when it is missing and this process is root with
 * apt-get (one `apt-get update`, then the install). Never throws: when the browser cannot be had it logs why, and
 * the browser tests fail with the same advice.
 */
export async function ensureChromium(log: (message: string) => void): Promise<void> {
  if (browserSkipped()) {
    log(`${SKIP_BROWSER_ENV}=1: browser tests will be skipped`);
    return;
  }
  if (existsSync(CHROMIUM_PATH)) {
    log(`browser: ${CHROMIUM_PATH}`);
    return;
  }
  const aptGet = which('apt-get');
  if (process.getuid?.() !== 0 || !aptGet) {
    log(`${CHROMIUM_PATH} is missing and cannot be installed here (needs root and apt-get): ${missingAdvice()}`);
    return;
  }
  log(`${CHROMIUM_PATH} is missing: apt-get update`);
  const update = await run(aptGet, ['update']);
  if (update.code !== 0) {
    log(`apt-get update failed (exit ${update.code}):\n${tail(update.output)}`);
    return;
  }
  log(`apt-get install -y --no-install-recommends ${CHROMIUM_PACKAGE}`);
  const install = await run(aptGet, ['install', '-y', '--no-install-recommends', CHROMIUM_PACKAGE]);
  if (install.code !== 0 || !existsSync(CHROMIUM_PATH)) {
    log(`apt-get install ${CHROMIUM_PACKAGE} failed (exit ${install.code}):\n${tail(install.output)}`);
    return;
  }
  const summary = /^\d+ upgraded, \d+ newly installed.*$/m.exec(install.output)?.[0].replace(/\.$/, '');
  log(`installed ${CHROMIUM_PACKAGE}${summary ? ` (${summary})` : ''}: ${CHROMIUM_PATH}`);
}

function missingAdvice(): string {
  return (
    `install Debian's \`${CHROMIUM_PACKAGE}\` package (apt-get install -y --no-install-recommends ${CHROMIUM_PACKAGE}), ` +
    `or set ${SKIP_BROWSER_ENV}=1 to skip the browser tests`
  );
}

/**
 * For a browser test's first line: a reason to skip (CUTOVER_SKIP_BROWSER=1), or undefined when Chromium is there.
 * Throws, naming the package, when it is not.
 */
export function chromiumOrSkip(): string | undefined {
  if (browserSkipped()) return `${SKIP_BROWSER_ENV}=1: browser tests skipped on request`;
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found: ${missingAdvice()}`);
  return undefined;
}
