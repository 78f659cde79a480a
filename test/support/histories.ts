/**
 * Saved workflow histories for replay tests. `CUTOVER_RECORD_HISTORIES=1 npm test` refreshes the fixtures from
 * real runs; a change to workflow code that breaks determinism then fails test/workflows/replay.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORY_FIXTURES = path.join(__dirname, '..', 'fixtures', 'histories');

export async function saveHistory(name: string, history: temporal.api.history.v1.IHistory): Promise<void> {
  if (process.env.CUTOVER_RECORD_HISTORIES !== '1') return;
  mkdirSync(HISTORY_FIXTURES, { recursive: true });
  writeFileSync(path.join(HISTORY_FIXTURES, `${name}.json`), historyToJSON(history));
}
