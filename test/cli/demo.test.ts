/**
 * The README's main job, as a newcomer runs it: `cutover demo` starts its own embedded environment (Temporal dev
 * server with the Web UI, the simulator with the demo scenario, a worker), migrates the demo app with both gates
 * approved automatically, and prints the evidence. Nothing it prints or writes may hold a simulator secret.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEMO_APPROVER } from '../../cli/commands/demo';
import { freePort } from '../../worker/dev-server';
import type { Evidence } from '../../workflows/types';
import { testEnv } from '../support/env';
import { recordSecrets } from '../support/estate';
import { runCli } from '../support/cli';

test('cutover demo: the embedded default migrates the demo app and prints the evidence', async () => {
  const dir = mkdtempSync(path.join(testEnv('workDir'), 'demo-'));
  const home = path.join(dir, '.cutover');
  const [port, uiPort] = [await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    CUTOVER_HOME: home,
    // The run's Temporal CLI, so the demo does not install its own copy into this fresh HOME.
    TEMPORAL_CLI_PATH: testEnv('temporalCliPath'),
  };
  const { code, stdout, stderr } = await runCli(
    ['demo', '--no-keep-running', '--port', String(port), '--ui-port', String(uiPort)],
    env,
    dir,
    150_000,
  );
  writeFileSync(path.join(dir, 'demo-transcript.log'), `${stdout}\n${stderr}`);

  // Every secret the demo's simulator held, from its kept state, for the checks below and the final scan.
  const saved = JSON.parse(readFileSync(path.join(home, 'dev', 'simulator-state.json'), 'utf8')) as {
    state: {
      accounts: Record<string, { key1: string; key2: string }>;
      principals: Record<string, { secret?: string }>;
    };
  };
  const secrets = [
    ...Object.values(saved.state.accounts).flatMap((a) => [a.key1, a.key2]),
    ...Object.values(saved.state.principals).flatMap((p) => (p.secret ? [p.secret] : [])),
  ];
  recordSecrets('demo', secrets);

  assert.equal(code, 0, stderr);
  assert.match(stderr, new RegExp(`Temporal Web UI +http://127\\.0\\.0\\.1:${uiPort}`));
  assert.match(stderr, /Azure simulator +https:\/\/127\.0\.0\.1:\d+ \(demo scenario/);
  assert.match(stderr, /approving "Swap settings \(remove the key\)"/);
  assert.match(stdout, /# Evidence: CHG-1042/);
  assert.match(stdout, /\*\*Outcome:\*\* succeeded/);
  assert.match(stdout, new RegExp(`Web UI: +http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/`));

  const files = readdirSync(path.join(home, 'evidence'));
  const json = files.find((f) => f.endsWith('.json') && !f.includes('.tmp'));
  assert.ok(json && files.some((f) => f.endsWith('.md')), `evidence JSON and Markdown written: ${files.join(', ')}`);
  const evidence = JSON.parse(readFileSync(path.join(home, 'evidence', json), 'utf8')) as Evidence;
  assert.equal(evidence.outcome, 'succeeded');
  assert.deepEqual(
    evidence.approvals.map((a) => [a.gate, a.by]),
    [
      ['settings', DEMO_APPROVER],
      ['local-auth', DEMO_APPROVER],
    ],
  );
  assert.equal(evidence.localAuth.after, true);
  assert.ok(!existsSync(path.join(home, 'dev', 'environment.json')), 'the demo removed its dev environment file');

  for (const s of secrets) {
    assert.ok(!stdout.includes(s) && !stderr.includes(s), 'no simulator secret in the demo output');
    assert.ok(
      !readFileSync(path.join(home, 'evidence', json), 'utf8').includes(s),
      'no simulator secret in the evidence',
    );
  }
});
