/**
 * Benchmark: memory per simulated App Service worker, in-process against process. Starts the simulator on a one-site
 * estate (modules loaded, one worker), then loads an estate of N new sites (one worker each) and has every site answer
 * one `/health` (its Azure OpenAI client built, a call made), and prints the resident memory this adds per site: the
 * simulator's own growth, plus for the process runtime the resident memory of its child processes.
 *
 *   npm run bench:app-memory -- [--in-process-sites 200] [--process-sites 10]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type Scenario, startSimulator } from '../simulator';
import { type AppRuntime } from '../simulator/app-runtime';
import { fetchWithCa } from '../simulator/https-fetch';

const MB = 1024 * 1024;

function estate(sites: number): Scenario {
  const name = (i: number) => `mem-app-${String(i + 1).padStart(4, '0')}`;
  return {
    name: 'bench-app-memory',
    tenants: [{ name: 'contoso' }],
    subscriptions: [
      {
        resourceGroups: [
          {
            name: 'rg-mem',
            accounts: [
              {
                name: 'mem-openai',
                customSubDomainName: 'mem-openai',
                deployments: [{ name: 'd', model: 'gpt-4o-mini' }],
              },
            ],
            sites: Array.from({ length: sites }, (_, i) => ({
              name: name(i),
              settings: {
                AZURE_OPENAI_ENDPOINT: { accountEndpoint: 'mem-openai' },
                AZURE_OPENAI_API_KEY: { accountKey: 'mem-openai' },
                AZURE_OPENAI_DEPLOYMENT: 'd',
              },
            })),
          },
        ],
      },
    ],
  };
}

/** Resident memory of this process's live children (the process runtime's workers) by pid, from /proc. */
function childrenRss(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
      if (rss) out.set(Number(entry), Number(rss) * 1024); // a zombie has none
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function settle(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  return process.memoryUsage().rss;
}

async function measure(runtime: AppRuntime, sites: number) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-app-memory-'));
  const sim = await startSimulator({ scenario: estate(1), dataDir, appRuntime: runtime });
  try {
    const fetch = fetchWithCa(sim.info.caCert);
    const health = async (site: string) => {
      const res = await fetch(`${sim.control.siteUrl('rg-mem', site)}/health`);
      if (res.status !== 200) throw new Error(`${site}: /health answered ${res.status}`);
    };
    await health('mem-app-0001');
    const base = { self: await settle(), children: childrenRss() };
    const started = Date.now();
    await sim.control.loadScenario(estate(sites));
    const startMs = Date.now() - started;
    const names = Object.values(sim.control.state().sites).map((s) => s.name);
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map(health));
    const self = (await settle()) - base.self;
    const children = [...childrenRss()].filter(([pid]) => !base.children.has(pid));
    const childBytes = children.reduce((sum, [, bytes]) => sum + bytes, 0);
    // Every worker of the new estate is new (its ids are), and the one-site estate's worker stopped with its load.
    const added = sites;
    return {
      runtime,
      sites,
      workers: runtime === 'process' ? children.length : sites,
      startMs,
      simulatorMbPerSite: self / added / MB,
      childMbPerSite: childBytes / added / MB,
      totalMbPerSite: (self + childBytes) / added / MB,
    };
  } finally {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'in-process-sites': { type: 'string', default: '200' },
      'process-sites': { type: 'string', default: '10' },
    },
  });
  const rows = [
    await measure('in-process', Number(values['in-process-sites'])),
    await measure('process', Number(values['process-sites'])),
  ];
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log('runtime      sites  workers  start (ms)  simulator MB/site  children MB/site  total MB/site');
  for (const r of rows)
    console.log(
      `${r.runtime.padEnd(12)} ${String(r.sites).padStart(5)}  ${String(r.workers).padStart(7)}  ${String(r.startMs).padStart(10)}  ${fmt(r.simulatorMbPerSite)}           ${fmt(r.childMbPerSite)}          ${fmt(r.totalMbPerSite)}`,
    );
  if (!(globalThis as { gc?: () => void }).gc) console.log('(run with node --expose-gc for steadier figures)');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
