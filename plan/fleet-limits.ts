/**
 * What Temporal allows of one fleet, checked when the plan is read, before anything starts: its children at once,
 * the events and bytes a wave adds to the fleet's history, the size of the fleet's workflow input.
 */
import type { FleetPlan, FleetWave } from '../contracts/fleet';
import type { PlanProblem } from './problems';

/** Temporal allows 2,000 pending children per workflow; a window well below keeps the parent responsive. */
export const MAX_CONCURRENCY = 200;
/**
 * Callers in one wave, at most. The fleet continues as new only between waves, and each child adds about ten events
 * and its result (~16 KB) to the fleet's history: a thousand stay well within Temporal's limits (51,200 events,
 * 50 MB). With `onStop: roll-back-wave` every one of them is also an open child at once (Temporal: 2,000).
 */
export const MAX_WAVE_CALLERS = 1_000;
/**
 * The resolved plan is the fleet's workflow input, carried again with its records each time it continues as new
 * and summed up in its result: Temporal refuses a payload over 2 MB (and warns from 512 KB), so the plan keeps to
 * half of that: a caller adds 0.2 KB to 1.2 KB, by its own plan fields (bench:fleet's 500 make 585 KB).
 */
export const MAX_FLEET_PLAN_BYTES = 1024 * 1024;

/** Waves too large for the fleet's history; `at` maps a wave to its index in the file. */
export function oversizedWaves(waves: readonly FleetWave[], at: readonly number[]): PlanProblem[] {
  return waves.flatMap((w, wi) =>
    w.callers.length > MAX_WAVE_CALLERS
      ? [
          {
            field: `waves.${at[wi]}`,
            message: `has ${w.callers.length} callers, at most ${MAX_WAVE_CALLERS.toLocaleString('en-US')}: the fleet continues as new only between waves, so split it (by env, or lists of callers)`,
          },
        ]
      : [],
  );
}

/** The plan as a workflow input over Temporal's payload limit, or nothing. */
export function oversizedInput(plan: FleetPlan): PlanProblem | undefined {
  const bytes = new TextEncoder().encode(JSON.stringify(plan)).length;
  if (bytes <= MAX_FLEET_PLAN_BYTES) return undefined;
  return {
    field: 'callers',
    message: `${plan.callers.length} callers make a workflow input of ${Math.ceil(bytes / 1024)} KB, at most ${MAX_FLEET_PLAN_BYTES / 1024} KB: split the estate into several fleets (by subscription, account or env)`,
  };
}
