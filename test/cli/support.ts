/**
 * Long-running CLI processes for the tests of test/cli/: `cutover dev` and a `cutover demo` that stays up, each
 * the compiled CLI in a fresh HOME, configured only through documented settings, with its output kept (and
 * written to the run's work dir for the final secret scan).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { testEnv } from '../support/env';
import { recordSecrets } from '../support/estate';
import { CLI_BIN } from '../support/cli';
import { WAIT_MS } from '../support/wait';

/** A fresh HOME and CUTOVER_HOME under the run's work dir, with the run's Temporal CLI (no download). */
export function freshUser(name: string): { dir: string; home: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(testEnv('workDir'), `${name}-`));
  const home = path.join(dir, '.cutover');
  return {
    dir,
    home,
    env: { PATH: process.env.PATH, HOME: dir, CUTOVER_HOME: home, TEMPORAL_CLI_PATH: testEnv('temporalCliPath') },
  };
}

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the match once stdout or stderr (as chosen) matches; rejects if the process exits first. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGINT (Ctrl-C), then the exit code; writes the transcript to `transcript`. */
  stop(): Promise<number | null>;
}

export function startCliProcess(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, transcript: string) {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const save = () => writeFileSync(transcript, `$ cutover ${args.join(' ')}\n${out.stdout}\n${out.stderr}`);
  const proc: CliProcess = {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    async waitFor(stream, pattern, timeoutMs = WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out[stream]);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) {
          save();
          throw new Error(
            `cutover ${args.join(' ')}: ${pattern} not seen (${child.exitCode === null ? 'timeout' : `exit ${child.exitCode}`}):\n${out.stdout}\n${out.stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      const code = await exited;
      clearTimeout(timer);
      save();
      return code;
    },
  };
  return proc;
}

/** Every secret a running simulator holds or issued, through its control API, recorded for the final scan. */
export async function recordSimulatorSecrets(name: string, controlUrl: string, caCertPath: string): Promise<string[]> {
  const ca = readFileSync(caCertPath, 'utf8');
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get(`${controlUrl}/secrets`, { ca }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
  const secrets = JSON.parse(body) as string[];
  recordSecrets(name, secrets);
  return secrets;
}
