/**
 * Determinism guard: every saved history of a real run (test/fixtures/histories/<era>/, one folder per workflow
 * version, recorded with `CUTOVER_RECORD_HISTORIES=1 npm test -- test/integration`) must replay on the current
 * workflow code. A change that alters what a running execution replays must go through `patched()`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testEnv } from '../support/env';
import { CURRENT_ERA, savedHistories } from '../support/histories';
import { installQuietRuntime } from '../support/temporal';

const eras = savedHistories();

test('there are saved histories of the current workflow version and of the one before it', () => {
  assert.ok(
    eras.length >= 2,
    `expected at least two eras of saved histories, found ${eras.map((e) => e.era).join(', ')}`,
  );
  assert.ok(
    eras.some((e) => e.era === CURRENT_ERA),
    `no saved histories of the current version ${CURRENT_ERA}`,
  );
});

for (const { era, files } of eras) {
  test(`saved histories recorded by version ${era} replay on the current workflow code`, async () => {
    installQuietRuntime();
    assert.ok(
      files.length >= 6,
      `expected the saved histories of the integration runs in ${era}, found ${files.length}`,
    );
    const histories = files.map((f) => ({
      workflowId: `${era}/${path.basename(f, '.json')}`,
      history: historyFromJSON(JSON.parse(readFileSync(f, 'utf8'))),
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
}
