/**
 * Changes to the migration's workflow code that running executions would replay differently, each behind a
 * `patched()` id (see the README's "Changing workflow code"). An id is removed only once no execution that started
 * before it can still be running, and its replay fixtures are retired with it.
 */

/**
 * The key switch of issue 8: the key-holder check across subscriptions and Key Vault references runs before the
 * gate, waits within bounded history, the standby of a slot swap is moved off the key, and the account's key switch
 * happens under its lock, owning only the change it makes. Executions that started before replay the old path.
 */
export const KEY_SWITCH_V2 = 'key-switch-v2';

/** Notifications to the plan's webhooks (gate opened, rollback started/blocked, finished). */
export const NOTIFICATIONS = 'notifications';

/**
 * Observed key usage and analysis (issue 12): the quiet period in the account's diagnostic logs before the key
 * switch, and an analysis of metrics and logs after the switch and after the key switch.
 */
export const OBSERVED_USAGE = 'observed-usage';

/**
 * Probes poll inside one heartbeating activity (issue 14): the propagation wait and each smoke test write one
 * activity however many attempts they take, poll at the plan's interval without backing off, and resume from the
 * heartbeat when a worker dies. Executions that started before poll from the workflow, an activity and a timer
 * per attempt.
 */
export const POLL_IN_ACTIVITY = 'poll-in-activity';

/**
 * A fleet child held until its wave ends (`onStop: roll-back-wave`, issue 14): moved, it signals the fleet and
 * waits to be kept or rolled back with the wave. Only children started with a `waveHold` take the path.
 */
export const WAVE_HOLD = 'fleet-wave-hold';

/**
 * One migration, a small history (issue 14). One marker stands for every change above: an execution that has it
 * runs them all (notifications and the wave hold too) and writes no other marker. The propagation wait polls every
 * slot's identity in one activity; and when no approval stands before the key switch, the key check runs once,
 * under the account's lock, rather than before taking it and again under it. Executions that started before
 * replay the old path.
 */
export const LEAN_HISTORY = 'lean-history';
