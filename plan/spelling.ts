/** "Did you mean …?" for a misspelt plan field: the closest known name, if it is close enough to be the one meant. */

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known name closest to `name` (ignoring case), or undefined when none is within a few typos of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const typed = name.toLowerCase();
  const allowed = typed.length < 4 ? 1 : typed.length < 8 ? 2 : 3;
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(typed, k.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { name: k, distance };
  }
  return best?.name;
}
