/**
 * Integration harness: the Azure simulator (test estate), real activities over the real Azure SDK clients, and a
 * worker on the run's dev server. Records every secret the simulator issued, so the suite's final scan can look
 * for them in every workflow history, log and evidence file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import {
  type AzureClients,
  type AzureEndpoints,
  clientSecretCredential,
  createAzureClients,
} from '../../azure/clients';
import { type ActivityDeps, createActivities } from '../../activities';
import { httpRequest } from '../../azure/http';
import { parsePlan, type MigrationPlan } from '../../plan/schema';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { type Simulator, type StartSimulatorOptions, startSimulator } from '../../simulator';
import { migrationWorkflowId } from '../../contracts/ids';
import type { MigrationInput, MigrationResult } from '../../contracts/model';
import { migrateToManagedIdentity } from '../../workflows';
import { saveHistory } from './histories';
import { testEnv } from './env';
import { temporalHarness, type TemporalHarness } from './temporal';
import { WAIT_MS } from './wait';

export const ESTATE = path.join(__dirname, '..', 'fixtures', 'scenarios', 'estate.yaml');
export const TENANT = '11111111-1111-4111-8111-111111111111';
export const OTHER_TENANT = '22222222-2222-4222-8222-222222222222';
export const SUB = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
export const RG = 'rg-claims';
export const UAMI_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-claims-bot`;

export interface Estate {
  readonly sim: Simulator;
  readonly endpoints: AzureEndpoints;
  readonly credential: TokenCredential;
  readonly azure: AzureClients;
  readonly temporal: TemporalHarness;
  readonly evidenceDir: string;
  /** Real activities for the worker principal. */
  activities(extra?: Partial<ActivityDeps>): ReturnType<typeof createActivities>;
  /** Records the simulator's secrets for the final leak scan, then closes everything. */
  close(): Promise<void>;
}

/**
 * The test estate with some sites renamed, written under the test's work directory. Every test file shares one
 * Temporal server, and the CLI finds a migration by app name across the whole namespace: a test that resolves an
 * app by name migrates an app no other file migrates.
 */
export function renamedEstate(renames: Readonly<Record<string, string>>, base = ESTATE): string {
  const scenario = parseYaml(readFileSync(base, 'utf8')) as {
    subscriptions: { resourceGroups: { sites?: { name: string }[] }[] }[];
    roleAssignments?: { scope?: { site?: string } }[];
  };
  const found = new Set<string>();
  for (const sub of scenario.subscriptions)
    for (const rg of sub.resourceGroups)
      for (const site of rg.sites ?? [])
        if (renames[site.name]) {
          found.add(site.name);
          site.name = renames[site.name];
        }
  for (const assignment of scenario.roleAssignments ?? [])
    if (assignment.scope?.site && renames[assignment.scope.site])
      assignment.scope.site = renames[assignment.scope.site];
  const missing = Object.keys(renames).filter((n) => !found.has(n));
  if (missing.length) throw new Error(`renamedEstate: no site ${missing.join(', ')} in ${base}`);
  const dir = path.join(testEnv('workDir'), 'scenarios');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${Object.values(renames).join('+')}.yaml`);
  writeFileSync(file, stringifyYaml(scenario));
  return file;
}

/**
 * `simulator`: further start options. Apps run in the simulator's process (`in-process`) unless a test asks for
 * OS processes: the two runtimes speak the same protocols (test/simulator/app-runtimes.test.ts, and
 * test/integration/migration.test.ts runs under both), and a process costs ~0.6 s of CPU to start under tsx — each
 * estate, each reset and each restart starts them anew, which made them most of the suite's CPU on two cores.
 */
export async function startEstate(
  name: string,
  scenario = ESTATE,
  simulator: Pick<StartSimulatorOptions, 'appRuntime'> = {},
): Promise<Estate> {
  const work = testEnv('workDir');
  const sim = await startSimulator({
    scenario,
    dataDir: path.join(work, 'simulator-data'),
    appRuntime: simulator.appRuntime ?? 'in-process',
  });
  const endpoints: AzureEndpoints = {
    armEndpoint: sim.info.armEndpoint,
    authorityHost: sim.info.authorityHost,
    caCert: sim.info.caCert,
    logsEndpoint: sim.info.logsEndpoint,
    metricsEndpoint: sim.info.metricsEndpoint,
  };
  const credential = clientSecretCredential(endpoints, sim.control.credentials('cutover-worker'));
  const temporal = await temporalHarness(name);
  const evidenceDir = path.join(work, 'evidence');
  return {
    sim,
    endpoints,
    credential,
    azure: createAzureClients(credential, SUB, endpoints),
    temporal,
    evidenceDir,
    activities: (extra: Partial<ActivityDeps> = {}) =>
      createActivities({
        credential,
        endpoints,
        evidenceDir,
        lroPollIntervalMs: 100,
        temporal: { client: temporal.client },
        ...extra,
      }),
    async close() {
      recordSecrets(name, sim.control.secrets());
      await temporal.close();
      await sim.close();
    },
  };
}

/** Appends secrets to the run's secret list (test temp dir only), for test/final/secret-scan.test.ts. */
export function recordSecrets(name: string, secrets: readonly string[]): void {
  const dir = path.join(testEnv('workDir'), 'secrets');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}-${process.pid}-${Date.now()}.json`), JSON.stringify(secrets), { mode: 0o600 });
}

/**
 * Polls and budgets of every test plan (and fleet plan defaults): short polls, generous budgets.
 */
export const TEST_PLAN_TIMING = {
  smokeTest: { interval: '250ms', requestTimeout: '5s' },
  // Budgets are not what these tests are about, so none may run out on a slow machine. Sized past the worst
  // recovery a test provokes on a loaded 2-core machine: a SIGKILLed worker's activity is retried only after its
  // 10 s heartbeat timeout plus the retry backoff, and its replacement process (tsx, the workflow bundle) and the
  // app workers the simulator forks after every settings change can each take tens of seconds to start while a
  // second suite runs. Tests about an exhausted budget set a short one and make the simulator slower than it by a
  // wide margin (an app that cannot pass, a propagation of hours).
  budgets: { propagationWait: '10m', downtime: '10m', approvalTimeout: '15m', localAuthSwitch: '10m' },
} as const;

/** A fleet plan's `defaults` for the test estates: TEST_PLAN_TIMING, keys and analyses as in estatePlanFields. */
export const TEST_FLEET_DEFAULTS = {
  ...TEST_PLAN_TIMING,
  localAuth: { quietPeriod: '0s' },
  analysis: { after: [] },
};

/** A plan against the test estate; `overrides` are plan-file fields. */
export function estatePlan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return parsePlan(estatePlanFields(app, account, overrides));
}

/** The plan-file fields of `estatePlan` (short polls, generous budgets), e.g. to write a plan file for the CLI. */
export function estatePlanFields(
  app: string,
  account: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    changeTicket: `CHG-${app}`,
    tenantId: TENANT,
    subscriptionId: SUB,
    target: { kind: 'app-service', resourceGroup: RG, name: app },
    account: { name: account, deployment: 'gpt-4o-mini' },
    ...TEST_PLAN_TIMING,
    approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: false },
    // The log check and the analyses cost seconds of waiting for Azure Monitor data per run: they are tested where
    // they are the point (test/integration/observed-usage.test.ts), off elsewhere.
    ...overrides,
    localAuth: { quietPeriod: '0s', ...(overrides.localAuth as object | undefined) },
    analysis: { after: [], ...(overrides.analysis as object | undefined) },
  };
}

/**
 * The health an app answers once it is up: an app restarting after a settings change answers 503 from the front door
 * until its new worker listens, which may take a while on a loaded machine. Returns the last answer after WAIT_MS.
 */
export async function appHealth(estate: Estate, resourceGroup: string, name: string, slot?: string) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await httpRequest(`${estate.sim.control.siteUrl(resourceGroup, name, slot)}/health`, {
      timeoutMs: 30_000,
      ca: estate.sim.info.caCert,
    });
    const body = res.json<{ authMode?: string; error?: { code?: string } }>() ?? {};
    if (body.authMode || Date.now() > deadline) return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The parts of the simulator state a migration may change, for exact before/after comparisons. */
export function footprint(estate: Estate, accountName: string) {
  const s = estate.sim.control.state();
  const sites = Object.values(s.sites).map((site) => ({
    name: site.name,
    sticky: [...site.stickySettingNames].sort(),
    slots: Object.values(site.slots)
      .map((slot) => ({
        name: slot.name,
        settings: slot.settings,
        systemPrincipalId: slot.systemPrincipalId ?? null,
        userAssigned: [...slot.userAssigned].map((u) => u.toLowerCase()).sort(),
        hostKeys: slot.hostKeys ?? null,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }));
  const account = Object.values(s.accounts).find((a) => a.name === accountName)!;
  const roleAssignments = Object.values(s.roleAssignments)
    .map((ra) => `${ra.name}|${ra.principalId}|${ra.roleDefinitionId}|${ra.scope.toLowerCase()}`)
    .sort();
  const principals = Object.keys(s.principals).sort();
  return { sites, disableLocalAuth: account.disableLocalAuth, roleAssignments, principals };
}

/** Starts the migration of `plan` (a fresh workflow id each time) as alice, on `estate`'s task queue. */
export function startMigrationOf(estate: Estate, plan: MigrationPlan) {
  const input: MigrationInput = { plan, initiatedBy: 'alice' };
  return estate.temporal.client.workflow.start(migrateToManagedIdentity, {
    taskQueue: estate.temporal.taskQueue,
    workflowId: `${migrationWorkflowId(plan)}/${Date.now()}`,
    args: [input],
  });
}

/**
 * Runs a migration to its end on a worker of real activities, `during` it whatever the test does meanwhile, and
 * saves its history under `name` (when recording, see ./histories.ts).
 */
export async function runMigration(
  estate: Estate,
  name: string,
  plan: MigrationPlan,
  during?: (handle: Awaited<ReturnType<typeof startMigrationOf>>) => Promise<void>,
): Promise<MigrationResult> {
  return estate.temporal.withWorker(estate.activities(), async () => {
    const handle = await startMigrationOf(estate, plan);
    await during?.(handle);
    const result = await handle.result();
    await saveHistory(name, await handle.fetchHistory());
    return result;
  });
}
