/**
 * `migrateToManagedIdentity`: moves one caller of Azure OpenAI (today an App Service app) from an API key to a
 * managed identity, safely, reversibly and with evidence. The entry function below is the runbook; each stage is a
 * module of ./stages, the bookkeeping (stage board, gates, saga, polling) lives in ../kit.
 *
 * Compensations are recorded *before* each change and undo only what this run changed, in reverse, outside the
 * forward scope; one that keeps failing blocks the rollback until an operator retries or skips it.
 *
 * Messages (./messages.ts): updates `approve`, `reject`, `abort`, `retryCompensation`, `skipCompensation`; query
 * `progress`. Rollback triggers: a failed smoke test or exhausted downtime budget, a rejection, an approval timeout
 * (per plan), `abort`, and workflow cancellation.
 */
import { CancellationScope, patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { MigrationInput, MigrationResult } from '../../contracts/model';
import { initialSearchAttributes } from '../../contracts/search-attributes';
import { registerHandlers } from './handlers';
import { analyse } from './stages/analysis';
import { enableIdentity } from './stages/identity';
import { finish } from './stages/evidence';
import { switchKeysOff } from './stages/key-switch';
import { switchKeysOffV1 } from './stages/key-switch-v1';
import { AccountLock } from './stages/lock';
import { preflight } from './stages/preflight';
import { waitForPropagation } from './stages/propagation';
import { assignRole } from './stages/role';
import { stopAndRollBack } from './stages/rollback';
import { switchToIdentity } from './stages/settings';
import { retireOldRevisions } from './stages/traffic';
import { holdForWave } from './stages/wave-hold';
import { MigrationRun, type RunVersions } from './state';
import { KEY_SWITCH_V2, LEAN_HISTORY, OBSERVED_USAGE, POLL_IN_ACTIVITY } from './versions';

export async function migrateToManagedIdentity(input: MigrationInput): Promise<MigrationResult> {
  const run = new MigrationRun(input, versions());
  const forward = new CancellationScope();
  registerHandlers(run, forward);
  const lock = new AccountLock(run);
  upsertSearchAttributes(initialSearchAttributes(run.plan));
  run.refresh();

  try {
    await forward.run(async () => {
      await preflight(run); //                           read-only checks, the before-state
      const principals = await enableIdentity(run); //   1. managed identity
      await assignRole(run, principals); //              2. least-privilege role on the account
      await waitForPropagation(run); //                  3. durable wait until the identity gets through
      await switchToIdentity(run); //                    4. [approval] settings / swap, smoke test, downtime budget
      if (run.observed) await analyse(run, 'switch'); // 4b. analysis: the app's errors, refusals, consumed downtime
      if (run.v2)
        await switchKeysOff(run, lock); //     5–6. key holders and key usage, [approval], key auth off, proof, analysis
      else await switchKeysOffV1(run);
      if (run.plan.strategy.type === 'traffic-shift') await retireOldRevisions(run); // once only, if not yet
      await holdForWave(run); //                        [fleet] held until the wave ends: kept, or rolled back with it
    });
    run.outcome = 'succeeded';
  } catch (err) {
    await stopAndRollBack(run, lock, err); //            undo exactly what this run changed, in reverse
  }
  return finish(run, lock); //                           evidence, whatever happened
}

/** Which changes of versions.ts this execution runs: one marker for a new one, the old markers for an old one. */
function versions(): RunVersions {
  if (patched(LEAN_HISTORY)) return { keySwitchV2: true, observedUsage: true, pollInActivity: true, lean: true };
  return {
    keySwitchV2: patched(KEY_SWITCH_V2),
    observedUsage: patched(OBSERVED_USAGE),
    pollInActivity: patched(POLL_IN_ACTIVITY),
    lean: false,
  };
}
