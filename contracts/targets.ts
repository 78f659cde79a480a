/** Callers (targets) as every layer names them. */
import type { BeforeState, SiteRef, SiteSnapshot } from './model';

/** "claims-bot" or "claims-bot/staging". */
export function describeTarget(ref: SiteRef): string {
  return ref.slot ? `${ref.name}/${ref.slot}` : ref.name;
}

/** The target and, for a slot swap, its staging slot, by name rather than by position. */
export function snapshotsOf(before: BeforeState): { target: SiteSnapshot; staging?: SiteSnapshot } {
  const [target, staging] = before.sites;
  return staging ? { target, staging } : { target };
}
