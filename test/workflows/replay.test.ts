/**
 * Determinism guard: every saved history of a real run (test/fixtures/histories, refreshed with
 * `CUTOVER_RECORD_HISTORIES=1 npm test`) must replay on the current workflow code.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testEnv } from '../support/env';
import { HISTORY_FIXTURES } from '../support/histories';
import { installQuietRuntime } from '../support/temporal';

test('saved histories of real migrations replay on the current workflow code', async () => {
  installQuietRuntime();
  const files = readdirSync(HISTORY_FIXTURES).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 6, `expected the saved histories of the integration runs, found ${files.length}`);
  const histories = files.map((f) => ({
    workflowId: path.basename(f, '.json'),
    history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, f), 'utf8'))),
  }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: testEnv('workflowBundle') } },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
  }
  assert.deepEqual(failures, []);
});
