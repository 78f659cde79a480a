/**
 * `cutover sim` as a user runs it: the compiled CLI as a subprocess, its one JSON line on stdout once ready, the
 * demo scenario's apps on the runtime `--app-runtime` chose, Ctrl-C to stop it (exit 0); a runtime it does not know
 * is refused before anything starts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli';
import { httpsJson } from '../simulator/support';
import { freshUser, recordSimulatorSecrets, startCliProcess } from './support';

test('cutover sim --app-runtime in-process: one ready line, the apps in the simulator’s process, Ctrl-C stops it', async () => {
  const { dir, home, env } = freshUser('sim');
  const sim = startCliProcess(
    ['sim', '--port', '0', '--data-dir', path.join(home, 'simulator'), '--app-runtime', 'in-process'],
    env,
    dir,
    path.join(dir, 'sim-transcript.log'),
  );
  try {
    const [line] = await sim.waitFor('stdout', /^\{.*\}\n/);
    const ready = JSON.parse(line) as { armEndpoint: string; controlUrl: string; caCertPath: string };
    await recordSimulatorSecrets('cli-sim', ready.controlUrl, ready.caCertPath);
    const ca = readFileSync(ready.caCertPath, 'utf8');
    const state = (await httpsJson(`${ready.controlUrl}/state`, ca)).body as {
      apps: Record<string, { runtime: string; pid?: number }>;
    };
    const apps = Object.values(state.apps);
    assert.ok(apps.length >= 2, 'the demo scenario’s apps run');
    assert.deepEqual([...new Set(apps.map((a) => a.runtime))], ['in-process']);
    assert.ok(
      apps.every((a) => a.pid === undefined),
      'no app process',
    );
    const health = await httpsJson(`${ready.armEndpoint}/sites/claims-bot/health`, ca);
    assert.equal(health.status, 200);
  } finally {
    assert.equal(await sim.stop(), 0, sim.stderr());
  }
  assert.equal(sim.stdout().trim().split('\n').length, 1, 'exactly one line on stdout');

  const bad = await runCli(['sim', '--app-runtime', 'threads'], env, dir);
  assert.equal(bad.code, 2, 'a usage error');
  assert.match(bad.stderr, /--app-runtime.*'threads' is invalid\. Allowed choices are process, in-process/);
});
