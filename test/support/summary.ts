/**
 * The reliability summary: test files append one JSON line each to `<workDir>/reliability-summary.jsonl` (what they
 * tried, what they counted, what was lost or leaked), and test/run.ts prints the combined figures at the end.
 *
 * A line is a `SummaryEntry`; every figure is optional, so each kind of test fills in only what it measures.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const SUMMARY_FILE = 'reliability-summary.jsonl';

export interface SummaryEntry {
  /** The test file (relative path) and the scenario within it. */
  readonly file: string;
  readonly scenario: string;
  /** Worker kills or server restarts, each named (`identity`, `mid swap LRO` …). */
  readonly crashPoints?: readonly string[];
  /** Injected faults, each named (`429 Microsoft.Web/sites/read` …). */
  readonly faults?: readonly string[];
  /** Bad or dangerous inputs tried. */
  readonly badInputs?: number;
  /** ARM requests the simulator logged for the scenario. */
  readonly armRequests?: number;
  /** Workflow histories and lines (log, evidence) scanned for secrets. */
  readonly histories?: number;
  readonly linesScanned?: number;
  /** What was lost (a change missing or doubled, a state that differs) or leaked (a secret found): must be empty. */
  readonly lost?: readonly string[];
  readonly leaked?: readonly string[];
}

export function appendSummary(workDir: string, entry: SummaryEntry): void {
  appendFileSync(path.join(workDir, SUMMARY_FILE), `${JSON.stringify(entry)}\n`);
}

export function readSummary(workDir: string): SummaryEntry[] {
  const file = path.join(workDir, SUMMARY_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as SummaryEntry];
      } catch {
        return [];
      }
    });
}

/** The combined summary test/run.ts prints; undefined when no test wrote one. */
export function formatSummary(entries: readonly SummaryEntry[]): string | undefined {
  if (entries.length === 0) return undefined;
  const sum = (f: (e: SummaryEntry) => number | undefined) => entries.reduce((n, e) => n + (Number(f(e)) || 0), 0);
  const files = new Set(entries.map((e) => e.file));
  // Lines come from several authors' files: tolerate items that are not strings.
  const items = (e: SummaryEntry, list: readonly unknown[] | undefined) =>
    (Array.isArray(list) ? list : []).map(
      (l: unknown) => `${e.file} (${e.scenario}): ${typeof l === 'string' ? l : JSON.stringify(l)}`,
    );
  const lost = entries.flatMap((e) => items(e, e.lost));
  const leaked = entries.flatMap((e) => items(e, e.leaked));
  const rows: [string, string | number][] = [
    ['crash points tried', sum((e) => e.crashPoints?.length)],
    ['faults injected', sum((e) => e.faults?.length)],
    ['bad inputs tried', sum((e) => e.badInputs)],
    ['ARM requests counted', sum((e) => e.armRequests)],
    ['secret scan', `${sum((e) => e.histories)} histories, ${sum((e) => e.linesScanned)} lines`],
    ['lost', lost.length === 0 ? 'nothing' : lost.join('; ')],
    ['leaked', leaked.length === 0 ? 'nothing' : leaked.join('; ')],
  ];
  const lines = [
    `reliability summary (${entries.length} scenarios in ${files.size} files)`,
    ...rows.map(([label, value]) => `  ${`${label}:`.padEnd(22)}${value}`),
  ];
  return lines.join('\n');
}
