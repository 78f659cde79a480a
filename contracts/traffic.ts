/**
 * A container app's ingress traffic as a traffic shift records and writes it (plain data: it crosses into
 * history). Pure functions only, so the workflow computes each step's weights and records them before writing.
 */

/** One entry of `ingress.traffic`, as Azure spells it. */
export interface TrafficEntry {
  readonly revisionName?: string;
  readonly latestRevision?: boolean;
  readonly weight: number;
  readonly label?: string;
}

/** The app's traffic and revisions before a traffic shift: what its rollback puts back. */
export interface TrafficBefore {
  /** `ingress.traffic` exactly as it was. */
  readonly traffic: readonly TrafficEntry[];
  /** The revision `latestRevision: true` named then (a new revision becomes the latest, so it is pinned by name). */
  readonly latestRevisionName: string;
  /** Revisions that were active. */
  readonly activeRevisions: readonly string[];
}

/**
 * The before traffic with each entry pinned to the revision it reached (a `latestRevision` entry to the revision
 * that was the latest): the same weights per revision, whatever revision is made next.
 */
export function pinned(before: TrafficBefore): TrafficEntry[] {
  return before.traffic.map(({ latestRevision, revisionName, ...rest }) => ({
    ...rest,
    revisionName: latestRevision ? before.latestRevisionName : (revisionName ?? before.latestRevisionName),
  }));
}

/**
 * The traffic with `revision` at `percent` and the rest shared among the before traffic in proportion (largest
 * remainder, so the weights are whole and sum to 100). At 100: all to the revision — as `latestRevision: true`
 * when the app followed its latest revision before (the new revision is the latest), else pinned to it.
 */
export function trafficAt(before: TrafficBefore, revision: string, percent: number): TrafficEntry[] {
  if (percent >= 100) {
    const followedLatest = before.traffic.length === 1 && before.traffic[0].latestRevision === true;
    return [followedLatest ? { latestRevision: true, weight: 100 } : { revisionName: revision, weight: 100 }];
  }
  const base = pinned(before).filter((t) => t.weight > 0);
  const total = base.reduce((s, t) => s + t.weight, 0);
  const rest = 100 - percent;
  const exact = base.map((t) => (t.weight * rest) / total);
  const shares = exact.map(Math.floor);
  let left = rest - shares.reduce((s, w) => s + w, 0);
  for (const i of exact.map((x, i) => i).sort((a, b) => exact[b] - shares[b] - (exact[a] - shares[a]) || a - b)) {
    if (left <= 0) break;
    shares[i]++;
    left--;
  }
  return [...base.map((t, i) => ({ ...t, weight: shares[i] })), { revisionName: revision, weight: percent }];
}
