/**
 * `cutover dev` as the README's second step uses it, with a `cutover demo` run beside it: the demo runs its own
 * throwaway environment (its ports moved off the ones `cutover dev` holds) and leaves the dev environment's running
 * migration, simulator state, credentials file and address book exactly as they were. Then, once the app is
 * migrated in `cutover dev`, `plan show` of the same plan fails — and its hint names `cutover dev --reset`, which
 * brings the plan back. Everything through the compiled CLI, configured only by what the README documents.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { PlanReport } from '../../cli/commands/plan';
import type { StartResult } from '../../cli/commands/start';
import type { StatusResult } from '../../cli/commands/status';
import { freePort } from '../../worker/dev-server';
import { runCli } from '../support/cli';
import { freshUser, recordSimulatorSecrets, startCliProcess } from './support';
import { WAIT_MS } from '../support/wait';

const PLAN = path.join(__dirname, '..', '..', 'examples', 'claims-bot.yaml');

test('cutover demo beside a running cutover dev leaves it alone; a migrated dev app hints at --reset', async () => {
  const { dir, home, env } = freshUser('dev-demo');
  const [port, uiPort] = [await freePort(), await freePort()];
  const cli = (...args: string[]) => runCli(args, env, dir);
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await cli('-o', 'json', ...args);
    assert.equal(r.code, 0, `cutover ${args.join(' ')}:\n${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const statusWhen = async (pred: (s: StatusResult) => boolean, what: string) => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const s = await json<StatusResult>('status', 'claims-bot');
      if (pred(s)) return s;
      if (Date.now() > deadline) throw new Error(`${what} not reached: ${JSON.stringify(s.progress)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const startDev = async (name: string, ...extra: string[]) => {
    const dev = startCliProcess(
      ['dev', '--port', String(port), '--ui-port', String(uiPort), ...extra],
      env,
      dir,
      path.join(dir, `${name}-transcript.log`),
    );
    const control = (await dev.waitFor('stdout', /Azure simulator .*\(control: (https:\/\/[^)]+)\)/))[1];
    await recordSimulatorSecrets(name, control, path.join(home, 'simulator', 'ca.pem'));
    return dev;
  };

  let dev = await startDev('dev');
  try {
    const started = await json<StartResult>('start', PLAN, '--as', 'alice');
    assert.equal(started.preflight.passed, true);
    await statusWhen((s) => s.progress.pendingGate?.gate === 'settings', 'the settings gate');
    const addressBook = readFileSync(path.join(home, 'dev', 'environment.json'), 'utf8');
    const credentials = readFileSync(path.join(home, 'dev', 'simulator-credentials.json'), 'utf8');

    const demo = await runCli(
      ['demo', '--no-keep-running', '--port', String(port), '--ui-port', String(uiPort)],
      env,
      dir,
      2 * WAIT_MS,
    );
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stderr, /A `cutover dev` environment is running .*the demo leaves it alone and runs its own/);
    const moved = new RegExp(`Port ${port} \\(Temporal gRPC\\) is in use; the demo uses the free port (\\d+) instead`);
    const demoPort = moved.exec(demo.stderr)?.[1];
    assert.ok(demoPort && demoPort !== String(port), demo.stderr);
    assert.match(
      demo.stderr,
      new RegExp(`Port ${uiPort} \\(Temporal Web UI\\) is in use; the demo uses the free port`),
    );
    assert.match(demo.stderr, new RegExp(`Temporal dev server +127\\.0\\.0\\.1:${demoPort} `));
    assert.match(demo.stdout, /\*\*Outcome:\*\* succeeded/);

    // The dev environment is as it was: its migration waits at its gate, its simulator kept the changes so far.
    assert.equal(readFileSync(path.join(home, 'dev', 'environment.json'), 'utf8'), addressBook, 'address book');
    assert.equal(readFileSync(path.join(home, 'dev', 'simulator-credentials.json'), 'utf8'), credentials);
    const after = await json<StatusResult>('status', 'claims-bot');
    assert.deepEqual(
      [after.status, after.progress.pendingGate?.gate, after.progress.initiatedBy],
      ['RUNNING', 'settings', 'alice'],
    );
    const dryRun = await json<PlanReport>('plan', 'show', PLAN);
    assert.notEqual(dryRun.before?.sites[0]?.identity.type ?? 'None', 'None', 'the identity it enabled is still on');

    // Finish it in dev, as the README does.
    await json('approve', 'claims-bot', '--as', 'bob', '--gate', 'settings', '--comment', 'CAB ok');
    await statusWhen((s) => s.progress.pendingGate?.gate === 'local-auth', 'the local-auth gate');
    await json('approve', 'claims-bot', '--as', 'bob', '--gate', 'local-auth');
    const done = await statusWhen((s) => s.status !== 'RUNNING', 'the end of the migration');
    assert.equal(done.outcome, 'succeeded', done.progress.reason);

    const again = await cli('plan', 'show', PLAN);
    assert.equal(again.code, 1, again.stderr);
    assert.match(
      again.stdout,
      /✗ \[settings\] app .*claims-bot(\/staging)? has no setting AZURE_OPENAI_API_KEY to remove — .*start it again with `cutover dev --reset`/,
    );
  } finally {
    assert.equal(await dev.stop(), 0, dev.stderr());
  }

  dev = await startDev('dev-reset', '--reset');
  try {
    const fresh = await cli('plan', 'show', PLAN);
    assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
    assert.match(fresh.stdout, /valid; preflight passed/);
  } finally {
    assert.equal(await dev.stop(), 0, dev.stderr());
  }
});
