/**
 * Benchmark: how fast `revokeAccess` takes access away. On a throwaway embedded environment loaded with the access
 * estate (test/fixtures/scenarios/access.yaml), revokes the identity `id-docs` (used by docs-bot on docs-openai) in
 * emergency mode, several times, and prints the time from the revoke's start to the first refused call, against
 * the simulator's propagation delay — the bound: Azure keeps a deleted grant working until it has propagated.
 * Target: refused within one poll interval of the propagation delay.
 *
 *   npm run bench:revoke -- [--runs 3] [--propagation-ms 5000] [--poll-ms 250]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/env';
import { revokeWorkflowId, type RevokeRequest } from '../contracts/access';
import { startEmbedded } from '../worker/embedded';
import { revokeAccess } from '../workflows';

const SUB = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const SCENARIO = path.join(__dirname, '..', 'test', 'fixtures', 'scenarios', 'access.yaml');

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      'propagation-ms': { type: 'string', default: '5000' },
      'poll-ms': { type: 'string', default: '250' },
    },
  });
  const runs = Number(values.runs);
  const propagationMs = Number(values['propagation-ms']);
  const pollMs = Number(values['poll-ms']);
  const home = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'));
  const config = loadConfig({ ...process.env, CUTOVER_HOME: home, CUTOVER_TASK_QUEUE: 'cutover-bench-revoke' });
  const env = await startEmbedded({
    config,
    ephemeral: true,
    scenario: SCENARIO,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const connection = await Connection.connect({ address: env.server.address });
  const client = new Client({ connection });
  const rows: { run: number; outcome: string; startToRefusedMs: number; removalToRefusedMs: number }[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      await env.sim.control.reset();
      env.sim.control.setDelays({ propagationMs });
      const request: RevokeRequest = {
        changeTicket: `BENCH-REVOKE-${run}`,
        reason: 'benchmark',
        subject: {
          kind: 'identity',
          resourceId: `/subscriptions/${SUB}/resourceGroups/rg-ai/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-docs`,
        },
        subscriptionIds: [SUB],
        emergency: true,
        approval: false,
        fourEyes: true,
        approvalTimeoutMs: 60_000,
        refusalTimeoutMs: 10 * 60_000,
        pollIntervalMs: pollMs,
        probePath: '/health/identity',
        logIngestionDelayMs: 0,
      };
      const started = Date.now();
      const handle = await client.workflow.start(revokeAccess, {
        taskQueue: config.taskQueue,
        workflowId: `${revokeWorkflowId(request.subject)}/bench-${run}-${started}`,
        args: [{ request, initiatedBy: 'bench' }],
      });
      const result = await handle.result();
      const refusedAt = Date.parse(result.evidence.refusal?.firstRefusedAt ?? '');
      rows.push({
        run,
        outcome: result.outcome,
        startToRefusedMs: refusedAt - started,
        removalToRefusedMs: result.evidence.refusal?.measuredMs ?? NaN,
      });
      process.stderr.write(`run ${run}: ${result.outcome}\n`);
    }
  } finally {
    await connection.close();
    await env.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `\nTime until a revoked identity is refused (simulator propagation ${s(propagationMs)}, poll ${pollMs} ms; bound: the propagation delay, target: ≤ bound + one poll)\n`,
  );
  console.log(
    '| run | outcome | revoke start → first refused call | last removal → refused | over the bound | within one poll |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const over = r.removalToRefusedMs - propagationMs;
    console.log(
      `| ${r.run} | ${r.outcome} | ${s(r.startToRefusedMs)} | ${s(r.removalToRefusedMs)} (${(r.removalToRefusedMs / propagationMs).toFixed(3)}× the bound) | ${s(over)} | ${over <= pollMs ? 'yes' : 'no'} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
