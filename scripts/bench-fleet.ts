/**
 * Benchmark: a fleet against its bound. Generates an estate of N App Service callers over S subscriptions and A
 * shared accounts — a fifth of the callers with a staging slot, migrated through a slot swap, the others in place —
 * migrates it as one fleet (a canary, then the rest in a sliding window of C) on a throwaway embedded environment
 * with throttling on (Azure's ARM token buckets), while every caller's production serves a steady user load, and
 * prints one table: wall time against the lower bound the simulator's delays and the ARM write budget set, ARM
 * requests against the necessary ones, 429s received, the users' failed requests per strategy (a slot swap must fail
 * none), the worker process's CPU and peak RSS, the parent's history events and the history events per child.
 *
 *   npm run bench:fleet -- [--callers 60] [--subscriptions 3] [--accounts 6] [--concurrency 20]
 *                          [--propagation-ms 10000] [--restart-ms 3000] [--swap-ms 3000] [--local-auth-switch-ms 5000]
 *                          [--lro-ms 2000] [--swap-load-interval-ms 2000] [--in-place-load-interval-ms 10000]
 *                          [--app-runtime process|in-process] [--breakdown]
 *
 * With the process app runtime (the default) each simulated app is an OS process (~65 MB): the default size fits this
 * 2-core, 24 GiB machine with room to spare; 500 callers need `--app-runtime in-process` (simulator/README.md).
 * The user load: one request to each caller's production `/health` every 2 s (slot swap) or 10 s (in place), spread
 * over the interval, through a few shared keep-alive connections (an interval of 0: none).
 * Each answer costs the simulated app a chat completion on the account, like the users' own requests.
 *
 * "Necessary" ARM requests are what the product's guarantees need, and nothing twice without a reason:
 * - per caller (in place, system identity), 13: preflight (zero writes on a bad plan) reads the app, the account,
 *   the deployment, the account's keys (to recognise them in settings), the app's settings, the worker's own role
 *   assignments on the app and on the account (inherited and through groups), and every assignment on the account
 *   (brownfield: rollback never deletes one that was there); the change reads the app and its settings again right
 *   before writing them (read-modify-write: the identity PATCH keeps the identities there, the settings PUT replaces
 *   the whole dictionary), then patches the identity, creates the role assignment and writes the settings;
 * - per slot-swap caller, 11 more (24): preflight reads the staging slot, its settings and the app's slot-sticky
 *   setting names (a swap carries only the others to production); identities stay with their slot, so the staging
 *   slot's is read and patched and its principal gets the role too; the settings change is the staging slot's
 *   instead of production's (the same read and write); the swap reads production's settings first (a retried swap
 *   never swaps twice), starts and is polled at least once; then the standby — production's old configuration, on
 *   the staging slot after the swap — is moved off the key too (its settings read and written), or the account's
 *   keys could not go off;
 * - per subscription, 5: the role definitions the worker holds there (built-in, read once per worker and
 *   subscription) and the plan's role by name;
 * - per account, 5: its state before the switch, its keys and endpoints for the key-holder pass (2), the switch,
 *   at least one poll of the switch;
 * - per key-holder pass (the fleet's accounts share passes): the subscriptions, each subscription's apps and
 *   container apps, each app's slots, and the settings of every app and slot that some account of the fleet does not
 *   leave out (an account leaves out its own callers, which the fleet moved) — 1 + 2 × S + N + (N + swap callers)
 *   with two accounts or more, 1 + 2 × S + N with one; once (every account of this fleet is ready after the same
 *   wave).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
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
import { type LoadReport, startLoad } from '../simulator';

const TENANT = '11111111-1111-4111-8111-111111111111';
const sub = (i: number) => `${String(i + 1).padStart(8, '0')}-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
const rg = (i: number) => `rg-fleet-${i + 1}`;
const accountName = (a: number) => `fleet-openai-${a + 1}`;
const callerName = (c: number) => `fleet-app-${String(c + 1).padStart(4, '0')}`;
/**
 * One caller in `SWAP_EVERY` has a staging slot and moves through a slot swap: every 5th round of the subscriptions
 * (caller c with ⌊c / S⌋ mod 5 = 4), so that each subscription and account has its share — every 5th caller would
 * put them all in one subscription when S is a multiple of 5, and its role-assignment budget would set the pace.
 */
const SWAP_EVERY = 5;

interface Estate {
  readonly callers: number;
  readonly subscriptions: number;
  readonly accounts: number;
  readonly appRuntime: AppRuntime;
}

const swaps = (e: Estate, c: number) => Math.floor(c / e.subscriptions) % SWAP_EVERY === SWAP_EVERY - 1;
const swapCallers = (e: Estate) => Array.from({ length: e.callers }, (_, c) => swaps(e, c)).filter(Boolean).length;

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
      const settings = (indent: string) => [
        `${indent}settings:`,
        `${indent}  AZURE_OPENAI_ENDPOINT: { accountEndpoint: ${a} }`,
        `${indent}  AZURE_OPENAI_API_KEY: { accountKey: ${a} }`,
        `${indent}  AZURE_OPENAI_DEPLOYMENT: gpt-4o-mini`,
      ];
      lines.push(`          - name: ${callerName(c)}`, ...settings('            '));
      // The staging slot runs the same code on the same key: it is where the change is made and tested.
      if (swaps(e, c))
        lines.push('            slots:', '              - name: staging', ...settings('                '));
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
      // The standby (production's old configuration, after the swap) is moved off the key too: the default.
      ...(swaps(e, c) ? { plan: { strategy: { type: 'slot-swap', stagingSlot: 'staging' } } } : {}),
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
      'swap-ms': { type: 'string', default: '3000' },
      'swap-load-interval-ms': { type: 'string', default: '2000' },
      'in-place-load-interval-ms': { type: 'string', default: '10000' },
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
    swapMs: num('swap-ms', 0),
  };
  // Between two user requests to one caller's production (0: none): a slot swap must fail none, so its callers are
  // asked often; in place, a restart's outage is reported, and sparser requests see it too.
  const loadIntervalMs = (swap: boolean) => num(swap ? 'swap-load-interval-ms' : 'in-place-load-interval-ms', 0);
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
    // The apps' users: a steady request to every caller's production /health, from before the fleet starts until
    // it ends, the loads spread over the interval and sharing a few keep-alive connections.
    const userAgent = new Agent({ keepAlive: true, timeout: 4_000, ca: env.sim.info.caCert });
    const loads = Array.from({ length: estate.callers }, (_, c) => ({ c, swap: swaps(estate, c) }))
      .filter(({ swap }) => loadIntervalMs(swap) > 0)
      .map(({ c, swap }) => ({
        swap,
        load: startLoad({
          url: `${env.sim.control.siteUrl(rg(c % estate.subscriptions), callerName(c))}/health`,
          intervalMs: loadIntervalMs(swap),
          agent: userAgent,
          startAfterMs: Math.round((c * loadIntervalMs(swap)) / estate.callers),
        }),
      }));
    const started = Date.now();
    const handle = await client.workflow.start(migrateFleet, {
      taskQueue: config.taskQueue,
      workflowId: fleetWorkflowId(plan.changeTicket),
      args: [{ plan, initiatedBy: 'bench' }],
    });
    const result = await handle.result();
    const wallMs = Date.now() - started;
    const reports = await Promise.all(loads.map(async (l) => ({ swap: l.swap, report: await l.load.stop() })));
    userAgent.destroy();
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
    // The bound: the canary, then the rest in a sliding window of `concurrency` in the plan's order (each next one
    // starting as soon as one ends), each migration waiting out its delays in sequence; then the accounts' key
    // switches, side by side; or the ARM budgets, if that is longer. In place: propagation, then the restart the
    // settings change causes. A slot swap: propagation, the staging slot's restart, the swap (its warm-up lasts a
    // restart, and at least the swap's duration), then the standby's restart (its settings move off the key and its
    // smoke test must pass before the account's keys may go off).
    const inPlaceMs = delays.propagationMs + delays.appRestartMs;
    const swapMs =
      delays.propagationMs + delays.appRestartMs + Math.max(delays.swapMs, delays.appRestartMs) + delays.appRestartMs;
    const durations = Array.from({ length: estate.callers }, (_, c) => (swaps(estate, c) ? swapMs : inPlaceMs));
    const delayBound =
      durations[0] + slidingWindow(durations.slice(1), concurrency) + Math.max(delays.lroMs, delays.localAuthSwitchMs);
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
    const swapping = swapCallers(estate);
    const necessary =
      13 * estate.callers +
      11 * swapping +
      5 * estate.subscriptions +
      5 * estate.accounts +
      (1 + 2 * estate.subscriptions + estate.callers + (estate.accounts > 1 ? estate.callers + swapping : 0));
    const users = (swap: boolean) => {
      const rs = reports.filter((r) => r.swap === swap).map((r) => r.report);
      const n = (f: (r: LoadReport) => number) => rs.reduce((t, r) => t + f(r), 0);
      return {
        requests: n((r) => r.total),
        failed: n((r) => r.failed),
        longestMs: Math.max(0, ...rs.map((r) => r.downtime.longestMs)),
      };
    };
    const [swapUsers, inPlaceUsers] = [users(true), users(false)];
    const states = result.evidence.accounts.map((a) => a.state);
    const moved = result.evidence.accounts.flatMap((a) => a.callers).filter((c) => c.state === 'succeeded').length;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const load = (swap: boolean) => (loadIntervalMs(swap) ? `one every ${s(loadIntervalMs(swap))}` : 'none');
    console.log(
      `\nA fleet against its bound (${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; propagation ${s(delays.propagationMs)}, ` +
        `app restart ${s(delays.appRestartMs)}, swap ${s(delays.swapMs)}, key switch ${s(delays.localAuthSwitchMs)}, account update ${s(delays.lroMs)}; ` +
        `ARM throttling on at Azure's buckets; window ${concurrency}; ${swapping} of ${estate.callers} callers by slot swap; ` +
        `user requests to each caller's production: ${load(true)} (slot swap), ${load(false)} (in place))\n`,
    );
    console.log(
      '| callers (swap) | subscriptions | accounts | outcome | moved | keys off | wall time | bound | ratio | ARM requests | necessary | ratio (key passes) | per caller | 429s | user requests | failed (swap) | failed (in place) | longest outage (in place) | worker CPU | peak RSS | parent events (runs) | events per child (max) |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const avg = childEvents.reduce((a, b) => a + b, 0) / Math.max(1, childEvents.length);
    console.log(
      `| ${estate.callers} (${swapping}) | ${estate.subscriptions} | ${estate.accounts} | ${result.outcome} | ${moved} | ${states.filter((x) => x === 'off').length}/${states.length} | ${s(wallMs)} | ${s(bound)} | ${(wallMs / bound).toFixed(2)}× | ${log.length} | ${necessary} | ${(log.length / necessary).toFixed(3)}× (${passes.toFixed(1)}) | ${(log.length / estate.callers).toFixed(1)} | ${log.filter((r) => r.status === 429).length} | ${swapUsers.requests + inPlaceUsers.requests} | ${swapUsers.failed} | ${inPlaceUsers.failed} | ${s(inPlaceUsers.longestMs)} | ${s((cpu.user + cpu.system) / 1000)} | ${Math.round(peakRss / 2 ** 20)} MB | ${parentEvents} (${result.evidence.runs}) | ${avg.toFixed(0)} (${Math.max(...childEvents)}) |`,
    );
    for (const [what, swap] of [
      ['slot swap', true],
      ['in place', false],
    ] as const) {
      const failures = reports.filter((r) => r.swap === swap).flatMap((r) => r.report.failures);
      if (failures.length === 0) continue;
      const counts = new Map<string, number>();
      for (const f of failures) {
        const k = [f.status, f.code ?? f.error].filter(Boolean).join(' ');
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      console.log(`\nFailed user requests (${what}): ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    }
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

/** When the last of `durations` ends, started in order in a window of `window`, each as soon as a place frees. */
function slidingWindow(durations: readonly number[], window: number): number {
  const ends: number[] = [];
  for (const d of durations) {
    let start = 0;
    if (ends.length >= window) {
      const first = ends.indexOf(Math.min(...ends));
      start = ends[first];
      ends.splice(first, 1);
    }
    ends.push(start + d);
  }
  return Math.max(0, ...ends);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
