/**
 * Azure Monitor in the simulator, through the unmodified SDK clients only: diagnostic settings (`@azure/arm-monitor`),
 * workspaces (`@azure/arm-operationalinsights`), the Log Analytics query API (`@azure/monitor-query-logs`) over the
 * AzureDiagnostics rows the Azure OpenAI data plane writes, and platform metrics (`@azure/monitor-query-metrics`).
 * The two queries the product sends are run verbatim here.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { MonitorClient } from '@azure/arm-monitor';
import { OperationalInsightsManagementClient } from '@azure/arm-operationalinsights';
import type { TokenCredential } from '@azure/core-auth';
import { LogsQueryClient, type LogsQueryResult, LogsQueryResultStatus } from '@azure/monitor-query-logs';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { eventually, failure, httpsJson, simulatorForFile } from './support';

const MONITOR_ESTATE = path.join(__dirname, '..', 'fixtures', 'simulator', 'monitor-estate.yaml');
const RG = 'rg-mon';
const WORKSPACE_CUSTOMER_ID = '7d5f1c2a-3b4e-4f60-8a9b-0c1d2e3f4a5b';
const COGNITIVE_SCOPE = 'https://cognitiveservices.azure.com/.default';

const s = simulatorForFile({ scenario: MONITOR_ESTATE });
const tls = () => ({ tlsOptions: { ca: s.t.sim.info.caCert } });
const cred = (p: string): TokenCredential => s.t.credentialOf(p);
const monitor = (p = 'owner') => new MonitorClient(cred(p), s.sub, { endpoint: s.t.sim.info.armEndpoint, ...tls() });
const insights = (p = 'cutover-worker') =>
  new OperationalInsightsManagementClient(cred(p), s.sub, { endpoint: s.t.sim.info.armEndpoint, ...tls() });
const logs = (p = 'cutover-worker', scopes?: string[]) =>
  new LogsQueryClient(cred(p), {
    endpoint: s.t.sim.info.logsEndpoint,
    ...tls(),
    ...(scopes ? { credentials: { scopes } } : {}),
  });
const metrics = (p = 'cutover-worker') => new MetricsClient(s.t.sim.info.metricsEndpoint, cred(p), tls());
const accountId = (name: string) =>
  `/subscriptions/${s.sub}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/${name}`;
/** The resource URI as arm-monitor's `{+resourceUri}` template wants it: without the leading slash. */
const uri = (name: string) => accountId(name).slice(1);
const workspaceArmId = () =>
  `/subscriptions/${s.sub}/resourceGroups/${RG}/providers/Microsoft.OperationalInsights/workspaces/log-mon`;

/** The two queries the product sends, verbatim. */
const callersQuery = (account: string) => `AzureDiagnostics
| where ResourceId =~ '${account}' and Category == 'RequestResponse'
| extend objectId = tostring(parse_json(properties_s).objectId), userAgent = tostring(parse_json(properties_s).userAgent)
| summarize calls = count(), failed = countif(toint(ResultSignature) >= 400), firstSeen = min(TimeGenerated), lastSeen = max(TimeGenerated) by objectId, CallerIPAddress, userAgent`;
const refusedQuery = (account: string) => `AzureDiagnostics
| where ResourceId =~ '${account}' and Category == 'RequestResponse' and toint(ResultSignature) in (401, 403)
| extend objectId = tostring(parse_json(properties_s).objectId), userAgent = tostring(parse_json(properties_s).userAgent)
| summarize refused = count(), lastSeen = max(TimeGenerated) by objectId, CallerIPAddress, userAgent`;

/** Result rows as objects keyed by column name. */
function rowsOf(r: LogsQueryResult): Record<string, unknown>[] {
  if (r.status !== LogsQueryResultStatus.Success) throw new Error(`query status ${r.status}`);
  const t = r.tables[0];
  return t.rows.map((row) => Object.fromEntries(t.columnDescriptors.map((c, i) => [c.name ?? '', row[i]])));
}

async function query(q: string, since: Date, p = 'cutover-worker') {
  return rowsOf(
    await logs(p).queryWorkspace(WORKSPACE_CUSTOMER_ID, q, {
      startTime: since,
      endTime: new Date(Date.now() + 60_000),
    }),
  );
}

async function enableLogs(account: string, name = 'to-log-mon') {
  return monitor().diagnosticSettings.createOrUpdate(uri(account), name, {
    workspaceId: workspaceArmId(),
    logs: [{ categoryGroup: 'allLogs', enabled: true }],
  });
}

describe('workspaces', () => {
  test('GET and lists answer the workspace with its customerId, as the SDK model has it', async () => {
    const ws = await insights().workspaces.get(RG, 'log-mon');
    assert.equal(ws.customerId, WORKSPACE_CUSTOMER_ID);
    assert.equal(ws.location, 'westeurope');
    assert.equal(ws.provisioningState, 'Succeeded');
    assert.equal(ws.id, workspaceArmId());
    const byRg = [];
    for await (const w of insights().workspaces.listByResourceGroup(RG)) byRg.push(w.name);
    const bySub = [];
    // At subscription scope ARM wants a role there (the worker's roles are on the resource group).
    for await (const w of insights('owner').workspaces.list()) bySub.push(w.name);
    assert.deepEqual(byRg, ['log-mon']);
    assert.deepEqual(bySub, ['log-mon']);
    const missing = await failure(insights().workspaces.get(RG, 'nope'));
    assert.equal(missing.statusCode, 404);
    assert.equal((await failure(insights('nobody').workspaces.get(RG, 'log-mon'))).statusCode, 403);
  });
});

describe('diagnostic settings', () => {
  test('create, read, list and delete on an account; the worker reads them, it cannot write them', async () => {
    const created = await monitor().diagnosticSettings.createOrUpdate(uri('quiet-openai'), 'crud', {
      workspaceId: workspaceArmId(),
      logs: [
        { category: 'RequestResponse', enabled: true },
        { categoryGroup: 'audit', enabled: false },
      ],
      metrics: [{ category: 'AllMetrics', enabled: true }],
    });
    assert.equal(created.name, 'crud');
    assert.equal(created.workspaceId, workspaceArmId());
    assert.deepEqual(JSON.parse(JSON.stringify(created.logs)), [
      { category: 'RequestResponse', enabled: true },
      { categoryGroup: 'audit', enabled: false },
    ]);
    const read = await monitor('cutover-worker').diagnosticSettings.get(uri('quiet-openai'), 'crud');
    assert.equal(read.workspaceId, workspaceArmId());
    const listed = [];
    for await (const x of monitor('cutover-worker').diagnosticSettings.list(uri('quiet-openai'))) listed.push(x.name);
    assert.deepEqual(listed, ['crud']);

    const denied = await failure(
      monitor('cutover-worker').diagnosticSettings.createOrUpdate(uri('quiet-openai'), 'crud', {
        workspaceId: workspaceArmId(),
        logs: [{ categoryGroup: 'allLogs', enabled: true }],
      }),
    );
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'AuthorizationFailed');
    assert.match(denied.message, /Microsoft\.Insights\/diagnosticSettings\/write/);
    const unreadable = await failure(monitor('nobody').diagnosticSettings.get(uri('quiet-openai'), 'crud'));
    assert.equal(unreadable.statusCode, 403);
    assert.match(unreadable.message, /Microsoft\.Insights\/diagnosticSettings\/read/);

    await monitor().diagnosticSettings.delete(uri('quiet-openai'), 'crud');
    assert.equal((await failure(monitor().diagnosticSettings.get(uri('quiet-openai'), 'crud'))).statusCode, 404);
    const after = [];
    for await (const x of monitor().diagnosticSettings.list(uri('quiet-openai'))) after.push(x.name);
    assert.deepEqual(after, []);
  });

  test('400 for a workspace that does not exist, an unknown category, no destination', async () => {
    const missing = await failure(
      monitor().diagnosticSettings.createOrUpdate(uri('quiet-openai'), 'bad', {
        workspaceId: `${workspaceArmId()}-nope`,
        logs: [{ categoryGroup: 'allLogs', enabled: true }],
      }),
    );
    assert.equal(missing.statusCode, 400);
    assert.match(missing.message, /workspaceId/);
    const category = await failure(
      monitor().diagnosticSettings.createOrUpdate(uri('quiet-openai'), 'bad', {
        workspaceId: workspaceArmId(),
        logs: [{ category: 'WorkflowRuntime', enabled: true }],
      }),
    );
    assert.equal(category.statusCode, 400);
    assert.match(category.message, /Category 'WorkflowRuntime' is not supported/);
    const nowhere = await failure(
      monitor().diagnosticSettings.createOrUpdate(uri('quiet-openai'), 'bad', {
        logs: [{ categoryGroup: 'allLogs', enabled: true }],
      }),
    );
    assert.equal(nowhere.statusCode, 400);
  });
});

describe('AzureDiagnostics rows of the data plane', () => {
  test('no row without a diagnostic setting; then key and token calls give rows with empty / the caller oid', async () => {
    const since = new Date(Date.now() - 1000);
    const { control } = s.t.sim;
    assert.equal((await control.callAccount({ account: 'mon-openai', key: 1 })).status, 200);
    assert.equal(
      control.logs('log-mon').filter((r) => r.ResourceId === accountId('mon-openai').toUpperCase()).length,
      0,
      'nothing is written while no setting exists',
    );
    await enableLogs('mon-openai');
    assert.equal(
      (await control.callAccount({ account: 'mon-openai', key: 1, ip: '203.0.113.7', userAgent: 'laptop-script/1.0' }))
        .status,
      200,
    );
    const token = (await cred('token-caller').getToken(COGNITIVE_SCOPE))!.token;
    assert.equal((await control.callAccount({ account: 'mon-openai', token, userAgent: 'svc/2' })).status, 200);

    const rows = control.logs('log-mon');
    assert.equal(rows.length, 2);
    const [keyRow, tokenRow] = rows;
    for (const r of rows) {
      assert.equal(r.Category, 'RequestResponse');
      assert.equal(r.ResourceProvider, 'MICROSOFT.COGNITIVESERVICES');
      assert.equal(r.ResourceId, accountId('mon-openai').toUpperCase());
      assert.equal(r.OperationName, 'ChatCompletions_Create');
      assert.equal(r.ResultSignature, '200');
      assert.equal(typeof r.DurationMs, 'number');
      const p = JSON.parse(String(r.properties_s)) as Record<string, string>;
      assert.equal(p.modelDeploymentName, 'gpt-4o-mini');
      assert.match(p.apiName, /2024-10-21/);
    }
    assert.equal(keyRow.CallerIPAddress, '203.0.113.7');
    assert.equal((JSON.parse(String(keyRow.properties_s)) as { objectId: string }).objectId, '');
    assert.equal((JSON.parse(String(keyRow.properties_s)) as { userAgent: string }).userAgent, 'laptop-script/1.0');
    assert.equal(tokenRow.CallerIPAddress, '127.0.0.1', 'a caller the control API did not mark shows its socket');
    const principal = s.t.sim.control.state().principals;
    const oid = Object.values(principal).find((p) => p.name === 'token-caller')!.objectId;
    assert.equal((JSON.parse(String(tokenRow.properties_s)) as { objectId: string }).objectId, oid);

    // No key, token or other secret in any row.
    const text = JSON.stringify(rows);
    for (const secret of s.t.sim.control.secrets()) assert.ok(!text.includes(secret), 'a secret in a row');

    // Visible to queries only after the ingestion delay (1.5 s in the fast profile).
    const visible = await eventually(async () => {
      const r = await query(callersQuery(accountId('mon-openai')), since);
      return r.reduce((n, x) => n + Number(x.calls), 0) === 2 ? r : undefined;
    });
    assert.equal(visible.length, 2);
  });

  test('rows stay invisible before logIngestionMs and appear after it', async () => {
    const { control } = s.t.sim;
    control.setDelays({ logIngestionMs: 600_000 });
    try {
      const since = new Date();
      await control.callAccount({ account: 'mon-openai', key: 'not-a-key', ip: '198.51.100.9' });
      assert.ok(
        control.logs().some((r) => r.CallerIPAddress === '198.51.100.9'),
        'written',
      );
      assert.deepEqual(await query(refusedQuery(accountId('mon-openai')), since), [], 'not ingested yet');
      control.setDelays({ logIngestionMs: 0 });
      const rows = await query(refusedQuery(accountId('mon-openai')), since);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].CallerIPAddress, '198.51.100.9');
    } finally {
      control.setDelays({ logIngestionMs: 0 });
    }
  });

  test("a simulated app's calls show its site's outbound IP", async () => {
    const since = new Date();
    const site = await s.t.clientsAs('owner').web.webApps.get(RG, 'mon-bot');
    assert.match(site.outboundIpAddresses ?? '', /^10\.\d+\.\d+\.\d+$/);
    assert.ok(site.possibleOutboundIpAddresses?.split(',').includes(site.outboundIpAddresses!));
    const health = await httpsJson(`${s.t.sim.control.siteUrl(RG, 'mon-bot')}/health`, s.t.sim.info.caCert);
    assert.equal(health.status, 200, JSON.stringify(health.body));
    const rows = await query(callersQuery(accountId('mon-openai')), since);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].CallerIPAddress, site.outboundIpAddresses);
    assert.equal(rows[0].objectId, '');
    assert.match(String(rows[0].userAgent), /AzureOpenAI|OpenAI/i);
  });

  test('the product queries aggregate callers and refusals', async () => {
    const { control } = s.t.sim;
    const since = new Date();
    const token = (await cred('token-caller').getToken(COGNITIVE_SCOPE))!.token;
    const laptop = { account: 'mon-openai', ip: '203.0.113.7', userAgent: 'laptop-script/1.0' };
    assert.equal((await control.callAccount({ ...laptop, key: 1 })).status, 200);
    assert.equal((await control.callAccount({ ...laptop, key: 2 })).status, 200);
    assert.equal((await control.callAccount({ ...laptop, key: 'wrong-key' })).status, 401);
    assert.equal(
      (await control.callAccount({ account: 'mon-openai', token, ip: '192.0.2.1', userAgent: 'svc/2' })).status,
      200,
    );
    const armToken = (await cred('token-caller').getToken('https://management.azure.com/.default'))!.token;
    assert.equal(
      (await control.callAccount({ account: 'mon-openai', token: armToken, ip: '192.0.2.2', userAgent: 'svc/3' }))
        .status,
      401,
    );
    const oid = Object.values(control.state().principals).find((p) => p.name === 'token-caller')!.objectId;

    const callers = await query(callersQuery(accountId('mon-openai')), since);
    const key = (r: Record<string, unknown>) =>
      `${String(r.objectId)}|${String(r.CallerIPAddress)}|${String(r.userAgent)}`;
    const byKey = Object.fromEntries(callers.map((r) => [key(r), r]));
    assert.deepEqual(
      Object.keys(byKey).sort(),
      ['|203.0.113.7|laptop-script/1.0', `${oid}|192.0.2.1|svc/2`, '|192.0.2.2|svc/3'].sort(),
    );
    const laptopRow = byKey['|203.0.113.7|laptop-script/1.0'];
    assert.equal(laptopRow.calls, 3);
    assert.equal(laptopRow.failed, 1);
    assert.ok(laptopRow.firstSeen instanceof Date && laptopRow.lastSeen instanceof Date);
    assert.ok(laptopRow.firstSeen <= laptopRow.lastSeen);
    assert.ok(laptopRow.firstSeen >= new Date(since.getTime() - 1));
    assert.equal(byKey[`${oid}|192.0.2.1|svc/2`].failed, 0);
    assert.equal(byKey['|192.0.2.2|svc/3'].failed, 1, 'a token of the wrong audience: no verified oid, refused');

    const refused = await query(refusedQuery(accountId('mon-openai')), since);
    assert.deepEqual(refused.map((r) => [r.objectId, r.CallerIPAddress, r.userAgent, r.refused]).sort(), [
      ['', '192.0.2.2', 'svc/3', 1],
      ['', '203.0.113.7', 'laptop-script/1.0', 1],
    ]);
    // The other account's rows never mix in (=~ on its id, which the rows hold upper-cased).
    assert.deepEqual(await query(callersQuery(accountId('quiet-openai')), since), []);
    // A window before the calls sees nothing.
    const before = rowsOf(
      await logs().queryWorkspace(WORKSPACE_CUSTOMER_ID, callersQuery(accountId('mon-openai')), {
        startTime: new Date(since.getTime() - 3_600_000),
        endTime: new Date(since.getTime() - 1000),
      }),
    );
    assert.deepEqual(
      before.filter((r) => r.CallerIPAddress === '192.0.2.1'),
      [],
    );
  });

  test('other operators of the subset: where, extend, order by, take, project, dcount', async () => {
    const since = new Date(Date.now() - 3_600_000);
    const rows = await query(
      `AzureDiagnostics
| where isnotempty(CallerIPAddress) and not(CallerIPAddress == "10.0.0.0") and TimeGenerated >= ago(1h)
| extend status = toint(ResultSignature)
| where status in (200, 401) or (status >= 500)
| order by TimeGenerated desc
| take 3
| project CallerIPAddress, status, TimeGenerated`,
      since,
    );
    assert.equal(rows.length, 3);
    assert.deepEqual(Object.keys(rows[0]), ['CallerIPAddress', 'status', 'TimeGenerated']);
    const times = rows.map((r) => (r.TimeGenerated as Date).getTime());
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    const [d] = await query('AzureDiagnostics | summarize ips = dcount(CallerIPAddress), n = count()', since);
    assert.ok(Number(d.ips) >= 4 && Number(d.n) >= Number(d.ips));
  });

  test('an unsupported or malformed query is a 400 BadArgumentError naming what is wrong', async () => {
    const unsupported = (await failure(
      logs().queryWorkspace(WORKSPACE_CUSTOMER_ID, 'AzureDiagnostics | join (AzureDiagnostics) on CorrelationId', {
        duration: 'PT1H',
      }),
    )) as {
      statusCode?: number;
      details?: { error: { code: string; innererror?: { code: string; innererror?: { message: string } } } };
    };
    assert.equal(unsupported.statusCode, 400);
    assert.equal(unsupported.details?.error.code, 'BadArgumentError');
    assert.equal(unsupported.details?.error.innererror?.code, 'SemanticError');
    assert.match(unsupported.details?.error.innererror?.innererror?.message ?? '', /'join' is not supported/);
    const syntax = (await failure(
      logs().queryWorkspace(WORKSPACE_CUSTOMER_ID, "AzureDiagnostics | where Category == 'x", { duration: 'PT1H' }),
    )) as typeof unsupported;
    assert.equal(syntax.statusCode, 400);
    assert.equal(syntax.details?.error.innererror?.code, 'SyntaxError');
    const types = (await failure(
      logs().queryWorkspace(WORKSPACE_CUSTOMER_ID, "AzureDiagnostics | where DurationMs == 'slow'", {
        duration: 'PT1H',
      }),
    )) as typeof unsupported;
    assert.equal(types.statusCode, 400);
    assert.match(
      types.details?.error.innererror?.innererror?.message ?? '',
      /Cannot compare values of types long and string/,
    );
    const table = (await failure(
      logs().queryWorkspace(WORKSPACE_CUSTOMER_ID, 'Usage | take 1', { duration: 'PT1H' }),
    )) as typeof unsupported;
    assert.equal(table.statusCode, 400);
  });

  test('the query API: 403 InsufficientAccessError without rights, 401 for a token of another audience', async () => {
    const denied = (await failure(
      logs('nobody').queryWorkspace(WORKSPACE_CUSTOMER_ID, 'AzureDiagnostics | take 1', { duration: 'PT1H' }),
    )) as { statusCode?: number; details?: { error: { code: string } } };
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.details?.error.code, 'InsufficientAccessError');
    const audience = (await failure(
      logs('cutover-worker', ['https://management.azure.com/.default']).queryWorkspace(
        WORKSPACE_CUSTOMER_ID,
        'AzureDiagnostics | take 1',
        { duration: 'PT1H' },
      ),
    )) as typeof denied;
    assert.equal(audience.statusCode, 401);
    assert.equal(audience.details?.error.code, 'InvalidTokenError');
    const unknown = (await failure(
      logs().queryWorkspace('00000000-0000-4000-8000-000000000000', 'AzureDiagnostics | take 1', { duration: 'PT1H' }),
    )) as typeof denied;
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.details?.error.code, 'WorkspaceNotFoundError');
  });
});

describe('metrics', () => {
  const minuteAgo = () => new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);

  test('a site counts 5xx while its app restarts', async () => {
    const { control } = s.t.sim;
    const siteId = `/subscriptions/${s.sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/mon-bot`;
    const startTime = minuteAgo();
    const url = `${control.siteUrl(RG, 'mon-bot')}/`;
    assert.equal((await httpsJson(url, s.t.sim.info.caCert)).status, 200);
    control.setDelays({ appRestartMs: 600_000 });
    let during: number[] = [];
    try {
      await s.t.clientsAs('owner').web.webApps.restart(RG, 'mon-bot');
      for (let i = 0; i < 3; i++) during.push((await httpsJson(url, s.t.sim.info.caCert)).status);
    } finally {
      control.setDelays({ appRestartMs: 0 });
      control.endWaits();
    }
    assert.deepEqual(during, [503, 503, 503]);
    during = [];
    const result = await metrics().queryResources([siteId], ['Requests', 'Http2xx', 'Http5xx'], 'Microsoft.Web/sites', {
      startTime,
      endTime: new Date(startTime.getTime() + 10 * 60_000),
      interval: 'PT5M',
      aggregation: 'total,count',
    });
    assert.equal(result.length, 1);
    const total = (name: string) =>
      result[0].metrics
        .find((m) => m.id?.endsWith(`/metrics/${name}`))!
        .timeseries[0].data!.reduce((n, d) => n + (d.total ?? 0), 0);
    assert.equal(total('Http5xx'), 3);
    assert.ok(total('Http2xx') >= 1);
    assert.equal(total('Requests'), total('Http2xx') + total('Http5xx'));
    const data = result[0].metrics[0].timeseries[0].data!;
    assert.deepEqual(
      data.map((d) => d.timeStamp.toISOString()),
      [startTime.toISOString(), new Date(startTime.getTime() + 300_000).toISOString()],
      'buckets start at starttime, one per interval',
    );
    assert.equal(result[0].granularity, 'PT5M');
  });

  test('an account counts the refused key calls once key auth is off; metricsLagMs hides recent ones', async () => {
    const { control } = s.t.sim;
    const startTime = minuteAgo();
    const endTime = new Date(startTime.getTime() + 10 * 60_000);
    const read = async () => {
      const [r] = await metrics().queryResources(
        [accountId('quiet-openai')],
        ['TotalCalls', 'SuccessfulCalls', 'ClientErrors'],
        'Microsoft.CognitiveServices/accounts',
        {
          startTime,
          endTime,
          interval: 'PT1H',
        },
      );
      return Object.fromEntries(r.metrics.map((m) => [m.id.split('/').pop()!, m.timeseries[0].data![0].total]));
    };
    assert.deepEqual(await read(), { TotalCalls: 0, SuccessfulCalls: 0, ClientErrors: 0 });
    assert.equal((await control.callAccount({ account: 'quiet-openai', key: 1 })).status, 200);
    await s.t.clientsAs('owner').cognitive.accounts.beginUpdateAndWait(RG, 'quiet-openai', {
      properties: { disableLocalAuth: true },
    });
    const refused = [];
    for (let i = 0; i < 2; i++) refused.push((await control.callAccount({ account: 'quiet-openai', key: 1 })).status);
    assert.deepEqual(refused, [403, 403]);
    assert.deepEqual(await read(), { TotalCalls: 3, SuccessfulCalls: 1, ClientErrors: 2 });
    control.setDelays({ metricsLagMs: 600_000 });
    try {
      assert.deepEqual(await read(), { TotalCalls: 0, SuccessfulCalls: 0, ClientErrors: 0 }, 'not visible yet');
    } finally {
      control.setDelays({ metricsLagMs: 0 });
    }
  });

  test("unknown metric or namespace, sub-minute interval: Azure's 400; no rights: 403", async () => {
    const id = accountId('quiet-openai');
    const ns = 'Microsoft.CognitiveServices/accounts';
    const unknown = await failure(metrics().queryResources([id], ['Latency'], ns));
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.message, /Failed to find metric configuration .*metric: Latency/);
    const namespace = await failure(metrics().queryResources([id], ['TotalCalls'], 'Microsoft.Foo/bars'));
    assert.equal(namespace.statusCode, 400);
    const seconds = await failure(metrics().queryResources([id], ['TotalCalls'], ns, { interval: 'PT30S' }));
    assert.equal(seconds.statusCode, 400);
    assert.match(seconds.message, /time grain/);
    const denied = await failure(metrics('nobody').queryResources([id], ['TotalCalls'], ns));
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.code, 'AuthorizationFailed');
  });
});
