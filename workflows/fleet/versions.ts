/**
 * `patched()` ids of the fleet workflow: each names a change that running fleets must not see mid-run. Histories
 * recorded before a change replay the old path (test/workflows/replay.test.ts, test/fixtures/histories/).
 */

/** Ready accounts switch their keys side by side, each under its own lock (before: one after another). */
export const PARALLEL_KEY_SWITCH = 'fleet-parallel-key-switch';
/**
 * The key-holder checks of a fleet's accounts share one pass over the estate (accounts checked at the same time
 * join one scan), and an account without a gate or a quiet period is checked once, under its lock (before: two
 * passes per account).
 */
export const SHARED_KEY_SCAN = 'fleet-shared-key-scan';
/** While children run, the fleet samples its worker's ARM governor (rates against budgets) for its progress. */
export const ARM_BUDGET_SAMPLE = 'fleet-arm-budget-sample';
/**
 * `onStop: roll-back-wave`: a wave's moved callers are held (their migrations signal `callerHeld` and wait) until
 * the wave ends, then kept — or, when the fleet stopped in the wave, rolled back with it.
 */
export const WAVE_ROLLBACK = 'fleet-wave-rollback';
