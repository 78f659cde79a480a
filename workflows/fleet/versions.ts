/**
 * `patched()` ids of the fleet workflow: each names a change that running fleets must not see mid-run. Histories
 * recorded before a change replay the old path (test/workflows/replay.test.ts, test/fixtures/histories/).
 */

/** Ready accounts switch their keys side by side, each under its own lock (before: one after another). */
export const PARALLEL_KEY_SWITCH = 'fleet-parallel-key-switch';
