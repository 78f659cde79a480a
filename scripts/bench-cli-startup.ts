/**
 * Benchmark: how long the CLI takes to answer before it does any work — `cutover --help`, `cutover status --help`
 * and `cutover --version`, each run as users run it (`node bin/cutover.js`, the compiled dist/ that `npm ci` builds)
 * as a fresh subprocess, N times. Prints the median and p90 wall-clock time of each, and their ratio to a bound;
 * `node -e 0` first, for scale.
 * Run `npm run build` first when the sources changed.
 *
 *   npm run bench:cli -- [--runs 15] [--bound-ms 400] [--address HOST:PORT [--migration APP]]
 *
 * With --address (a Temporal frontend, e.g. a running `cutover dev`), also `cutover --address … status APP`
 * (default claims-bot): connecting and answering, or saying that there is no such migration (exit 1).
 *
 * A figure, not a test: nothing here fails on a slow machine (other processes share the cores).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'cutover.js');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    'bound-ms': { type: 'string', default: '400' },
    address: { type: 'string' },
    migration: { type: 'string', default: 'claims-bot' },
  },
});
const runs = Number(values.runs);
const boundMs = Number(values['bound-ms']);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');
if (!(boundMs > 0)) throw new Error('--bound-ms must be a positive number');
if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('no dist/: run `npm run build` first');

const COMMANDS: readonly (readonly string[])[] = [
  ['--help'],
  ['status', '--help'],
  ['--version'],
  ...(values.address ? [['--address', values.address, 'status', values.migration]] : []),
];

/** What the row says: the command line as a user types it (`--address …` shortened). */
function label(args: readonly string[]): string {
  if (args[0] === '-e') return 'node -e 0 (floor)';
  return `cutover ${args.map((a, i) => (args[i - 1] === '--address' ? '…' : a)).join(' ')}`;
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** One invocation's wall-clock time in ms (spawn to exit), with an empty HOME so no dev environment is read. */
function timeOnce(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args[0] === '-e' ? args : [bin, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: path.join(root, 'dist', '.bench-home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // `status` of a migration that does not exist exits 1 after asking the server: it still measures the round trip.
  const ok =
    r.status === 0 || (args.includes('--address') && r.status === 1 && /no migration/.test(r.stderr.toString()));
  if (!ok) throw new Error(`cutover ${args.join(' ')} exited ${r.status}:\n${r.stderr.toString()}`);
  return ms;
}

console.log(`cutover CLI startup: ${runs} runs each of node bin/cutover.js …, bound ${boundMs} ms`);
console.log(`${'command'.padEnd(40)}${'median ms'.padStart(10)}${'p90 ms'.padStart(10)}${'median/bound'.padStart(14)}`);
// What node itself costs on this machine, for scale: the floor no CLI change can go below.
for (const args of [['-e', '0'], ...COMMANDS]) {
  timeOnce(args); // warm the file cache
  const times = Array.from({ length: runs }, () => timeOnce(args)).sort((a, b) => a - b);
  const median = percentile(times, 50);
  const p90 = percentile(times, 90);
  console.log(
    `${label(args).padEnd(40)}${median.toFixed(0).padStart(10)}${p90.toFixed(0).padStart(10)}${(median / boundMs).toFixed(2).padStart(14)}`,
  );
}
