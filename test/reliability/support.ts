/**
 * Shared by the reliability tests: the hostile estate (trimmed to the sites a file needs, so each file's simulator
 * spawns few app workers), the Azure part of the simulator's state for exact before/after comparisons, the request
 * log's writes, and the summary every reliability file appends to `<workDir>/reliability-summary.jsonl`.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { type AzureClients, clientSecretCredential, createAzureClients } from '../../azure/clients';
import { createActivities } from '../../activities';
import type { MigrationPlan } from '../../plan/schema';
import type { RequestLogEntry, Simulator } from '../../simulator';
import { testEnv } from '../support/env';
import { appHealth as sharedAppHealth, type Estate, estatePlan, startEstate } from '../support/estate';

export const HOSTILE = path.join(__dirname, '..', 'fixtures', 'scenarios', 'hostile.yaml');
export const HOSTILE_SUB = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
export const HIDDEN_SUB = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
export const FABRIKAM_SUB = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
export const HOSTILE_RG = 'rg-hostile';

interface ScenarioDoc {
  subscriptions: { resourceGroups?: { sites?: { name: string }[] }[] }[];
}

/** Starts the hostile estate with only `sites` (every other resource kept): one app worker per kept site and slot. */
export async function startHostileEstate(name: string, sites: readonly string[]): Promise<Estate> {
  const doc = parse(readFileSync(HOSTILE, 'utf8')) as ScenarioDoc;
  for (const sub of doc.subscriptions)
    for (const rg of sub.resourceGroups ?? []) rg.sites = (rg.sites ?? []).filter((s) => sites.includes(s.name));
  const file = path.join(testEnv('workDir'), `hostile-${name}-${process.pid}.yaml`);
  writeFileSync(file, stringify(doc));
  return startEstate(name, file);
}

/** Real activities signed in as another principal of the scenario (a worker short of roles). */
export function activitiesAs(estate: Estate, principal: string): ReturnType<typeof createActivities> {
  const credential = clientSecretCredential(estate.endpoints, estate.sim.control.credentials(principal));
  return createActivities({
    credential,
    endpoints: estate.endpoints,
    evidenceDir: estate.evidenceDir,
    temporal: { client: estate.temporal.client },
  });
}

/** A plan against the hostile estate (the test estate's short budgets); `overrides` are plan-file fields. */
export function hostilePlan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-REL-${app}`,
    subscriptionId: HOSTILE_SUB,
    target: { kind: 'app-service', resourceGroup: HOSTILE_RG, name: app },
    ...overrides,
  });
}

/** Everything Azure would persist (resources, principals, role assignments, operations); not knobs, apps or log. */
export function azureState(sim: Simulator): unknown {
  const s = sim.control.state();
  return JSON.parse(
    JSON.stringify({
      tenants: s.tenants,
      principals: s.principals,
      subscriptions: s.subscriptions,
      sites: s.sites,
      identities: s.identities,
      accounts: s.accounts,
      roleAssignments: s.roleAssignments,
      revokedAssignments: s.revokedAssignments,
      operations: s.operations,
    }),
  ) as unknown;
}

/** ARM actions that only read, though sent as POST. */
const READ_ACTION = /(\/read|\/list\/action|\/listKeys\/action)$/i;

/** ARM requests in the log that would change something (attempted, whatever Azure answered). */
export function armWrites(sim: Simulator): RequestLogEntry[] {
  return sim.control
    .requests()
    .filter(
      (r) =>
        r.surface === 'arm' &&
        (['PUT', 'PATCH', 'DELETE'].includes(r.method) ||
          (r.method === 'POST' && !(r.operation && READ_ACTION.test(r.operation)))),
    );
}

export function describeRequest(r: RequestLogEntry): string {
  return `${r.method} ${r.operation ?? r.path} → ${r.status}`;
}

/** Prints the file's summary line and appends it, as JSON, to the run's combined reliability summary. */
export function reportSummary(area: string, line: string, figures: Record<string, unknown>): void {
  process.stdout.write(`${area}: ${line}\n`);
  appendFileSync(
    path.join(testEnv('workDir'), 'reliability-summary.jsonl'),
    `${JSON.stringify({ area, summary: line, ...figures, at: new Date().toISOString() })}\n`,
  );
}

/** SDK clients on the hostile subscription, signed in as the worker (to change an app's settings mid-test). */
export function hostileClients(estate: Estate): AzureClients {
  return createAzureClients(estate.credential, HOSTILE_SUB, estate.endpoints);
}

/** What a migration of `sites` on `account` may change: their settings and identities, the account, its roles. */
export function footprint(sim: Simulator, sites: readonly string[], account: string): unknown {
  const s = sim.control.state();
  const acct = Object.values(s.accounts).find((a) => a.name === account)!;
  return {
    sites: Object.values(s.sites)
      .filter((site) => sites.includes(site.name))
      .map((site) => ({
        name: site.name,
        slots: Object.values(site.slots).map((slot) => ({
          name: slot.name,
          settings: slot.settings,
          systemPrincipalId: slot.systemPrincipalId ?? null,
          userAssigned: [...slot.userAssigned].sort(),
        })),
      })),
    disableLocalAuth: acct.disableLocalAuth,
    roleAssignments: Object.values(s.roleAssignments)
      .filter((ra) => ra.scope.toLowerCase() === acct.id.toLowerCase())
      .map((ra) => `${ra.name}|${ra.principalId}|${ra.roleDefinitionId}`)
      .sort(),
  };
}

/** The app's health once it answers (a recycling app answers 503 from the front door until its worker listens). */
export function appHealth(estate: Estate, name: string) {
  return sharedAppHealth(estate, HOSTILE_RG, name);
}

export { waitForProgress } from '../support/progress';
