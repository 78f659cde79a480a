/**
 * Every side effect of a migration, as Temporal activities. Each is idempotent: run twice (a retry after a timeout,
 * a worker that died mid-call), it ends in the same Azure state and returns the same answer. Secrets (keys, tokens)
 * are read in the Azure layer when needed and never returned: results carry names, ids and fingerprints only.
 *
 * This module adapts the Azure layer to Temporal: it gives it heartbeats, cancellation and cancellable sleep, makes
 * every activity heartbeat while it runs, and turns the Azure layer's failures into `ApplicationFailure`s.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CutoverFailure } from '../contracts/failures';
import type { RevokeEvidence } from '../contracts/access';
import type { FleetEvidence } from '../contracts/fleet';
import type { Evidence } from '../contracts/model';
import type { MigrationPlan } from '../plan/schema';
import type { AzureEndpoints, CredentialSource } from '../azure/clients';
import { createAzureContext } from '../azure/context';
import { type ArmGovernor, budgetSample, sharedGovernor } from '../azure/governor';
import { runPreflight } from '../azure/preflight';
import { accessActivities } from './access';
import { accountActivities } from './account';
import { cancellationSignal, heartbeat, pause } from './context';
import { writeEvidenceFile } from './evidence';
import { notifyActivities } from './notify';
import { observeActivities } from './observe';
import { targetActivities } from './target';
import { trafficActivities } from './traffic';

export interface ActivityDeps {
  /** Asked at every use: see `CredentialSource`. */
  readonly credential: CredentialSource;
  readonly endpoints: AzureEndpoints;
  /** Folder where evidence records are written. */
  readonly evidenceDir: string;
  /** Poll interval for Azure long-running operations. */
  readonly lroPollIntervalMs?: number;
  /** The worker's Temporal client, for the per-account key-switch lock. */
  readonly temporal?: { readonly client: Client };
  /** Webhook URLs by name, for the plans' notifications. */
  readonly webhooks?: Readonly<Record<string, string>>;
  /** The Temporal Web UI, for links in notifications. */
  readonly webUiUrl?: string;
  /**
   * The governor every migration's ARM requests wait on: the process's shared one by default, so that every
   * migration this worker runs spends one budget per subscription; `null` sends ungoverned (tests).
   */
  readonly governor?: ArmGovernor | null;
}

export function createActivities(deps: ActivityDeps) {
  const ctx = createAzureContext({
    credential: deps.credential,
    endpoints: deps.endpoints,
    ...(deps.lroPollIntervalMs !== undefined ? { lroPollIntervalMs: deps.lroPollIntervalMs } : {}),
    hooks: { progress: heartbeat, signal: cancellationSignal, pause },
    ...(deps.governor !== undefined ? { governor: deps.governor } : {}),
  });
  return temporalActivities({
    /** Read-only: every problem at once, or the state before the migration. */
    preflight: (input: { plan: MigrationPlan }) =>
      runPreflight(ctx, input.plan, { webhooks: Object.keys(deps.webhooks ?? {}) }),
    ...targetActivities(ctx),
    ...trafficActivities(ctx),
    ...accountActivities(ctx, deps.temporal),
    ...observeActivities(ctx),
    ...accessActivities(ctx),
    ...notifyActivities({ webhooks: deps.webhooks ?? {}, ...(deps.webUiUrl ? { webUiUrl: deps.webUiUrl } : {}) }),
    writeEvidence: async (evidence: Evidence) => ({ path: await writeEvidenceFile(deps.evidenceDir, evidence) }),
    /** This worker's ARM governor: rates against budgets (a fleet shows them); none when ARM is ungoverned. */
    armBudget: async () => {
      const governor = deps.governor === undefined ? sharedGovernor() : deps.governor;
      return governor ? { sample: budgetSample(governor) } : {};
    },
    writeFleetEvidence: async (evidence: FleetEvidence) => ({
      path: await writeEvidenceFile(deps.evidenceDir, evidence),
    }),
    writeRevokeEvidence: async (evidence: RevokeEvidence) => ({
      path: await writeEvidenceFile(deps.evidenceDir, evidence),
    }),
  });
}

export type MigrationActivities = ReturnType<typeof createActivities>;

/**
 * Wraps each activity so that it heartbeats for as long as it runs (short ARM calls too: a worker killed mid-call is
 * then noticed within the heartbeat timeout instead of the start-to-close timeout, and another worker takes over),
 * and so that the Azure layer's failures reach the workflow as typed `ApplicationFailure`s.
 */
function temporalActivities<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities))
    wrapped[name] = async (...args: never[]) => {
      // Repeats whatever the activity last reported (its progress, for a successor to resume from), else its name.
      heartbeat({ waitingFor: name });
      const timer = setInterval(() => heartbeat(), 2000);
      try {
        return await fn(...args);
      } catch (err) {
        throw err instanceof CutoverFailure
          ? ApplicationFailure.create({
              type: err.type,
              message: err.message,
              nonRetryable: err.nonRetryable,
              ...(err.options.details ? { details: [...err.options.details] } : {}),
            })
          : err;
      } finally {
        clearInterval(timer);
      }
    };
  return wrapped as T;
}
