/**
 * Bad input: every plan in test/fixtures/bad-plans/ (and a generated huge one) is refused with the error
 * cases.yaml names — by the plan loader (schema) or by the read-only preflight, run directly and through the
 * workflow — and Azure is left exactly as it was: the simulator's state is deep-equal before and after, and its
 * request log holds no write.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import { loadPlanFile, MAX_PLAN_BYTES, parsePlanText } from '../../plan/load';
import { type MigrationPlan, PlanValidationError } from '../../plan/schema';
import { migrateToManagedIdentity } from '../../workflows';
import { FailureType } from '../../contracts/failures';
import { migrationWorkflowId } from '../../contracts/ids';
import type { PreflightProblem } from '../../contracts/model';
import { testEnv } from '../support/env';
import type { Estate } from '../support/estate';
import { armWrites, azureState, describeRequest, hostilePlan, reportSummary, startHostileEstate } from './support';

const CORPUS = path.join(__dirname, '..', 'fixtures', 'bad-plans');

interface Expected {
  readonly field?: string;
  readonly check?: string;
  readonly message: string;
  readonly hint?: string;
}
interface Case {
  readonly stage: 'schema' | 'preflight';
  readonly errors: readonly Expected[];
  /** These are all the errors reported, not only among them. */
  readonly exactly?: boolean;
  /** The plan holds secrets in settings.set: no error may repeat one. */
  readonly secret?: boolean;
}

const cases = parse(readFileSync(path.join(CORPUS, 'cases.yaml'), 'utf8')) as Record<string, Case>;
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.yaml') && f !== 'cases.yaml');
const schemaCases = files.filter((f) => cases[f]?.stage === 'schema').sort();
const preflightCases = files.filter((f) => cases[f]?.stage === 'preflight').sort();

/** Asserts every expected error is among the reported ones (field or check, and message pattern). */
function assertReported(
  file: string,
  reported: readonly { field?: string; check?: string; message: string; hint?: string }[],
  expected: readonly Expected[],
  exactly = false,
) {
  if (exactly) assert.equal(reported.length, expected.length, `${file}: exactly ${JSON.stringify(reported)}`);
  for (const e of expected) {
    const re = new RegExp(e.message, 'i');
    const found = reported.some(
      (r) =>
        (e.field === undefined || r.field === e.field) &&
        (e.check === undefined || r.check === e.check) &&
        re.test(r.message) &&
        (e.hint === undefined || new RegExp(e.hint, 'i').test(r.hint ?? '')),
    );
    assert.ok(found, `${file}: expected ${e.field ?? e.check}: /${e.message}/ among ${JSON.stringify(reported)}`);
  }
}

describe('bad input is refused before any Azure write', () => {
  let estate: Estate;
  let initial: unknown;
  const tried = new Set<string>();
  const refused = new Set<string>();
  const changes: string[] = [];

  /** Nothing changed in Azure since the corpus started: same state, no write in the log. */
  function assertNothingChanged(what: string) {
    const writes = armWrites(estate.sim).map(describeRequest);
    const same = JSON.stringify(azureState(estate.sim)) === JSON.stringify(initial);
    if (writes.length > 0 || !same) changes.push(`${what}: ${writes.join(', ') || 'state differs'}`);
    assert.deepEqual(writes, [], `${what}: no ARM write`);
    assert.deepEqual(azureState(estate.sim), initial, `${what}: Azure state unchanged`);
  }

  before(async () => {
    estate = await startHostileEstate('bad-input', ['hostile-bot', 'regional-bot', 'hidden-bot', 'hostile-flex']);
    initial = azureState(estate.sim);
  });
  after(async () => {
    const line = `${tried.size} plans tried, ${refused.size} refused before any Azure write, ${changes.length} changes`;
    reportSummary('bad input', line, {
      file: 'test/reliability/bad-input.test.ts',
      scenario: 'bad-plan corpus',
      badInputs: tried.size,
      refused: refused.size,
      armRequests: estate.sim.control.requests().filter((r) => r.surface === 'arm').length,
      lost: changes,
    });
    await estate.close();
  });

  test('the corpus covers at least 30 plans, each paired with its expected error', () => {
    assert.deepEqual(
      files.filter((f) => !cases[f]),
      [],
      'every plan file has an entry in cases.yaml',
    );
    assert.deepEqual(
      Object.keys(cases).filter((f) => !files.includes(f)),
      [],
      'every entry of cases.yaml has its file',
    );
    assert.ok(files.length + 1 >= 30, `${files.length} plans + huge.yaml`);
  });

  test('control: the corpus base plan passes preflight, so each bad plan fails for its own reason', async () => {
    const before = await estate.activities().preflight({ plan: hostilePlan('hostile-bot', 'hostile-openai') });
    assert.equal(before.sites[0].touchedSettings.AZURE_OPENAI_API_KEY?.kind, 'account-key');
    assertNothingChanged('control preflight');
    estate.sim.control.clearRequests();
  });

  for (const file of schemaCases) {
    test(`schema: ${file} is refused`, async () => {
      tried.add(file);
      const err = await loadPlanFile(path.join(CORPUS, file)).then(
        () => assert.fail(`${file} was accepted`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PlanValidationError, `${file}: a PlanValidationError, not ${String(err)}`);
      assertReported(file, err.problems, cases[file].errors, cases[file].exactly);
      for (const p of err.problems) assert.doesNotMatch(p.message, /[:\s]$/, `${file}: a message ends in a word`);
      if (cases[file].secret) {
        const values = Object.values(
          (parse(readFileSync(path.join(CORPUS, file), 'utf8')) as { settings: { set: Record<string, string> } })
            .settings.set,
        );
        for (const v of values)
          assert.ok(
            !err.message.includes(v) && !JSON.stringify(err.problems).includes(v),
            `${file}: never echoes a value`,
          );
      }
      assert.match(err.message, new RegExp(`^${CORPUS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*: the plan has`));
      assertNothingChanged(file);
      refused.add(file);
    });
  }

  test('schema: a huge file (generated) is refused before it is parsed', async () => {
    tried.add('huge.yaml');
    const file = path.join(testEnv('workDir'), 'huge.yaml');
    const padding = Array.from({ length: 4000 }, (_, i) => `  # ${'x'.repeat(20)} ${i}`).join('\n');
    const text = `changeTicket: CHG-HUGE\ndescription: >\n${padding}\n`;
    assert.ok(Buffer.byteLength(text) > MAX_PLAN_BYTES);
    writeFileSync(file, text);
    for (const attempt of [() => loadPlanFile(file), async () => parsePlanText(text, file)]) {
      const err = await attempt().then(
        () => assert.fail('huge.yaml was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PlanValidationError);
      assertReported('huge.yaml', err.problems, [{ field: '', message: 'larger than 64 KiB' }]);
    }
    assertNothingChanged('huge.yaml');
    refused.add('huge.yaml');
  });

  const plans = new Map<string, MigrationPlan>();
  for (const file of preflightCases) {
    test(`preflight: ${file} is refused by the read-only preflight`, async () => {
      tried.add(file);
      const plan = await loadPlanFile(path.join(CORPUS, file));
      plans.set(file, plan);
      estate.sim.control.clearRequests();
      const err = await estate
        .activities()
        .preflight({ plan })
        .then(
          () => assert.fail(`${file} passed preflight`),
          (e: unknown) => e,
        );
      assert.ok(err instanceof ApplicationFailure, `${file}: an ApplicationFailure, not ${String(err)}`);
      assert.equal(err.type, FailureType.PreflightFailed, `${file}: ${err.message}`);
      assert.equal(err.nonRetryable, true);
      assertReported(file, (err.details ?? []) as PreflightProblem[], cases[file].errors);
      assert.ok(
        estate.sim.control.requests().some((r) => r.surface === 'arm'),
        `${file}: preflight really asked Azure`,
      );
      assertNothingChanged(file);
      refused.add(file);
    });
  }

  test('preflight, through the workflow: every resource-level bad plan ends preflight-failed, nothing changed', async () => {
    assert.equal(plans.size, preflightCases.length, 'the direct preflight tests ran first');
    estate.sim.control.clearRequests();
    const results = await estate.temporal.withWorker(estate.activities(), () =>
      Promise.all(
        [...plans].map(async ([file, plan]) => {
          const handle = await estate.temporal.client.workflow.start(migrateToManagedIdentity, {
            taskQueue: estate.temporal.taskQueue,
            workflowId: `${migrationWorkflowId(plan)}/bad-input/${file}/${Date.now()}`,
            args: [{ plan, initiatedBy: 'alice' }],
          });
          return { file, result: await handle.result() };
        }),
      ),
    );
    for (const { file, result } of results) {
      assert.equal(result.outcome, 'preflight-failed', `${file}: ${result.reason}`);
      assertReported(file, result.evidence.preflightProblems ?? [], cases[file].errors);
      assert.equal(result.evidence.compensations.length, 0, `${file}: nothing to undo`);
      assert.deepEqual(result.evidence.resourcesTouched, [], `${file}: nothing touched`);
    }
    assertNothingChanged('workflow runs');
  });
});
