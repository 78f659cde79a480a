/**
 * Benchmark: what a cutover costs the app's users. Runs the demo migration in place and through a slot swap on a
 * throwaway embedded environment, with steady traffic on the app's production URL, and prints failed requests,
 * the longest outage and the migration's duration for each. The simulator's app restart time and swap duration
 * are set from the options (Azure restarts a Linux app in roughly 10–30 s).
 *
 *   npm run bench -- [--runs 3] [--restart-ms 5000] [--swap-ms 3000] [--propagation-ms 2000] [--interval-ms 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { parsePlan, type MigrationPlan } from '../plan/schema';
import { startLoad, type LoadReport } from '../simulator';
import { loadConfig } from '../config/env';
import { startEmbedded } from '../worker/embedded';
import { migrateToManagedIdentity } from '../workflows';

const DEMO = {
  tenantId: '3f9c1b4e-7a2d-4c8e-9b61-2d4f5a6e7c80',
  subscriptionId: '5b2e8c1d-9f3a-4b6e-a7c2-8d1e4f0a3b95',
  target: { kind: 'app-service', resourceGroup: 'rg-claims', name: 'claims-bot' },
  account: { name: 'claims-openai', deployment: 'gpt-4o-mini' },
};

interface Row {
  readonly strategy: string;
  readonly run: number;
  readonly outcome: string;
  readonly migrationMs: number;
  readonly requests: number;
  readonly failed: number;
  readonly longestOutageMs: number;
  readonly measuredDowntimeMs?: number;
  /** Failed requests by status/error code, e.g. "503 ServiceUnavailable ×48". */
  readonly failures: string;
}

function plan(strategy: 'in-place' | 'slot-swap'): MigrationPlan {
  return parsePlan({
    changeTicket: `BENCH-${strategy}`,
    ...DEMO,
    strategy: strategy === 'slot-swap' ? { type: 'slot-swap', stagingSlot: 'staging' } : { type: 'in-place' },
    smokeTest: { interval: '250ms' },
    budgets: { propagationWait: '5m', downtime: '5m' },
    approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: false },
    // What is measured is the outage of the switch: the simulator's Azure Monitor data arrives within seconds, and
    // analyses (which only watch) would add their minutes to every run.
    observability: { logIngestionDelay: '2s', metricsDelay: '0s' },
    analysis: { after: [] },
  });
}

function summarize(report: LoadReport): string {
  const counts = new Map<string, number>();
  for (const f of report.failures) {
    const key = [f.status, f.code ?? f.error].filter(Boolean).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '2' },
      'restart-ms': { type: 'string', default: '5000' },
      'swap-ms': { type: 'string', default: '3000' },
      'propagation-ms': { type: 'string', default: '2000' },
      'interval-ms': { type: 'string', default: '100' },
    },
  });
  const runs = Number(values.runs);
  const home = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'));
  const config = loadConfig({ ...process.env, CUTOVER_HOME: home, CUTOVER_TASK_QUEUE: 'cutover-bench' });
  const env = await startEmbedded({ config, ephemeral: true, log: (m) => process.stderr.write(`${m}\n`) });
  const connection = await Connection.connect({ address: env.server.address });
  const client = new Client({ connection });
  const rows: Row[] = [];
  try {
    for (const strategy of ['in-place', 'slot-swap'] as const) {
      for (let run = 1; run <= runs; run++) {
        await env.sim.control.reset();
        env.sim.control.setDelays({
          appRestartMs: Number(values['restart-ms']),
          swapMs: Number(values['swap-ms']),
          propagationMs: Number(values['propagation-ms']),
        });
        const url = `${env.sim.control.siteUrl(DEMO.target.resourceGroup, DEMO.target.name)}/health`;
        const load = startLoad({ url, intervalMs: Number(values['interval-ms']), ca: env.sim.info.caCert });
        const started = Date.now();
        const handle = await client.workflow.start(migrateToManagedIdentity, {
          taskQueue: config.taskQueue,
          workflowId: `bench-${strategy}-${run}-${started}`,
          args: [{ plan: plan(strategy), initiatedBy: 'bench' }],
        });
        const result = await handle.result();
        const migrationMs = Date.now() - started;
        const report: LoadReport = await load.stop();
        rows.push({
          strategy,
          run,
          outcome: result.outcome,
          migrationMs,
          requests: report.total,
          failed: report.failed,
          longestOutageMs: report.downtime.longestMs,
          failures: summarize(report),
          ...(result.evidence.downtimeMs !== undefined ? { measuredDowntimeMs: result.evidence.downtimeMs } : {}),
        });
        process.stderr.write(`${strategy} run ${run}: ${result.outcome}, ${report.failed}/${report.total} failed\n`);
      }
    }
  } finally {
    await connection.close();
    await env.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const s = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
  console.log(
    `\nDowntime of a cutover (app restart ${s(Number(values['restart-ms']))}, swap ${s(Number(values['swap-ms']))}, ` +
      `propagation ${s(Number(values['propagation-ms']))}, one request every ${values['interval-ms']} ms)\n`,
  );
  console.log(
    '| strategy | run | outcome | migration | requests | failed | longest outage | cutover budget window | failures |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.strategy} | ${r.run} | ${r.outcome} | ${s(r.migrationMs)} | ${r.requests} | ${r.failed} | ${s(r.longestOutageMs)} | ${s(r.measuredDowntimeMs)} | ${r.failures} |`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
