/**
 * The README's main job, as a newcomer runs it: `cutover demo` starts its own throwaway environment (in-memory
 * Temporal dev server with the Web UI, the simulator with the demo scenario, a worker), migrates the demo app with
 * both gates approved automatically, prints the evidence, and stays up for the Web UI until Ctrl-C. Nothing it prints
 * or writes may hold a simulator secret, and it leaves no file behind but the evidence.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEMO_APPROVER } from '../../cli/commands/demo';
import { freePort } from '../../worker/dev-server';
import type { Evidence } from '../../contracts/model';
import { freshUser, recordSimulatorSecrets, startCliProcess } from './support';
import { WAIT_MS } from '../support/wait';

test('cutover demo: a throwaway environment migrates the demo app and prints the evidence', async () => {
  const { dir, home, env } = freshUser('demo');
  const [port, uiPort] = [await freePort(), await freePort()];
  const demo = startCliProcess(
    ['demo', '--keep-running', '--port', String(port), '--ui-port', String(uiPort)],
    env,
    dir,
    path.join(dir, 'demo-transcript.log'),
  );
  let secrets: string[] = [];
  try {
    await demo.waitFor('stderr', /press Ctrl-C to stop/, 2 * WAIT_MS);
    // Every secret the demo's simulator held, while it is still up, for the checks below and the final scan.
    const control = (await demo.waitFor('stderr', /control (https:\/\/127\.0\.0\.1:\d+\/_control)\)/))[1];
    secrets = await recordSimulatorSecrets('demo', control, path.join(home, 'simulator', 'ca.pem'));
    assert.ok(secrets.length > 0);
  } finally {
    assert.equal(await demo.stop(), 0, demo.stderr());
  }
  const [stdout, stderr] = [demo.stdout(), demo.stderr()];
  assert.match(stderr, new RegExp(`Temporal Web UI +http://127\\.0\\.0\\.1:${uiPort}`));
  assert.match(stderr, new RegExp(`Temporal dev server +127\\.0\\.0\\.1:${port} \\(namespace default, in memory\\)`));
  assert.match(stderr, /Azure simulator +https:\/\/127\.0\.0\.1:\d+ \(demo scenario/);
  assert.doesNotMatch(stderr, /is in use/, 'the ports asked for were free, so they were used');
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
  assert.ok(!existsSync(path.join(home, 'dev')), 'the demo wrote nothing of the dev environment’s');
  assert.deepEqual(readdirSync(path.join(home, 'ephemeral')), [], 'its private files are gone');

  for (const s of secrets) {
    assert.ok(!stdout.includes(s) && !stderr.includes(s), 'no simulator secret in the demo output');
    assert.ok(
      !readFileSync(path.join(home, 'evidence', json), 'utf8').includes(s),
      'no simulator secret in the evidence',
    );
  }
});
