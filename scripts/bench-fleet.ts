/**
 * Benchmark: a fleet against its bound. Generates an estate of N App Service callers over S subscriptions and A
 * shared accounts, migrates it as one fleet (a canary, then the rest in a sliding window of C) on a throwaway
 * embedded environment with throttling on (Azure's ARM token buckets), and prints one table: wall time against the
 * lower bound the simulator's delays and the ARM write budget set, ARM requests per caller, 429s received, the worker
 * process's CPU and peak RSS, the parent's history events and the history events per child migration.
 *
 *   npm run bench:fleet -- [--callers 60] [--subscriptions 3] [--accounts 6] [--concurrency 20]
 *                          [--propagation-ms 10000] [--restart-ms 3000] [--local-auth-switch-ms 5000] [--lro-ms 2000]
 *                          [--app-runtime process|in-process]
 *
 * With the process app runtime (the default) each simulated app is an OS process (~65 MB): the default size fits this
 * 2-core, 24 GiB machine with room to spare; 500 callers need `--app-runtime in-process` (simulator/README.md).
 *
 * "Necessary" ARM requests are what the product's guarantees need, and nothing twice without a reason:
 * - per caller (in place, system identity), 13: preflight (zero writes on a bad plan) reads the app, the account,
 *   the deployment, the account's keys (to recognise them in settings), the app's settings, the worker's own role
 *   assignments on the app and on the account (inherited and through groups), and every assignment on the account
 *   (brownfield: rollback never deletes one that was there); the change reads the app and its settings again right
 *   before writing them (read-modify-write: the settings PUT replaces the whole dictionary), then patches the
 *   identity, creates the role assignment and writes the settings;
 * - per subscription, 5: the role definitions the worker holds there (built-in, read once per worker and
 *   subscription) and the plan's role by name;
 * - per account, 5: its state before the switch, its keys and endpoints for the key-holder pass (2), the switch,
 *   at least one poll of the switch;
 * - per key-holder pass (the fleet's accounts share passes): the subscriptions, each subscription's apps and
 *   container apps, each app's slots and settings — 1 + 2 × S + 2 × N, once (every account of this fleet is ready
 *   after the same wave).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/env';
import { fleetWorkflowId } from '../contracts/fleet';
import { parseFleetPlan } from '../plan/fleet';
import { startEmbedded } from '../worker/embedded';
import { migrateFleet } from '../workflows';
import { type AppRuntime, parseAppRuntime } from '../simulator/app-runtime';

const TENANT = '11111111-1111-4111-8111-111111111111';
const sub = (i: number) => `${String(i + 1).padStart(8, '0')}-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
const rg = (i: number) => `rg-fleet-${i + 1}`;
const accountName = (a: number) => `fleet-openai-${a + 1}`;
const callerName = (c: number) => `fleet-app-${String(c + 1).padStart(4, '0')}`;

interface Estate {
  readonly callers: number;
  readonly subscriptions: number;
  readonly accounts: number;
  readonly appRuntime: AppRuntime;
}

/** Account a lives in subscription a % S; caller c calls account c % A and lives in subscription c % S. */
function scenarioYaml(e: Estate): string {
  const lines = [
    'name: bench-fleet',
    `apps: { runtime: ${e.appRuntime} }`,
    'tenants:',
    '  - { name: contoso, id: ' + TENANT + ' }',
    'principals:',
    '  - { name: cutover-worker, tenant: contoso }',
    'subscriptions:',
  ];
  for (let s = 0; s < e.subscriptions; s++) {
    lines.push(`  - id: ${sub(s)}`, `    name: fleet-${s + 1}`, '    tenant: contoso', '    resourceGroups:');
    lines.push(`      - name: ${rg(s)}`, '        accounts:');
    for (let a = s; a < e.accounts; a += e.subscriptions)
      lines.push(
        `          - name: ${accountName(a)}`,
        `            customSubDomainName: ${accountName(a)}`,
        '            deployments: [{ name: gpt-4o-mini, model: gpt-4o-mini }]',
      );
    lines.push('        sites:');
    for (let c = s; c < e.callers; c += e.subscriptions) {
      const a = accountName(c % e.accounts);
      lines.push(
        `          - name: ${callerName(c)}`,
        '            settings:',
        `              AZURE_OPENAI_ENDPOINT: { accountEndpoint: ${a} }`,
        `              AZURE_OPENAI_API_KEY: { accountKey: ${a} }`,
        '              AZURE_OPENAI_DEPLOYMENT: gpt-4o-mini',
      );
    }
  }
  lines.push('roleAssignments:');
  for (let s = 0; s < e.subscriptions; s++)
    for (const role of [
      'Reader',
      'Website Contributor',
      'Cognitive Services Contributor',
      'Role Based Access Control Administrator',
    ])
      lines.push(
        `  - { principal: cutover-worker, role: ${role}, scope: ${role === 'Reader' ? `{ subscription: ${sub(s)} }` : `{ resourceGroup: ${rg(s)} }`} }`,
      );
  return `${lines.join('\n')}\n`;
}

function fleetDocument(e: Estate, concurrency: number) {
  return {
    kind: 'fleet',
    changeTicket: `BENCH-FLEET-${Date.now()}`,
    tenantId: TENANT,
    defaults: {
      smokeTest: { interval: '250ms', requestTimeout: '10s' },
      budgets: { propagationWait: '30m', downtime: '10m', approvalTimeout: '1d', localAuthSwitch: '30m' },
      localAuth: { quietPeriod: '0s' },
      analysis: { after: [] },
    },
    accounts: Array.from({ length: e.accounts }, (_, a) => ({
      name: accountName(a),
      subscriptionId: sub(a % e.subscriptions),
      resourceGroup: rg(a % e.subscriptions),
      deployment: 'gpt-4o-mini',
      keySwitch: { approval: false, quietPeriod: '0s' },
    })),
    callers: Array.from({ length: e.callers }, (_, c) => ({
      name: callerName(c),
      account: accountName(c % e.accounts),
      subscriptionId: sub(c % e.subscriptions),
      resourceGroup: rg(c % e.subscriptions),
    })),
    waves: [
      { name: 'canary', callers: [callerName(0)], concurrency: 1 },
      { name: 'rest', rest: true, concurrency, failureThreshold: { maxFailurePercent: 5 } },
    ],
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      callers: { type: 'string', default: '60' },
      subscriptions: { type: 'string', default: '3' },
      accounts: { type: 'string', default: '6' },
      concurrency: { type: 'string', default: '20' },
      'propagation-ms': { type: 'string', default: '10000' },
      'restart-ms': { type: 'string', default: '3000' },
      'local-auth-switch-ms': { type: 'string', default: '5000' },
      'lro-ms': { type: 'string', default: '2000' },
      breakdown: { type: 'boolean', default: false },
      'app-runtime': { type: 'string', default: 'process' },
    },
  });
  const num = (k: keyof typeof values, min: number) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k}: expected an integer ≥ ${min}`);
    return n;
  };
  const estate: Estate = {
    callers: num('callers', 2),
    subscriptions: num('subscriptions', 1),
    accounts: num('accounts', 1),
    appRuntime: parseAppRuntime(values['app-runtime'], '--app-runtime'),
  };
  if (estate.accounts > estate.callers) throw new Error('--accounts: at most one account per caller');
  const concurrency = num('concurrency', 1);
  const delays = {
    propagationMs: num('propagation-ms', 0),
    appRestartMs: num('restart-ms', 0),
    localAuthSwitchMs: num('local-auth-switch-ms', 0),
    lroMs: num('lro-ms', 0),
  };
  const home = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-fleet-'));
  const scenario = path.join(home, 'fleet-scenario.yaml');
  writeFileSync(scenario, scenarioYaml(estate));
  const config = loadConfig({ ...process.env, CUTOVER_HOME: home, CUTOVER_TASK_QUEUE: 'cutover-bench-fleet' });
  process.stderr.write(`starting ${estate.callers} simulated apps …\n`);
  const env = await startEmbedded({
    config,
    ephemeral: true,
    scenario,
    requestLogLimit: 5_000_000,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const connection = await Connection.connect({ address: env.server.address });
  const client = new Client({ connection });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
  try {
    env.sim.control.setDelays({ ...delays, principalReplicationMs: 0, localAuthConsistencyWindowMs: 0 });
    // Azure's documented ARM token buckets, enforced (429 with Retry-After past the budget).
    env.sim.control.setThrottling({ enabled: true });
    const plan = parseFleetPlan(fleetDocument(estate, concurrency));
    const cpu0 = process.cpuUsage();
    const started = Date.now();
    const handle = await client.workflow.start(migrateFleet, {
      taskQueue: config.taskQueue,
      workflowId: fleetWorkflowId(plan.changeTicket),
      args: [{ plan, initiatedBy: 'bench' }],
    });
    const result = await handle.result();
    const wallMs = Date.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const log = env.sim.control.requests().filter((r) => r.surface === 'arm');
    const writesBySub = new Map<string, number>();
    const roleWritesBySub = new Map<string, number>();
    for (const r of log)
      if (!['GET', 'HEAD', 'DELETE'].includes(r.method) && r.subscription) {
        writesBySub.set(r.subscription, (writesBySub.get(r.subscription) ?? 0) + 1);
        if (/\/providers\/Microsoft\.Authorization\/roleAssignments\//i.test(r.path))
          roleWritesBySub.set(r.subscription, (roleWritesBySub.get(r.subscription) ?? 0) + 1);
      }
    const parentEvents = (await handle.fetchHistory()).events?.length ?? 0;
    const childEvents: number[] = [];
    for (const c of result.evidence.accounts.flatMap((a) => a.callers))
      if (c.workflowId)
        childEvents.push((await client.workflow.getHandle(c.workflowId, c.runId).fetchHistory()).events?.length ?? 0);
    // The bound: the canary, then the rest in windows of `concurrency`, each migration waiting out propagation and
    // a restart; then the accounts' key switches, side by side; or the ARM budgets, if that is longer.
    const perMigration = delays.propagationMs + delays.appRestartMs;
    const delayBound =
      perMigration * (1 + Math.ceil((estate.callers - 1) / concurrency)) +
      Math.max(delays.lroMs, delays.localAuthSwitchMs);
    // ARM's write bucket (200, then 10 a second) and the governor's role-assignment budget (20, then 1 a second:
    // Microsoft.Authorization is tighter than ARM; azure/governor.ts), per subscription.
    const armBound = Math.max(
      0,
      ...[...writesBySub.values()].map((w) => ((w - 200) / 10) * 1000),
      ...[...roleWritesBySub.values()].map((w) => ((w - 20) / 1) * 1000),
    );
    const bound = Math.max(delayBound, armBound);
    // Key-holder passes that ran: each lists every subscription's apps once. One is necessary (every account of
    // this fleet becomes ready at the end of the same wave).
    const siteLists = log.filter(
      (r) => r.method === 'GET' && /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Web\/sites(\?|$)/i.test(r.path),
    );
    const passes = siteLists.length / estate.subscriptions;
    const necessary =
      13 * estate.callers +
      5 * estate.subscriptions +
      5 * estate.accounts +
      (1 + 2 * estate.subscriptions + 2 * estate.callers);
    const states = result.evidence.accounts.map((a) => a.state);
    const moved = result.evidence.accounts.flatMap((a) => a.callers).filter((c) => c.state === 'succeeded').length;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `\nA fleet against its bound (${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; propagation ${s(delays.propagationMs)}, ` +
        `app restart ${s(delays.appRestartMs)}, key switch ${s(delays.localAuthSwitchMs)}, account update ${s(delays.lroMs)}; ` +
        `ARM throttling on at Azure's buckets; window ${concurrency})\n`,
    );
    console.log(
      '| callers | subscriptions | accounts | outcome | moved | keys off | wall time | bound | ratio | ARM requests | necessary | ratio (key passes) | per caller | 429s | worker CPU | peak RSS | parent events (runs) | events per child (max) |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const avg = childEvents.reduce((a, b) => a + b, 0) / Math.max(1, childEvents.length);
    console.log(
      `| ${estate.callers} | ${estate.subscriptions} | ${estate.accounts} | ${result.outcome} | ${moved} | ${states.filter((x) => x === 'off').length}/${states.length} | ${s(wallMs)} | ${s(bound)} | ${(wallMs / bound).toFixed(2)}× | ${log.length} | ${necessary} | ${(log.length / necessary).toFixed(3)}× (${passes.toFixed(1)}) | ${(log.length / estate.callers).toFixed(1)} | ${log.filter((r) => r.status === 429).length} | ${s((cpu.user + cpu.system) / 1000)} | ${Math.round(peakRss / 2 ** 20)} MB | ${parentEvents} (${result.evidence.runs}) | ${avg.toFixed(0)} (${Math.max(...childEvents)}) |`,
    );
    if (values.breakdown) {
      // Where the requests went: method and path with names and ids folded away, most frequent first.
      const shape = (r: { method: string; path: string }) =>
        `${r.method} ${r.path
          .replace(/\?.*$/, '')
          .replace(/\/subscriptions\/[^/]+/i, '/subscriptions/{s}')
          .replace(/\/resourceGroups\/[^/]+/i, '/resourceGroups/{rg}')
          .replace(/\/(sites|slots|accounts|roleAssignments|operations|operationResults|locks)\/[^/]+/gi, '/$1/{}')}`;
      const counts = new Map<string, number>();
      for (const r of log) counts.set(shape(r), (counts.get(shape(r)) ?? 0) + 1);
      console.log('\n| requests | per caller | operation |\n|---|---|---|');
      for (const [op, n] of [...counts].sort((x, y) => y[1] - x[1]))
        console.log(`| ${n} | ${(n / estate.callers).toFixed(2)} | ${op} |`);
    }
    if (result.outcome !== 'succeeded') console.log(`\nThe fleet did not succeed: ${result.reason ?? ''}`);
  } finally {
    clearInterval(sampler);
    await connection.close();
    await env.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
