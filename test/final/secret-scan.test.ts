/**
 * Runs after every other test file (test/run.ts): decodes every payload of every workflow history the suite left
 * on the dev server, and reads the suite's own output and every evidence file, looking for each key, client
 * secret, token and identity header any simulator issued during the run. Zero hits, asserted.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { testEnv } from '../support/env';
import { appendSummary } from '../support/summary';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** Every string inside a history, with each base64 payload `data` decoded too. */
function historyTexts(json: string): { texts: string[]; payloads: number } {
  const texts = [json];
  let payloads = 0;
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'data' && typeof x === 'string') {
          payloads++;
          texts.push(Buffer.from(x, 'base64').toString('utf8'));
        } else walk(x);
      }
    }
  };
  walk(JSON.parse(json));
  return { texts, payloads };
}

test('no secret issued by the simulator appears in any workflow history, log or evidence file', async () => {
  const work = testEnv('workDir');
  const secrets = new Set<string>();
  for (const file of filesUnder(path.join(work, 'secrets')))
    for (const s of JSON.parse(readFileSync(file, 'utf8')) as string[]) if (s.length >= 8) secrets.add(s);
  assert.ok(secrets.size > 0, 'the suite recorded the secrets its simulators issued');

  const connection = await Connection.connect({ address: testEnv('temporalAddress') });
  const client = new Client({ connection });
  let histories = 0;
  let events = 0;
  let payloads = 0;
  const hits: string[] = [];
  const check = (where: string, text: string) => {
    for (const s of secrets) if (text.includes(s)) hits.push(`${where} contains a secret (${s.slice(0, 4)}…)`);
  };
  try {
    for await (const wf of client.workflow.list()) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      histories++;
      events += history.events?.length ?? 0;
      const scanned = historyTexts(historyToJSON(history));
      payloads += scanned.payloads;
      for (const t of scanned.texts) check(`history of ${wf.workflowId}`, t);
    }
  } finally {
    await connection.close();
  }
  // `cutover sim`'s credentials file in its data dir (<data-dir>/credentials-<port>.json, 0600).
  const SIM_CREDENTIALS = new RegExp(`${path.sep}simulator${path.sep}credentials-\\d+\\.json$`);
  const logs = filesUnder(work).filter(
    (f) =>
      /\.(log|json|md)$/.test(f) &&
      !f.includes(`${path.sep}secrets${path.sep}`) &&
      // The simulator's own stores (Azure's side, 0600): they hold its keys by design.
      !f.includes('simulator-data') &&
      !/^simulator-(state|credentials)\.json$/.test(path.basename(f)) &&
      !SIM_CREDENTIALS.test(f),
  );
  let lines = 0;
  for (const f of logs) {
    const text = readFileSync(f, 'utf8');
    lines += text.split('\n').length;
    check(path.relative(work, f), text);
  }
  appendSummary(work, {
    file: 'test/final/secret-scan.test.ts',
    scenario: `${secrets.size} secrets`,
    histories,
    linesScanned: lines,
    leaked: hits,
  });
  console.log(
    `secret scan: ${secrets.size} secrets × ${histories} histories (${events} events, ${payloads} payloads) and ${logs.length} log/evidence files (${lines} lines): ${hits.length} hits`,
  );
  assert.ok(histories > 0, 'the suite left workflow histories to scan');
  assert.deepEqual(hits, []);
});
