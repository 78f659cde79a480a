/**
 * Benchmark: what a cutover costs the app's users, and how close a migration comes to its bound. Runs the demo
 * migration in place and through a slot swap on a throwaway embedded environment, with steady traffic on the app's
 * production URL, and prints for each: failed requests, the longest outage, the migration's duration against its
 * lower bound (the simulator's delays the migration must wait out, in sequence), and its history events.
 * The simulator's delays are set from the options (Azure restarts a Linux app in roughly 10–30 s; a role takes
 * minutes to propagate; disabling local auth takes "a few minutes").
 *
 *   npm run bench -- [--runs 2] [--restart-ms 10000] [--swap-ms 10000] [--propagation-ms 60000]
 *                    [--local-auth-switch-ms 30000] [--lro-ms 5000] [--log-ingestion-ms 2000] [--interval-ms 100]
 *                    [--strategies in-place,slot-swap] [--histories DIR]
 *
 * `--histories DIR` writes each run's workflow history there (JSON, as `temporal workflow show -o json` does).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
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
  readonly boundMs: number;
  readonly historyEvents: number;
}

interface Delays {
  readonly propagationMs: number;
  readonly appRestartMs: number;
  readonly swapMs: number;
  readonly lroMs: number;
  readonly localAuthSwitchMs: number;
  readonly logIngestionMs: number;
}

/**
 * The shortest a migration can take on these delays: the role must propagate before the caller switches; the
 * switch restarts the app (a swap restarts the staging slot, then warms it for at least the swap's duration, and
 * the standby it leaves behind, production's old configuration, restarts once more on its move off the key, which
 * the key switch waits for); the key-usage check waits for the logs; the key switch lasts as long as its update
 * and its propagation to the data plane, which run together (the simulator applies the change when the update is
 * accepted).
 */
function lowerBound(strategy: 'in-place' | 'slot-swap', d: Delays, keysSwitched: boolean): number {
  const standby = d.appRestartMs; // the bench's plan keeps the default, `standby: migrate`
  const switchToIdentity =
    strategy === 'slot-swap' ? d.appRestartMs + Math.max(d.swapMs, d.appRestartMs) + standby : d.appRestartMs;
  // Keys that stay on (another key holder remains) cost neither the log check nor the switch.
  const keySwitch = keysSwitched ? d.logIngestionMs + Math.max(d.lroMs, d.localAuthSwitchMs) : 0;
  return d.propagationMs + switchToIdentity + keySwitch;
}

function plan(strategy: 'in-place' | 'slot-swap', logIngestionMs: number): MigrationPlan {
  return parsePlan({
    changeTicket: `BENCH-${strategy}`,
    ...DEMO,
    strategy: strategy === 'slot-swap' ? { type: 'slot-swap', stagingSlot: 'staging' } : { type: 'in-place' },
    smokeTest: { interval: '250ms' },
    budgets: { propagationWait: '10m', downtime: '5m', localAuthSwitch: '10m' },
    approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: false },
    // What is measured is the outage of the switch: the simulator's Azure Monitor data arrives within seconds, and
    // analyses (which only watch) would add their minutes to every run.
    observability: { logIngestionDelay: `${logIngestionMs}ms`, metricsDelay: '0s' },
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
      'restart-ms': { type: 'string', default: '10000' },
      'swap-ms': { type: 'string', default: '10000' },
      'propagation-ms': { type: 'string', default: '60000' },
      'local-auth-switch-ms': { type: 'string', default: '30000' },
      'lro-ms': { type: 'string', default: '5000' },
      'log-ingestion-ms': { type: 'string', default: '2000' },
      'interval-ms': { type: 'string', default: '100' },
      strategies: { type: 'string', default: 'in-place,slot-swap' },
      histories: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  const delays: Delays = {
    propagationMs: Number(values['propagation-ms']),
    appRestartMs: Number(values['restart-ms']),
    swapMs: Number(values['swap-ms']),
    lroMs: Number(values['lro-ms']),
    localAuthSwitchMs: Number(values['local-auth-switch-ms']),
    logIngestionMs: Number(values['log-ingestion-ms']),
  };
  for (const [name, ms] of Object.entries(delays))
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`--${name}: expected a number of milliseconds ≥ 0`);
  const strategies = values.strategies.split(',').map((x) => x.trim());
  for (const x of strategies)
    if (x !== 'in-place' && x !== 'slot-swap') throw new Error(`--strategies: ${x} is not in-place or slot-swap`);
  const home = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'));
  const config = loadConfig({ ...process.env, CUTOVER_HOME: home, CUTOVER_TASK_QUEUE: 'cutover-bench' });
  const env = await startEmbedded({ config, ephemeral: true, log: (m) => process.stderr.write(`${m}\n`) });
  const connection = await Connection.connect({ address: env.server.address });
  const client = new Client({ connection });
  const rows: Row[] = [];
  try {
    for (const strategy of strategies as ('in-place' | 'slot-swap')[]) {
      for (let run = 1; run <= runs; run++) {
        await env.sim.control.reset();
        // The front ends agree at once after the switch: its spread is not what this measures.
        env.sim.control.setDelays({ ...delays, localAuthConsistencyWindowMs: 0 });
        const url = `${env.sim.control.siteUrl(DEMO.target.resourceGroup, DEMO.target.name)}/health`;
        const load = startLoad({ url, intervalMs: Number(values['interval-ms']), ca: env.sim.info.caCert });
        const started = Date.now();
        const handle = await client.workflow.start(migrateToManagedIdentity, {
          taskQueue: config.taskQueue,
          workflowId: `bench-${strategy}-${run}-${started}`,
          args: [{ plan: plan(strategy, delays.logIngestionMs), initiatedBy: 'bench' }],
        });
        const result = await handle.result();
        const migrationMs = Date.now() - started;
        const report: LoadReport = await load.stop();
        const history = await handle.fetchHistory();
        if (values.histories) {
          mkdirSync(values.histories, { recursive: true });
          const file = path.join(values.histories, `${strategy}-${run}.json`);
          writeFileSync(file, historyToJSON(history));
        }
        rows.push({
          strategy,
          run,
          outcome: result.outcome,
          migrationMs,
          requests: report.total,
          failed: report.failed,
          longestOutageMs: report.downtime.longestMs,
          failures: summarize(report),
          boundMs: lowerBound(strategy, delays, result.evidence.localAuth.after === true),
          historyEvents: history.events?.length ?? 0,
          ...(result.evidence.downtimeMs !== undefined ? { measuredDowntimeMs: result.evidence.downtimeMs } : {}),
        });
        process.stderr.write(
          `${strategy} run ${run}: ${result.outcome} in ${s(migrationMs)}, ${report.failed}/${report.total} failed\n`,
        );
      }
    }
  } finally {
    await connection.close();
    await env.stop();
    rmSync(home, { recursive: true, force: true });
  }
  console.log(
    `\nA cutover against its bound (propagation ${s(delays.propagationMs)}, app restart ${s(delays.appRestartMs)}, ` +
      `swap ${s(delays.swapMs)}, account update ${s(delays.lroMs)}, key switch ${s(delays.localAuthSwitchMs)}, ` +
      `log ingestion ${s(delays.logIngestionMs)}; one request every ${values['interval-ms']} ms)\n`,
  );
  console.log(
    '| strategy | run | outcome | migration | bound | ratio | history events | requests | failed | longest outage | cutover budget window | failures |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.strategy} | ${r.run} | ${r.outcome} | ${s(r.migrationMs)} | ${s(r.boundMs)} | ${(r.migrationMs / r.boundMs).toFixed(3)}× | ${r.historyEvents} | ${r.requests} | ${r.failed} | ${s(r.longestOutageMs)} | ${s(r.measuredDowntimeMs)} | ${r.failures} |`,
    );
}

function s(ms?: number): string {
  return ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
