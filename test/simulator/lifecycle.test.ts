/**
 * The simulator's lifecycle: scenario validation with errors that name the field, the shipped demo estate, the PKI
 * in the data dir (reused, keys 0600), state persisted across restarts, and `simulator/main.ts` as a process —
 * one JSON line on stdout, a 0600 credentials file, no secret printed, and no orphaned app workers after SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { clientSecretCredential, createAzureClients } from '../../azure/clients';
import { ScenarioError, startSimulator } from '../../simulator';
import { loadScenario, parseScenarioText } from '../../simulator/scenario-schema';
import { FIXTURE, eventually, httpsJson } from './support';
import { WAIT_MS } from '../support/wait';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'cutover-sim-life-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('scenarios', () => {
  test('validation errors name the field', () => {
    assert.throws(
      () =>
        parseScenarioText(
          'tenants: [{ name: a }]\nsubscriptions: [{ resourceGroups: [{ name: rg, sites: [{ name: "bad name!" }] }] }]',
        ),
      (err: Error) =>
        err instanceof ScenarioError && /subscriptions\.0\.resourceGroups\.0\.sites\.0\.name/.test(err.message),
    );
    assert.throws(
      () => parseScenarioText('tenants: [{ name: a }]\nsubscriptions: [{}]\nextra: 1'),
      /extra|Unrecognized key/,
    );
    assert.throws(
      () => parseScenarioText('tenants: [{ name: a, id: nope }]\nsubscriptions: [{}]'),
      /tenants\.0\.id: must be a GUID/,
    );
  });

  test('the demo estate: claims bot, staging slot, UAMI, OpenAI account, a least-privilege worker', () => {
    // The chatbot's resource group; the RAG pipeline's and the research workspace's follow it.
    const demo = loadScenario('demo');
    const rg = demo.subscriptions[0].resourceGroups![0];
    assert.equal(rg.name, 'rg-claims');
    const site = rg.sites![0];
    assert.equal(site.name, 'claims-bot');
    assert.deepEqual(
      site.slots?.map((s) => s.name),
      ['staging'],
    );
    assert.ok(site.settings?.AZURE_OPENAI_API_KEY && site.settings.CLAIMS_DB_NAME);
    assert.equal(site.settings?.AZURE_OPENAI_DEPLOYMENT, 'gpt-4o-mini');
    assert.equal(rg.userAssignedIdentities?.[0].name, 'id-claims-bot');
    assert.equal(rg.accounts?.[0].customSubDomainName, 'claims-openai');
    assert.equal(rg.workspaces?.[0].name, 'log-claims');
    assert.deepEqual(
      rg.accounts?.[0].diagnosticSettings?.[0].workspace,
      'log-claims',
      'the account logs to the workspace',
    );
    const roles = demo.roleAssignments!.filter((r) => r.principal === 'cutover-worker').map((r) => r.role);
    assert.deepEqual([...new Set(roles)].sort(), [
      'AzureML Data Scientist',
      'Cognitive Services Contributor',
      'Container Apps Contributor',
      'Log Analytics Reader',
      'Managed Identity Operator',
      'Monitoring Reader',
      'Reader',
      'Role Based Access Control Administrator',
      'Search Index Data Reader',
      'Search Service Contributor',
      'Website Contributor',
    ]);
    assert.deepEqual(
      demo.subscriptions[0].resourceGroups!.map((g) => g.name),
      ['rg-claims', 'rg-docs', 'rg-research'],
    );
    assert.ok(!roles.includes('Owner') && !roles.includes('Contributor'));
  });
});

describe('data dir and state file', () => {
  test('PKI is created once with 0600 keys; state survives a restart', async () => {
    const dataDir = tempDir();
    const stateFile = path.join(tempDir(), 'state.json');
    const first = await startSimulator({ scenario: FIXTURE, dataDir, stateFile });
    const ca = first.info.caCert;
    const endpoints = { armEndpoint: first.info.armEndpoint, authorityHost: first.info.authorityHost, caCert: ca };
    const creds = first.control.credentials('cutover-worker');
    const { web } = createAzureClients(clientSecretCredential(endpoints, creds), first.info.subscriptionId, endpoints);
    const settings = await web.webApps.listApplicationSettings('rg-claims', 'claims-bot');
    await web.webApps.updateApplicationSettings('rg-claims', 'claims-bot', {
      properties: { ...settings.properties, CLAIMS_DB_NAME: 'claims-v2' },
    });
    await first.close();
    for (const f of ['ca-key.pem', 'server-key.pem', 'token-signing-key.pem']) {
      assert.equal(statSync(path.join(dataDir, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);

    const second = await startSimulator({ scenario: FIXTURE, dataDir, stateFile });
    try {
      assert.equal(second.info.caCert, ca, 'the CA is reused');
      assert.deepEqual(second.control.credentials('cutover-worker'), creds, 'secrets survive');
      const e2 = { armEndpoint: second.info.armEndpoint, authorityHost: second.info.authorityHost, caCert: ca };
      const c2 = createAzureClients(clientSecretCredential(e2, creds), second.info.subscriptionId, e2);
      const after = await c2.web.webApps.listApplicationSettings('rg-claims', 'claims-bot');
      assert.equal(after.properties?.CLAIMS_DB_NAME, 'claims-v2');
    } finally {
      await second.close();
    }
  });
});

/** Starts `simulator/main.ts` as a process and waits for its ready line. */
async function runMain() {
  const dataDir = tempDir();
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv.filter((a) => !a.startsWith('--test')),
      path.join(__dirname, '..', '..', 'simulator', 'main.ts'),
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--scenario',
      FIXTURE,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await eventually(
    async () => (out.stdout.includes('\n') ? out.stdout.split('\n')[0] : undefined),
    WAIT_MS,
  );
  const ready = JSON.parse(line) as Record<string, string>;
  const ca = readFileSync(ready.caCertPath, 'utf8');
  const state = await httpsJson(`${ready.controlUrl}/state`, ca);
  const pids = Object.values((state.body as { apps: Record<string, { pid?: number }> }).apps).map((a) => a.pid!);
  return { child, out, exited, ready, ca, pids };
}

describe('simulator/main.ts', () => {
  test('prints one JSON line, writes a 0600 credentials file, prints no secret, leaves no orphans', async () => {
    const { child, out, exited, ready, ca, pids } = await runMain();
    try {
      for (const k of [
        'armEndpoint',
        'authorityHost',
        'tenantId',
        'subscriptionId',
        'caCertPath',
        'controlUrl',
        'credentialsFile',
      ]) {
        assert.ok(ready[k], `ready line has ${k}`);
      }
      assert.equal(statSync(ready.credentialsFile).mode & 0o777, 0o600);
      const file = JSON.parse(readFileSync(ready.credentialsFile, 'utf8')) as {
        servicePrincipals: Record<string, { clientSecret: string }>;
      };
      const secret = file.servicePrincipals['cutover-worker'].clientSecret;
      assert.ok(secret);
      assert.ok(pids.length >= 3 && pids.every(alive));
      const health = await httpsJson(`${ready.armEndpoint}/sites/claims-bot/health`, ca);
      assert.equal(health.status, 200);
      const secrets = (await httpsJson(`${ready.controlUrl}/secrets`, ca)).body as string[];

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(out.stdout.trim().split('\n').length, 1, 'exactly one line on stdout');
      for (const s of [secret, ...secrets]) {
        assert.ok(!out.stdout.includes(s) && !out.stderr.includes(s), 'no secret printed');
      }
      await eventually(async () => (pids.every((p) => !alive(p)) ? true : undefined), WAIT_MS);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('app workers exit on their own when the simulator is killed outright', async () => {
    const { child, exited, pids } = await runMain();
    assert.ok(pids.length >= 3 && pids.every(alive));
    child.kill('SIGKILL');
    await exited;
    await eventually(async () => (pids.every((p) => !alive(p)) ? true : undefined), WAIT_MS);
  });
});
