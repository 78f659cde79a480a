/**
 * Shared by the reliability tests: the hostile estate (trimmed to the sites a file needs, so each file's simulator
 * spawns few app workers), the Azure part of the simulator's state for exact before/after comparisons, the request
 * log's writes, and the summary every reliability file appends to `<workDir>/reliability-summary.jsonl`.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { clientSecretCredential } from '../../activities/azure-clients';
import { createActivities } from '../../activities/migration';
import type { MigrationPlan } from '../../plan/schema';
import type { RequestLogEntry, Simulator } from '../../simulator';
import { testEnv } from '../support/env';
import { type Estate, estatePlan, startEstate } from '../support/estate';

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
  return createActivities({ credential, endpoints: estate.endpoints, evidenceDir: estate.evidenceDir });
}

/** A plan against the hostile estate (the test estate's short budgets); `overrides` are plan-file fields. */
export function hostilePlan(app: string, account: string, overrides: Record<string, unknown> = {}): MigrationPlan {
  return estatePlan(app, account, {
    changeTicket: `CHG-REL-${app}`,
    subscriptionId: HOSTILE_SUB,
    app: { resourceGroup: HOSTILE_RG, name: app },
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
