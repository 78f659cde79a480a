/**
 * Shared set-up for the simulator's tests: one simulator per test file on the test estate, in a private data dir,
 * and the product's own client factory (activities/azure-clients.ts) pointed at it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import type { TokenCredential } from '@azure/core-auth';
import {
  type AzureClients,
  type AzureEndpoints,
  clientSecretCredential,
  createAzureClients,
} from '../../azure/clients';
import { WAIT_MS } from '../support/wait';
import { type Simulator, type StartSimulatorOptions, startSimulator } from '../../simulator';

export const FIXTURE = path.join(__dirname, '..', 'fixtures', 'simulator', 'estate.yaml');
/** Several of everything a list returns, accounts of the three kinds, sites of several kinds. */
export const KINDS_AND_LISTS = path.join(__dirname, '..', 'fixtures', 'simulator', 'kinds-and-lists.yaml');
export const RG = 'rg-claims';
export const SITE = 'claims-bot';

export interface TestSim {
  sim: Simulator;
  endpoints: AzureEndpoints;
  /** Clients authenticated as a scenario service principal. */
  clientsAs(principal: string): AzureClients;
  credentialOf(principal: string): TokenCredential;
  close(): Promise<void>;
}

export async function startTestSimulator(options: StartSimulatorOptions = {}): Promise<TestSim> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-sim-test-'));
  const sim = await startSimulator({
    scenario: FIXTURE,
    dataDir,
    ...(process.env.CUTOVER_SIM_DEBUG ? { log: (l: string) => process.stderr.write(`[sim] ${l}\n`) } : {}),
    ...options,
  });
  const endpoints: AzureEndpoints = {
    armEndpoint: sim.info.armEndpoint,
    authorityHost: sim.info.authorityHost,
    caCert: sim.info.caCert,
    logsEndpoint: sim.info.logsEndpoint,
    metricsEndpoint: sim.info.metricsEndpoint,
  };
  const credentialOf = (principal: string) => clientSecretCredential(endpoints, sim.control.credentials(principal));
  return {
    sim,
    endpoints,
    credentialOf,
    clientsAs: (principal) => createAzureClients(credentialOf(principal), sim.info.subscriptionId, endpoints),
    close: async () => {
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One simulator for a whole test file: started before its tests, closed after them. */
export function simulatorForFile(options: StartSimulatorOptions = {}): { readonly t: TestSim; readonly sub: string } {
  let started: TestSim | undefined;
  before(async () => {
    started = await startTestSimulator(options);
  });
  after(() => started?.close());
  return {
    get t() {
      if (!started) throw new Error('the simulator is not started yet');
      return started;
    },
    get sub() {
      return this.t.sim.info.subscriptionId;
    },
  };
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = WAIT_MS,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Catches a rejected promise's error for assertions on `statusCode` / `code`. */
export async function failure(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode?: number; code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

/** GET over HTTPS trusting the simulator's CA (Node's fetch cannot take a CA per request). */
export async function httpsJson(
  url: string,
  ca: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A `fetch` that trusts the simulator's CA (for the `openai` package's `fetch` option). */
export { fetchWithCa } from '../../simulator/https-fetch';

/** What a simulated app's `GET /` answers. */
export interface AppRoot {
  instance: string;
  version: string | null;
  authMode: string;
}

/** Front-door helpers for the test estate's sites (`t` read at each call: simulators start in `before`). */
export function frontDoorOf(t: () => TestSim) {
  const get = async <T>(url: string) => {
    const res = await httpsJson(url, t().sim.info.caCert);
    return { status: res.status, body: res.body as T };
  };
  const siteUrl = (slot?: string, name = SITE) => t().sim.control.siteUrl(RG, name, slot);
  /** Waits until the slot's worker answers (after a recycle) and returns its `GET /`. */
  const whenUp = (slot?: string, name = SITE) =>
    eventually(async () => {
      const r = await get<AppRoot>(`${siteUrl(slot, name)}/`);
      return r.status === 200 ? r.body : undefined;
    });
  return { get, siteUrl, whenUp };
}
