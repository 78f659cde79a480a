/**
 * Saved workflow histories for replay tests, one folder per workflow version ("era"). `CUTOVER_RECORD_HISTORIES=1
 * npm test -- test/integration` records real runs into the folder of the current version (`CURRENT_ERA`); the
 * folders of older versions are kept as they were recorded, so test/workflows/replay.test.ts proves that the
 * current workflow code still replays executions started by every earlier version (see the README's "Changing
 * workflow code").
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORY_FIXTURES = path.join(__dirname, '..', 'fixtures', 'histories');

/** The workflow version new recordings belong to: the newest `patched()` id of cutover's workflows. */
export const CURRENT_ERA = 'lean-history';

export async function saveHistory(name: string, history: temporal.api.history.v1.IHistory): Promise<void> {
  if (process.env.CUTOVER_RECORD_HISTORIES !== '1') return;
  const dir = path.join(HISTORY_FIXTURES, CURRENT_ERA);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), historyToJSON(history));
}

/** Every era folder and the history files in it. */
export function savedHistories(): { era: string; files: string[] }[] {
  return readdirSync(HISTORY_FIXTURES)
    .filter((era) => statSync(path.join(HISTORY_FIXTURES, era)).isDirectory())
    .sort()
    .map((era) => ({
      era,
      files: readdirSync(path.join(HISTORY_FIXTURES, era))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(HISTORY_FIXTURES, era, f)),
    }));
}
