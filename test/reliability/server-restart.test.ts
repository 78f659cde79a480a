/**
 * A Temporal server restart in the middle of a migration: this file runs its own dev server on a SQLite file, stops
 * it during the propagation wait, starts it again on the same port and file, and the migration resumes and ends in
 * the state of an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { migrateToManagedIdentity } from '../../workflows';
import { type DevServer, freePort, startDevServer } from '../../worker/dev-server';
import { type Estate, estatePlan, startEstate } from '../support/estate';
import { testEnv } from '../support/env';
import {
  armCounts,
  assignmentsPerPrincipal,
  azureState,
  sleep,
  startMigration,
  summarize,
  waitForProgress,
  WorkerFleet,
} from '../support/reliability';

const FILE = 'test/reliability/server-restart.test.ts';

let estate: Estate;
let server: DevServer | undefined;
let fleet: WorkerFleet | undefined;
const connections: Connection[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-restart-'));
const cliPath = testEnv('temporalCliPath');
const cli = cliPath ? { path: cliPath, source: 'PATH' as const } : { source: 'sdk-download' as const };

before(async () => {
  estate = await startEstate('server-restart');
});
after(async () => {
  await fleet?.close();
  for (const c of connections) await c.close().catch(() => undefined);
  await server?.stop();
  await estate?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(address: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  connections.push(connection);
  return new Client({ connection });
}

test('the Temporal server restarts (same database) during the propagation wait: the migration resumes', async () => {
  const port = await freePort();
  const dbFile = path.join(dir, 'temporal.db');
  const logFile = path.join(testEnv('workDir'), 'server-restart-temporal.log');
  server = await startDevServer({ cli, port, headless: true, dbFile, logFile });
  const taskQueue = `server-restart-${Date.now()}`;
  fleet = new WorkerFleet(estate, { address: server.address, taskQueue, logName: 'server-restart' });
  await fleet.start();
  // The role does not propagate until the server is back, so the restart lands in the propagation wait however
  // long anything takes; the estate's propagation budget (minutes) outlasts the restart and the probe backoff.
  estate.sim.control.setDelays({ propagationMs: 24 * 3600_000 });

  const client = await connect(server.address);
  const handle = await startMigration(client, taskQueue, estatePlan('inplace-bot', 'inplace-openai'));
  await waitForProgress(handle, (p) => p.stage === 'propagation', 'propagation');
  await server.stop();
  await sleep(2000);
  server = await startDevServer({ cli, port, headless: true, dbFile, logFile });
  const crashPoints = ['server stopped during propagation wait, restarted on the same db'];
  estate.sim.control.setDelays({ propagationMs: 1500 });

  const resumed = (await connect(server.address)).workflow.getHandle<typeof migrateToManagedIdentity>(
    handle.workflowId,
  );
  // The worker reconnects on its own; should it give up at any point before the end, a new one takes over.
  const outcome = resumed.result();
  outcome.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
  let result: Awaited<typeof outcome> | undefined;
  while (!result) {
    if (!fleet.running) {
      await fleet.start();
      crashPoints.push('worker exited while the server was down: restarted');
      continue;
    }
    result = await Promise.race([outcome, fleet.exited().then(() => undefined)]);
  }
  assert.equal(result.outcome, 'succeeded', result.reason);
  const state = azureState(estate.sim, 'inplace-openai');
  const lost: string[] = [];
  if (!state.account.disableLocalAuth) lost.push('local auth still enabled');
  const prod = state.sites.find((s) => s.name === 'inplace-bot')!.slots.find((s) => s.name === 'production')!;
  if ('AZURE_OPENAI_API_KEY' in prod.settings) lost.push('key setting still present');
  if (prod.systemIdentity === null) lost.push('no system identity');
  for (const [k, n] of Object.entries(assignmentsPerPrincipal(estate.sim)))
    if (n !== 1) lost.push(`${n} role assignments for ${k}`);
  assert.deepEqual(lost, []);
  assert.equal(result.evidence.stages.find((s) => s.id === 'propagation')?.status, 'done');
  summarize(FILE, {
    scenario: 'dev server restart mid-propagation',
    crashPoints,
    armRequests: armCounts(estate.sim.control.requests()).total,
    lost,
  });
});
