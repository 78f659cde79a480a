/**
 * Integration harness: the Azure simulator (test estate), real activities over the real Azure SDK clients, and a
 * worker on the run's dev server. Records every secret the simulator issued, so the suite's final scan can look
 * for them in every workflow history, log and evidence file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import {
  type AzureClients,
  type AzureEndpoints,
  clientSecretCredential,
  createAzureClients,
} from '../../azure/clients';
import { type ActivityDeps, createActivities } from '../../activities';
import { parsePlan, type MigrationPlan } from '../../plan/schema';
import { type Simulator, startSimulator } from '../../simulator';
import { testEnv } from './env';
import { temporalHarness, type TemporalHarness } from './temporal';

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

export async function startEstate(name: string, scenario = ESTATE): Promise<Estate> {
  const work = testEnv('workDir');
  const sim = await startSimulator({ scenario, dataDir: path.join(work, 'simulator-data') });
  const endpoints: AzureEndpoints = {
    armEndpoint: sim.info.armEndpoint,
    authorityHost: sim.info.authorityHost,
    caCert: sim.info.caCert,
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

/** A plan against the test estate; `overrides` are plan-file fields. */
export function estatePlan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return parsePlan(estatePlanFields(app, account, overrides));
}

/** The plan-file fields of `estatePlan` (short budgets and polls), e.g. to write a plan file for the CLI. */
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
    smokeTest: { interval: '250ms', requestTimeout: '5s' },
    // Sized for the worst recovery a test provokes on a loaded 2-core machine (a replacement worker, app workers
    // spawning slowly); tests about exhausted budgets set their own.
    budgets: { propagationWait: '90s', downtime: '60s', approvalTimeout: '5m', localAuthSwitch: '60s' },
    approvals: { beforeSettingsSwap: false, beforeDisableLocalAuth: false },
    ...overrides,
  };
}
