/**
 * The CLI's read-only commands as a user runs them: `plan show` (a dry run against the simulator through the
 * production configuration path), `inventory`, help and `--version`, and the exit codes and one-line errors of
 * mistakes — a plan holding a secret among them.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { PlanReport } from '../../cli/commands/plan';
import type { InventoryResult } from '../../cli/commands/inventory';
import { armChangesSince, assertUsageError, assertUserError, cliEstate, showPassingPlan } from '../support/cli';
import { appHealth, estatePlanFields, renamedEstate, RG, SUB } from '../support/estate';
import { pollUntil } from '../support/wait';

describe('cutover plan, inventory and mistakes', () => {
  // legacy-bot under a name of this file's own: the CLI finds a migration by app name across the shared server.
  const LEGACY = 'plan-legacy-bot';
  const env = cliEstate('cli-plan', 'plan', renamedEstate({ 'legacy-bot': LEGACY }));

  test('plan show on a good plan prints what would change, stage by stage, and changes nothing', async () => {
    const requestsBefore = env.estate.sim.control.requests().length;
    const { file, stdout } = await showPassingPlan(env, 'good', estatePlanFields('claims-bot', 'claims-openai'));
    const text = { stdout };
    assert.match(text.stdout, new RegExp(`Workflow id: cutover/app-service/${SUB}/${RG}/claims-bot`));
    for (const [n, stage] of ['Identity', 'Role', 'Propagation', 'Settings', 'Key switch', 'Evidence'].entries())
      assert.match(text.stdout, new RegExp(`^  ${n + 1}\\. ${stage}: `, 'm'), `step ${n + 1} is ${stage}`);
    assert.match(text.stdout, /enable the system-assigned identity on claims-bot/);
    assert.match(text.stdout, /remove AZURE_OPENAI_API_KEY/);

    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    assert.equal(report.valid, true);
    assert.deepEqual(report.problems, []);
    assert.equal(report.workflowId, `cutover/app-service/${SUB}/${RG}/claims-bot`);
    assert.equal(report.steps.length, 6);
    assert.equal(report.before?.sites[0]?.touchedSettings.AZURE_OPENAI_API_KEY?.kind, 'account-key');

    assert.deepEqual(armChangesSince(env.estate, requestsBefore), [], 'nor does its JSON form');
  });

  test('plan show is a diff: before → after per resource, the key switch it predicts, the longest run', async () => {
    const file = env.cli.writePlan('diff-in-place', estatePlanFields('claims-bot', 'claims-openai'));
    const report = await env.cli.json<PlanReport>('plan', 'show', file);
    const app = report.diff?.find((d) => d.resource === 'app claims-bot (production)');
    assert.ok(app, JSON.stringify(report.diff));
    assert.deepEqual(
      app.changes.map((c) => [c.what, c.before, c.after]),
      [
        ['identity', 'None', 'SystemAssigned'],
        ['AZURE_OPENAI_API_KEY', 'account key (key1)', 'removed'],
        ['AZURE_OPENAI_AUTH_MODE', 'absent', '"identity"'],
      ],
    );
    const account = report.diff?.find((d) => d.resource === 'account claims-openai');
    assert.ok(account);
    assert.deepEqual(account.changes[0], {
      what: 'role "Cognitive Services OpenAI User" for the app’s identity',
      before: 'none',
      after: 'assigned (principalType ServicePrincipal)',
    });
    // In place on production while its staging slot still holds the key: keys would stay on.
    assert.equal(account.changes[1].unchanged, true);
    assert.match(account.changes[1].after, /^enabled — the key switch would be skipped: .*staging/);
    const b = report.plan!.budgets;
    assert.deepEqual(report.estimate, {
      workMs: b.propagationWaitMs + b.downtimeMs + b.localAuthSwitchMs + b.downtimeMs,
      gates: 0,
      approvalTimeoutMs: b.approvalTimeoutMs,
    });
    const text = await env.cli.run('plan', 'show', file);
    assert.match(text.stdout, /^Before → after:$/m);
    assert.match(text.stdout, /^ {4}~ AZURE_OPENAI_API_KEY +account key \(key1\) → removed$/m);
    assert.match(text.stdout, /^ {4}= local \(key\) auth +enabled — the key switch would be skipped/m);

    // Through the staging slot, the standby migrated too: nobody is left on the key.
    const swap = await env.cli.json<PlanReport>(
      'plan',
      'show',
      env.cli.writePlan(
        'diff-swap',
        estatePlanFields('claims-bot', 'claims-openai', { strategy: { type: 'slot-swap', stagingSlot: 'staging' } }),
      ),
    );
    const production = swap.diff?.find((d) => d.resource === 'app claims-bot (production)');
    assert.ok(production?.changes.some((c) => c.what === 'traffic' && /staging slot’s worker/.test(c.after)));
    const staging = swap.diff?.find((d) => d.resource === 'app claims-bot/staging');
    assert.ok(staging?.changes.some((c) => c.what === 'AZURE_OPENAI_API_KEY' && c.after === 'removed'));
    const local = swap.diff?.find((d) => d.resource === 'account claims-openai')?.changes[1];
    assert.equal(local?.after, 'disabled — nobody else holds the key');
  });

  test('plan show on a plan file with mistakes lists every problem and exits 1', async () => {
    const file = env.cli.writePlan('invalid', {
      ...estatePlanFields('claims-bot', 'claims-openai'),
      tenantId: 'not-a-guid',
      target: { resourceGroup: RG },
      budgets: { downtime: 'forever' },
      colour: 'blue',
    });
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /is not a valid plan/);
    assert.match(text.stdout, /4 problem\(s\)/);
    for (const field of ['tenantId', 'target.name', 'budgets.downtime', 'colour'])
      assert.match(text.stdout, new RegExp(`✗ ${field.replace('.', '\\.')}: `), `${field} is listed`);

    const json = await env.cli.run('-o', 'json', 'plan', 'show', file);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as PlanReport;
    assert.equal(report.valid, false);
    assert.deepEqual(report.problems.map((p) => p.field).sort(), [
      'budgets.downtime',
      'colour',
      'target.name',
      'tenantId',
    ]);
    const error = JSON.parse(json.stderr) as { error: string; hint?: string };
    assert.match(error.error, /is not a valid plan/);
    assert.ok(error.hint);
  });

  test('plan show on a plan Azure contradicts lists every preflight problem and exits 1', async () => {
    const file = env.cli.writePlan('contradicted', {
      ...estatePlanFields('claims-bot', 'claims-openai'),
      account: { name: 'claims-openai', deployment: 'gpt-5-nope' },
      identity: {
        type: 'user-assigned',
        resourceId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-nope`,
      },
      settings: { remove: ['AZURE_OPENAI_API_KEY', 'NOT_THERE'] },
    });
    const text = await env.cli.run('plan', 'show', file);
    assertUserError(text, /preflight found \d+ problem\(s\); nothing was changed/);
    assert.match(text.stdout, /✗ \[deployment\] .*gpt-5-nope/);
    assert.match(text.stdout, /✗ \[identity\] .*id-nope/);
    assert.match(text.stdout, /✗ \[settings\] .*NOT_THERE/);

    const json = await env.cli.run('-o', 'json', 'plan', 'show', file);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as PlanReport;
    assert.equal(report.valid, false);
    const checks = new Set(report.problems.map((p) => p.check));
    for (const check of ['deployment', 'identity', 'settings']) assert.ok(checks.has(check), `${check} problem`);
  });

  test('inventory lists the apps holding the key and the identities holding a data-plane role', async () => {
    const args = ['inventory', '--account', 'legacy-openai', '--resource-group', RG, '--subscription', SUB];
    const inv = await env.cli.json<InventoryResult>(...args);
    assert.deepEqual(inv.keyCallers.map((c) => c.siteResourceId.split('/').pop()).sort(), [LEGACY, 'shared-bot']);
    assert.ok(inv.keyCallers.every((c) => c.settingNames.includes('AZURE_OPENAI_API_KEY')));
    const sharedBot = await env.estate.azure.web.webApps.get(RG, 'shared-bot');
    assert.deepEqual(
      inv.tokenCallers.map((c) => [c.principalId, c.role]),
      [[sharedBot.identity?.principalId, 'Cognitive Services OpenAI User']],
    );

    const text = await env.cli.run(...args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Holding its key in app settings \(2\)/);
    assert.match(text.stdout, new RegExp(`sites/${LEGACY}\\s+AZURE_OPENAI_API_KEY`));
    assert.match(text.stdout, /sites\/shared-bot\s+AZURE_OPENAI_API_KEY/);

    assertUserError(
      await env.cli.run('inventory', '--account', 'legacy-openai', '--resource-group', RG),
      /--subscription/,
    );
    assertUserError(await env.cli.run(...args, '--window', 'forever'), /--window forever is not a duration/);
  });

  test('inventory shows who called the account, from its diagnostic logs: known apps and unknown key callers', async () => {
    await appHealth(env.estate, RG, LEGACY); // calls the account with its key, from its outbound address
    const notebook = { account: 'legacy-openai', key: 1 as const, ip: '203.0.113.9', userAgent: 'notebook/3' };
    assert.equal((await env.estate.sim.control.callAccount(notebook)).status, 200);
    const args = ['inventory', '--account', 'legacy-openai', '--resource-group', RG, '--subscription', SUB];
    // The rows reach the workspace after its ingestion delay.
    const inv = await pollUntil(async () => {
      const r = await env.cli.json<InventoryResult>(...args, '--window', '1h');
      return r.observed.status !== 'observed' || r.observed.callers.length >= 2 ? r : undefined;
    }, 'both callers in the inventory');
    assert.equal(inv.observed.status, 'observed');
    const callers = inv.observed.status === 'observed' ? inv.observed.callers : [];
    const unknown = callers.find((c) => c.ip === '203.0.113.9');
    assert.deepEqual(unknown && [unknown.objectId, unknown.userAgent, unknown.calls, unknown.knownAs], [
      undefined,
      'notebook/3',
      1,
      undefined,
    ]);
    assert.ok(
      callers.some((c) => c.knownAs === `app ${LEGACY}` && !c.objectId),
      `${LEGACY} known by its address: ${JSON.stringify(callers)}`,
    );
    const text = await env.cli.run(...args, '--window', '1h');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Seen calling it over the last 1h \(diagnostic logs, \d+\):/);
    assert.match(text.stdout, /KEY\s+unknown\s+203\.0\.113\.9\s+notebook\/3\s+1\s+0/);
  });

  test('a malformed command line exits 2 with one error line', async () => {
    for (const args of [['bogus'], ['plan'], ['start'], ['abort', 'some-id'], ['-o', 'yaml', 'list']])
      assertUsageError(await env.cli.run(...args));
  });

  test('user mistakes are one line and a hint, never a stack trace', async () => {
    assertUserError(await env.cli.run('status', 'cutover/no-such-migration'), /no migration with workflow id/);
    assertUserError(
      await env.cli.run('start', `${env.cli.dir}/no-such-plan.yaml`, '--as', 'alice'),
      /cannot read the plan file .*no-such-plan.yaml: no such file/,
    );

    const json = await env.cli.run('-o', 'json', 'evidence', 'cutover/no-such-migration');
    assert.equal(json.code, 1);
    assert.equal(json.stdout, '');
    const error = JSON.parse(json.stderr) as { error: string; hint?: string };
    assert.match(error.error, /no migration with workflow id cutover\/no-such-migration/);
    assert.match(error.hint ?? '', /cutover list/);

    const offline = await env.cli.run('--address', '127.0.0.1:1', 'list');
    assert.match(assertUserError(offline, /cannot reach Temporal at 127\.0\.0\.1:1/), /^error: .{0,200}$/);
  });

  test('a migration nobody works on says so at once instead of hanging on its query', async () => {
    // A task queue no worker ever polled: the later --task-queue wins over the helper's.
    const queue = `nobody-home-${process.pid}`;
    const file = env.cli.writePlan('unworked', estatePlanFields(LEGACY, 'legacy-openai'));
    const workflowId = `cutover/app-service/${SUB}/${RG}/${LEGACY}`;
    const started = await env.cli.run('--task-queue', queue, 'start', file, '--as', 'alice');
    try {
      // "At once" needs no clock: this error comes from the poller check made before any wait for the preflight
      // (a wait that ran out would say "has not finished after …" instead).
      assertUserError(
        started,
        new RegExp(
          `^error: started ${workflowId}, but no cutover worker polls task queue ${queue}, so its preflight cannot run$`,
        ),
      );
      assertUserError(
        await env.cli.run('status', workflowId),
        new RegExp(`no cutover worker polls task queue ${queue}`),
      );
      // The app's name finds its running migration just as well as the workflow id.
      assertUserError(
        await env.cli.run('status', LEGACY),
        new RegExp(`no cutover worker polls task queue ${queue}, so ${workflowId}`),
      );
      assertUserError(
        await env.cli.run('status', 'no-such-app'),
        /no migration with workflow id or app name no-such-app/,
      );
    } finally {
      await env.estate.temporal.client.workflow.getHandle(workflowId).terminate('test cleanup');
    }
  });

  test('a secret in settings.set is refused by name, and its value is never printed', async () => {
    const keys = await env.estate.azure.cognitive.accounts.listKeys(RG, 'claims-openai');
    const key = keys.key1 ?? assert.fail('the simulator returned no key');
    const file = env.cli.writePlan('secret', {
      ...estatePlanFields('claims-bot', 'claims-openai'),
      settings: {
        set: { AZURE_OPENAI_AUTH_MODE: 'identity', AZURE_OPENAI_FALLBACK: key, CLAIMS_DB_PASSWORD: 'hunter2-hunter2' },
      },
    });
    const runs = [
      await env.cli.run('plan', 'show', file),
      await env.cli.run('plan', 'validate', file, '--offline'),
      await env.cli.run('-o', 'json', 'plan', 'show', file),
      await env.cli.run('start', file, '--as', 'alice'),
    ];
    for (const r of runs) {
      assert.equal(r.code, 1, `${r.args.join(' ')}: ${r.stderr}`);
      for (const value of [key, 'hunter2-hunter2'])
        assert.ok(!r.stdout.includes(value) && !r.stderr.includes(value), `${r.args.join(' ')} never prints the value`);
    }
    assert.match(
      runs[0].stdout,
      /✗ settings\.set\.AZURE_OPENAI_FALLBACK: looks like an account key .*Key Vault reference/,
    );
    assert.match(
      runs[0].stdout,
      /✗ settings\.set\.CLAIMS_DB_PASSWORD: is named like a secret, so its value must be a Key Vault reference/,
    );
    const report = JSON.parse(runs[2].stdout) as PlanReport;
    assert.deepEqual(report.problems.map((p) => p.field).sort(), [
      'settings.set.AZURE_OPENAI_FALLBACK',
      'settings.set.CLAIMS_DB_PASSWORD',
    ]);
    assertUserError(runs[3], /is not a valid plan \(2 problems\)/);
    assert.match(runs[3].stderr, /^ {2}- settings\.set\.AZURE_OPENAI_FALLBACK: looks like an account key/m);

    // The way out the message suggests is accepted; plain values stay accepted.
    const fixed = env.cli.writePlan('secret-fixed', {
      ...estatePlanFields('claims-bot', 'claims-openai'),
      settings: {
        set: {
          AZURE_OPENAI_AUTH_MODE: 'identity',
          CLAIMS_DB_PASSWORD: '@Microsoft.KeyVault(SecretUri=https://kv-claims.vault.azure.net/secrets/db-password)',
          CLAIMS_API_BASE: 'https://claims.contoso.example/api/v2',
          CLAIMS_TENANT: '3f9c1b4e-7a2d-4c8e-9b61-2d4f5a6e7c80',
          CLAIMS_RETRIES: '3',
        },
      },
    });
    const ok = await env.cli.run('plan', 'validate', fixed, '--offline');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });

  test('plan mistakes read like the other messages: did-you-mean, allowed values, where the YAML breaks', async () => {
    const typos = env.cli.writePlan('typos', {
      ...estatePlanFields('claims-bot', 'claims-openai'),
      changeTicket: undefined,
      changeTikcet: 'CHG-1',
      strategy: { type: 'blue-green' },
      approvals: { beforeSettingSwap: true },
    });
    const text = await env.cli.run('plan', 'validate', typos, '--offline');
    assertUserError(text, /is not a valid plan/);
    assert.match(text.stdout, /✗ changeTikcet: is not a plan field; did you mean "changeTicket"\?/);
    assert.match(
      text.stdout,
      /✗ approvals\.beforeSettingSwap: is not a plan field; did you mean "beforeSettingsSwap"\?/,
    );
    assert.match(text.stdout, /✗ strategy\.type: must be one of in-place, slot-swap, traffic-shift$/m);
    assert.match(text.stdout, /✗ changeTicket: is required/);

    const broken = `${env.cli.dir}/broken.yaml`;
    writeFileSync(broken, 'changeTicket: CHG-1\napp: { resourceGroup: rg-claims, name: [claims-bot\n');
    const yaml = await env.cli.run('plan', 'validate', broken, '--offline');
    assertUserError(yaml, /is not a valid plan/);
    assert.match(
      yaml.stdout,
      /✗ \(plan\): not valid YAML: an inline list "\[" is never closed with "\]" \(line 3, column 1\)$/m,
    );
    assert.doesNotMatch(yaml.stdout, /:$/m, 'no message ends in a colon');
  });

  test('--version, and help that shows the global options, required options and examples', async () => {
    const version = await env.cli.run('--version');
    assert.equal(version.code, 0);
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(version.stdout.trim(), pkg.version);

    for (const command of ['start', 'approve', 'abort', 'list', 'plan show', 'inventory']) {
      const help = await env.cli.run(...command.split(' '), '--help');
      assert.equal(help.code, 0, help.stderr);
      assert.match(
        help.stdout,
        /^Global Options:\n {2}-o, --output <format>/m,
        `${command} --help lists the global options`,
      );
      assert.match(help.stdout, /^Examples:\n {2}\$ cutover /m, `${command} --help has examples`);
    }
    const abort = await env.cli.run('abort', '--help');
    assert.match(abort.stdout, /--reason <text> +why \(recorded in the evidence\) \(required\)/);
    assert.match(abort.stdout, /--as <name> +who aborts \(required unless CUTOVER_USER is set\)/);
    const inventory = await env.cli.run('inventory', '--help');
    assert.match(inventory.stdout, /--account <name> +Azure OpenAI account name \(required\)/);
  });
});
