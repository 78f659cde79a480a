/**
 * A change manager's fleet through the real CLI, each command a subprocess configured like a user's: `fleet plan`
 * (offline, and a dry run against the simulator that finds a bad caller before anything changes), `fleet start`,
 * `fleet status` / `fleet watch`, `fleet approve` (four eyes), `fleet abort`, `fleet evidence` as Markdown and JSON.
 * A worker in this process serves the CLI's task queue; the simulator plays Azure (test/fixtures/scenarios/fleet.yaml).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { FleetPlanReport } from '../../cli/commands/fleet';
import type { FleetEvidence, FleetProgress } from '../../contracts/fleet';
import { parseFleetPlan } from '../../plan/fleet';
import type { PlanValidationError } from '../../plan/problems';
import { createAzureClients } from '../../azure/clients';
import { assertUsageError, assertUserError, type Cli, cliFor } from '../support/cli';
import { type Estate, startEstate, TENANT, TEST_FLEET_DEFAULTS } from '../support/estate';
import { pollUntil } from '../support/wait';

const FLEET = path.join(__dirname, '..', 'fixtures', 'scenarios', 'fleet.yaml');
const SUB_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

interface Status {
  readonly executionStatus: string;
  readonly progress?: FleetProgress;
}

describe('cutover fleet plan, start, status, watch, approve, reject, abort and evidence', () => {
  let estate: Estate;
  let cli: Cli;
  before(async () => {
    estate = await startEstate('cli-fleet', FLEET);
    cli = cliFor(estate, 'fleet');
  });
  after(async () => {
    await estate.close();
  });
  beforeEach(async () => {
    await estate.sim.control.reset();
  });
  const started: string[] = [];
  afterEach(async () => {
    // A failed test must not leave its fleet (and its children) running into the next one.
    for (const ticket of started.splice(0))
      await estate.temporal.client.workflow
        .getHandle(`cutover/fleet/${ticket.toLowerCase()}`)
        .terminate('test cleanup')
        .catch(() => undefined);
  });

  /** A fleet plan file over the zeta account (4 callers in the second subscription). */
  function zetaFleet(name: string, fields: Record<string, unknown> = {}) {
    const ticket = `CHG-fleet-${name}-${randomUUID().slice(0, 8)}`;
    started.push(ticket);
    return {
      ticket,
      file: cli.writePlan(name, {
        kind: 'fleet',
        changeTicket: ticket,
        tenantId: TENANT,
        defaults: { ...TEST_FLEET_DEFAULTS },
        accounts: [
          {
            name: 'zeta-openai',
            subscriptionId: SUB_B,
            resourceGroup: 'rg-fleet-b',
            deployment: 'gpt-4o-mini',
            keySwitch: { approval: true, quietPeriod: '0s' },
          },
        ],
        callers: ['zeta-01', 'zeta-02', 'zeta-03', 'zeta-04'].map((n) => ({ name: n })),
        waves: [
          { name: 'canary', callers: ['zeta-01'], concurrency: 1 },
          { name: 'rest', rest: true, concurrency: 3 },
        ],
        ...fields,
      }),
    };
  }

  test('fleet plan lists every problem of a malformed fleet at once and exits 1; an unknown fleet is one line', async () => {
    const { file } = zetaFleet('malformed', {
      callers: [
        { name: 'zeta-01', account: 'nope-openai' },
        { name: 'zeta-02', plan: { strategy: { type: 'swap' } } },
      ],
      waves: [
        { name: 'canary', callers: ['zeta-01'], concurrency: 0 },
        { name: 'rest', callers: ['zeta-09'] },
      ],
    });
    const r = await cli.run('fleet', 'plan', file, '--offline');
    assertUserError(r, /is not a valid fleet plan \(\d+ problems\)/);
    assert.match(r.stderr, /callers\.0\.account: "nope-openai" is not one of the fleet's accounts/);
    assert.match(r.stderr, /callers\.1\.plan\.strategy\.type/);
    assert.match(r.stderr, /waves\.0\.concurrency/);
    assert.match(r.stderr, /waves\.1\.callers\.0: "zeta-09" is not one of the fleet's callers/);
    // A wave is at most 1,000 callers (the fleet's history grows with it); an unknown onStop names the ones there are.
    const held = zetaFleet('held', {
      callers: Array.from({ length: 1_001 }, (_, i) => ({ name: `zeta-h${i}` })),
      waves: [{ name: 'all', rest: true, concurrency: 50 }],
      onStop: 'roll-back-wave',
    });
    const tooBig = await cli.run('fleet', 'plan', held.file, '--offline');
    assertUserError(tooBig, /is not a valid fleet plan \(1 problem\)/);
    assert.match(
      tooBig.stderr,
      /waves\.0: has 1001 callers, at most 1,000: the fleet continues as new only between waves/,
    );
    // The resolved plan is the fleet's workflow input: Temporal's payload limit caps it, whatever the waves (a plan
    // file is at most 64 KiB, so only discovery gets there).
    const huge = {
      kind: 'fleet',
      changeTicket: 'CHG-fleet-huge',
      tenantId: TENANT,
      accounts: [
        { name: 'zeta-openai', subscriptionId: SUB_B, resourceGroup: 'rg-fleet-b', deployment: 'gpt-4o-mini' },
      ],
      callers: Array.from({ length: 6_300 }, (_, i) => ({ name: `zeta-h${i}`, env: `e${i % 7}` })),
      waves: Array.from({ length: 7 }, (_, i) => ({ name: `e${i}`, env: `e${i}`, concurrency: 50 })),
    };
    assert.throws(
      () => parseFleetPlan(huge),
      (err: PlanValidationError) =>
        err.problems.length === 1 &&
        /^6300 callers make a workflow input of \d+ KB, at most 1024 KB: split the estate/.test(
          err.problems[0].message,
        ),
    );
    const typo = await cli.run('fleet', 'plan', zetaFleet('typo', { onStop: 'rollback' }).file, '--offline');
    assertUserError(typo, /is not a valid fleet plan/);
    assert.match(typo.stderr, /onStop: must be one of finish, cancel, roll-back-wave/);
    assertUserError(await cli.run('fleet', 'status', 'CHG-NOPE'), /no fleet with workflow id cutover\/fleet\/chg-nope/);
  });

  test('fleet plan discovers the callers of an account, filtered by resource group and tag; listed callers win', async () => {
    const gamma = {
      name: 'gamma-openai',
      subscriptionId: SUB_B,
      resourceGroup: 'rg-fleet-b',
      deployment: 'gpt-4o-mini',
      keySwitch: { approval: true, quietPeriod: '0s' },
    };
    const { file } = zetaFleet('discover', {
      accounts: [gamma],
      discover: { resourceGroups: ['rg-fleet-b'], tags: { team: 'claims' } },
      callers: [],
      waves: [
        { name: 'prod', env: 'prod' },
        { name: 'rest', rest: true },
      ],
    });
    const from = estate.sim.control.requests().length;
    const found = await cli.run('-o', 'json', 'fleet', 'plan', file);
    assert.equal(found.code, 0, found.stderr);
    const report = JSON.parse(found.stdout) as FleetPlanReport;
    // gamma-01..03 carry team=claims (01 and 02 env=prod); gamma-04 has no tags and is left out.
    assert.deepEqual(
      report.plan.callers.map((c) => c.id),
      ['gamma-01', 'gamma-02', 'gamma-03'],
    );
    assert.deepEqual(
      report.plan.waves.map((w) => w.callers.map((i) => report.plan.callers[i].id)),
      [['gamma-01', 'gamma-02'], ['gamma-03']],
    );
    assert.equal(report.discovery?.leftOut, 1);
    assert.match(found.stderr, /discovered 3 callers \(1 key holders left out by the filters\)/);
    assert.deepEqual(
      estate.sim.control
        .requests()
        .slice(from)
        .filter(
          (r) =>
            r.surface === 'arm' &&
            !['GET', 'HEAD'].includes(r.method) &&
            !/\/list(Keys)?$|\/config\/appsettings\/list$/i.test(r.path.split('?')[0]),
        )
        .map((r) => `${r.method} ${r.path}`),
      [],
      'discovery and the dry run change nothing in Azure',
    );

    // Without filters every key holder of the account is found; a listed caller keeps its own fields.
    const { file: all } = zetaFleet('discover-all', {
      accounts: [gamma],
      discover: {},
      callers: [{ name: 'gamma-01', plan: { budgets: { downtime: '7s' } } }],
      waves: [{ name: 'all', rest: true }],
    });
    const everyone = await cli.json<FleetPlanReport>('fleet', 'plan', all);
    assert.deepEqual(
      everyone.plan.callers.map((c) => c.id),
      ['gamma-01', 'gamma-02', 'gamma-03', 'gamma-04'],
    );
    assert.equal(
      everyone.plan.callers[0].overrides?.budgets?.downtimeMs,
      7000,
      'the listed gamma-01 keeps its own budget',
    );

    // Offline, nothing is discovered: a plan of discovered callers only says so.
    assertUserError(await cli.run('fleet', 'plan', file, '--offline'), /is not a valid fleet plan/);
    const offline = await cli.run('fleet', 'plan', file, '--offline');
    assert.match(offline.stderr, /none was discovered \(discovery reads Azure: not with --offline\)/);
  });

  test('fleet plan: offline it shows the waves and accounts; against Azure it finds a caller that does not exist', async () => {
    const { file } = zetaFleet('dry-run');
    const offline = await cli.run('fleet', 'plan', file, '--offline');
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /4 callers on 1 account, 2 waves/);
    assert.match(offline.stdout, /1\. canary: 1 caller \(1 at a time, tolerates 0 failures\)/);
    assert.match(offline.stdout, /zeta-03 \(app-service\) → zeta-openai: system-assigned identity/);
    assert.match(offline.stdout, /zeta-openai \(subscription bbbbbbbb[^)]*\): 4 callers; keys off after approval/);
    const example = await cli.run(
      'fleet',
      'plan',
      path.join(__dirname, '..', '..', 'examples', 'fleet.yaml'),
      '--offline',
    );
    assert.equal(example.code, 0, `the README's example is a valid fleet plan: ${example.stderr}`);
    const report = await cli.json<FleetPlanReport>('fleet', 'plan', file);
    assert.equal(report.valid, true);
    assert.deepEqual(report.problems, []);

    const { file: bad } = zetaFleet('dry-run-bad', {
      callers: [{ name: 'zeta-01' }, { name: 'zeta-99' }],
      waves: [{ name: 'all', rest: true }],
    });
    const r = await cli.run('fleet', 'plan', bad);
    assertUserError(r, /preflight found \d+ problem\(s\) in the fleet; nothing was changed/);
    assert.match(r.stdout, /✗ zeta-99: \[/);
    assert.doesNotMatch(r.stdout, /✗ zeta-01:/);
  });

  test('start, status, approve as another person, watch to the end, evidence as Markdown and JSON', async () => {
    const { ticket, file } = zetaFleet('happy');
    await estate.temporal.withWorker(estate.activities(), async () => {
      const started = await cli.json<{ workflowId: string; link?: string }>('fleet', 'start', file, '--as', 'alice');
      assert.equal(started.workflowId, `cutover/fleet/${ticket.toLowerCase()}`);
      const again = await cli.run('fleet', 'start', file, '--as', 'alice');
      assert.equal(again.code, 1, `a second start is refused: ${again.stdout}${again.stderr}`);
      assertUserError(again, /is already running/);
      const atGate = await pollUntil(
        async () => {
          const s = await cli.json<Status>('fleet', 'status', ticket);
          return s.progress?.pendingGate || s.executionStatus !== 'RUNNING' ? s : undefined;
        },
        'the key-switch gate',
        { intervalMs: 1000 },
      );
      assert.equal(atGate.progress?.pendingGate?.gate, 'keys-0');
      assert.deepEqual(
        atGate.progress?.waves.map((w) => [w.name, w.succeeded]),
        [
          ['canary', 1],
          ['rest', 3],
        ],
      );
      const text = await cli.run('fleet', 'status', ticket);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /Waiting for approval: Disable key auth on zeta-openai/);
      assert.match(text.stdout, /ACCOUNT\s+PENDING\s+RUNNING\s+SUCCEEDED\s+ROLLED BACK\s+FAILED\s+KEYS/);
      assert.match(text.stdout, /^zeta-openai\s+0\s+0\s+4\s+0\s+0\s+awaiting-approval/m);
      // The worker's governor as the wave sampled it: reads against the budget it spends (Azure's, less its headroom).
      assert.match(
        text.stdout,
        /^ARM \(this worker, \d\d:\d\d:\d\d UTC\): reads [\d.]+\/s \(budget [\d.]+\/s × \d+ subscriptions?\)/m,
      );
      assertUserError(
        await cli.run('fleet', 'approve', ticket, '--as', 'alice'),
        /four-eyes rule: alice started this fleet/,
      );
      const approval = await cli.json<{ gate: string; by: string }>('fleet', 'approve', ticket, '--as', 'bob');
      assert.deepEqual([approval.gate, approval.by], ['keys-0', 'bob']);
      const watched = await cli.run('fleet', 'watch', ticket);
      assert.equal(watched.code, 0, watched.stderr);
      assert.match(watched.stdout, /: succeeded/);
    });
    const md = await cli.run('fleet', 'evidence', ticket);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^# Fleet .*: succeeded/m);
    assert.match(md.stdout, /## Account zeta-openai: keys off/);
    assert.match(md.stdout, /\| zeta-04 \| app-service \| succeeded \| [0-9a-f-]{36} \| .*roleAssignments/);
    const evidence = await cli.json<FleetEvidence>('fleet', 'evidence', ticket);
    assert.deepEqual(
      evidence.approvals.map((a) => [a.gate, a.by]),
      [['keys-0', 'bob']],
    );
    assert.equal(
      (await estate.azure.cognitive.accounts.get('rg-fleet-a', 'alpha-openai')).properties?.disableLocalAuth,
      false,
      'an account outside the fleet is untouched',
    );
  });

  test('reject at a wave gate stops the fleet; the rejection is in the evidence', async () => {
    const { ticket, file } = zetaFleet('reject', { waves: [{ name: 'all', rest: true, approval: true }] });
    await estate.temporal.withWorker(estate.activities(), async () => {
      await cli.json('fleet', 'start', file, '--as', 'alice');
      await pollUntil(
        async () => (await cli.json<Status>('fleet', 'status', ticket)).progress?.pendingGate,
        'the wave gate',
        { intervalMs: 1000 },
      );
      const rejected = await cli.json<{ gate: string; decision: string; by: string }>(
        'fleet',
        'reject',
        ticket,
        '--as',
        'bob',
        '--gate',
        'wave-0',
        '--comment',
        'not this week',
      );
      assert.deepEqual([rejected.gate, rejected.decision, rejected.by], ['wave-0', 'rejected', 'bob']);
      const watched = await cli.json<Status>('fleet', 'watch', ticket);
      assert.equal(watched.progress?.outcome, 'stopped');
    });
    const evidence = await cli.json<FleetEvidence>('fleet', 'evidence', ticket, '--format', 'json');
    assert.match(evidence.reason ?? '', /bob rejected/);
    assert.deepEqual(
      evidence.approvals.map((a) => [a.gate, a.decision, a.comment]),
      [['wave-0', 'rejected', 'not this week']],
    );
  });

  test('abort at a wave gate stops the fleet before any caller starts', async () => {
    const { ticket, file } = zetaFleet('abort', {
      waves: [{ name: 'all', rest: true, approval: true }],
    });
    await estate.temporal.withWorker(estate.activities(), async () => {
      await cli.json('fleet', 'start', file, '--as', 'alice');
      await pollUntil(
        async () => (await cli.json<Status>('fleet', 'status', ticket)).progress?.pendingGate,
        'the wave gate',
        { intervalMs: 1000 },
      );
      assertUsageError(await cli.run('fleet', 'abort', ticket, '--as', 'carol'));
      const aborted = await cli.json<FleetProgress>('fleet', 'abort', ticket, '--as', 'carol', '--reason', 'freeze');
      assert.match(aborted.reason ?? '', /aborted by carol: freeze/);
      const watched = await cli.json<Status>('fleet', 'watch', ticket);
      assert.equal(watched.progress?.outcome, 'stopped');
      assert.ok(watched.progress?.callers.every((c) => c.state === 'not-started'));
    });
    const untouched = await createAzureClients(estate.credential, SUB_B, estate.endpoints).web.webApps.get(
      'rg-fleet-b',
      'zeta-01',
    );
    assert.equal(untouched.identity?.type ?? 'None', 'None', 'no caller was started');
  });
});
