/** A migration's targets by name (the target, and a slot swap's staging slot), from its before-state. */
import type { BeforeState, SiteSnapshot } from './model';

/** The target and, for a slot swap, its staging slot, by name rather than by position. */
export function snapshotsOf(before: BeforeState): { target: SiteSnapshot; staging?: SiteSnapshot } {
  const [target, staging] = before.sites;
  return staging ? { target, staging } : { target };
}
