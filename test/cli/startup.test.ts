/**
 * What the CLI loads before it does any work: `--help`, `status --help`, `--version` and a usage error load commander
 * and the command definitions, never the Temporal or Azure SDKs, the plan schema, the worker or the simulator — each
 * command's code is imported when it runs. (How long that takes is a benchmark, `npm run bench:cli`, not a test.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';

const root = path.join(__dirname, '..', '..');

/** Runs the compiled CLI's main() in a fresh node and returns its exit code and every module it loaded. */
function loadedBy(args: readonly string[]): { code: number; modules: string[] } {
  const script = `
    const { main } = require(${JSON.stringify(path.join(root, 'dist', 'cli', 'main.js'))});
    main(${JSON.stringify(args)}).then((code) => {
      process.stderr.write('\\nLOADED ' + JSON.stringify({ code, modules: Object.keys(require.cache) }) + '\\n');
    });`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: path.join(root, 'dist', '.startup-test-home') },
    encoding: 'utf8',
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  assert.ok(line, `main() returned:\n${r.stderr}`);
  return JSON.parse(line.slice('LOADED '.length)) as { code: number; modules: string[] };
}

const HEAVY = [
  /node_modules\/@temporalio\//,
  /node_modules\/@azure\//,
  /node_modules\/zod\//,
  /dist\/(worker|simulator|azure|activities|workflows)\//,
  /dist\/cli\/commands\//,
];

describe('cutover loads a command’s code only when it runs', () => {
  for (const [args, code] of [
    [['--help'], 0],
    [['status', '--help'], 0],
    [['history', '--help'], 0],
    [['--version'], 0],
    [['status'], 2],
  ] as const)
    test(`cutover ${args.join(' ')}`, () => {
      const loaded = loadedBy(args);
      assert.equal(loaded.code, code);
      assert.ok(
        loaded.modules.some((m) => m.includes('node_modules/commander/')),
        'the check sees what was loaded',
      );
      const heavy = loaded.modules.filter((m) => HEAVY.some((h) => h.test(m)));
      assert.deepEqual(heavy, [], 'nothing but commander and the command definitions');
    });

  test('a command that runs loads its code (and the Temporal client) then', () => {
    const loaded = loadedBy(['--address', '127.0.0.1:1', 'status', 'claims-bot']);
    assert.equal(loaded.code, 1, 'Temporal is unreachable');
    assert.ok(loaded.modules.some((m) => m.endsWith(path.join('dist', 'cli', 'commands', 'status.js'))));
    assert.ok(loaded.modules.some((m) => m.includes('node_modules/@temporalio/client/')));
    assert.ok(!loaded.modules.some((m) => /node_modules\/@azure\/|dist\/(worker\/embedded|simulator)/.test(m)));
  });
});
