/**
 * Conformance with Microsoft's own REST examples (../shared/azure-examples and, for operations it has none of,
 * test/fixtures/simulator/azure-examples, both from Azure/azure-rest-api-specs): each applicable example's request
 * is replayed against the simulator, with ids of the test estate substituted, through the SDK's authenticated
 * pipeline; the status must be the example's, the body must have the same field names with the same JSON types,
 * recursively, and the answer must carry ARM's headers and the example's. Fields the simulator adds are listed in
 * conformance-shape.ts with the reason they are there; anything else extra fails the test.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { createAzureClients } from '../../azure/clients';
import { RG, SITE, type TestSim, httpsJson, startTestSimulator } from './support';
import {
  EXAMPLES,
  type Example,
  FIXTURE_EXAMPLES,
  assertArmHeaders,
  assertShape,
  compareShape,
  DICTIONARIES,
  JUSTIFIED_EXTRAS,
  readExample,
} from './conformance-shape';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
/** A role with data actions, so that every array of the role definition examples has elements to compare. */
const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

let t: TestSim;
let sub: string;

before(async () => {
  assert.ok(
    existsSync(EXAMPLES),
    `Azure REST examples not found at ${EXAMPLES}: the conformance tests need shared/azure-examples beside the repository`,
  );
  t = await startTestSimulator();
  sub = t.sim.info.subscriptionId;
});
after(() => t?.close());

async function replay(method: string, urlPath: string, body?: unknown) {
  const { cognitive } = t.clientsAs('owner');
  const url = `${t.sim.info.armEndpoint}${urlPath}`;
  const res = await cognitive.sendRequest(
    createPipelineRequest({
      url,
      method: method as 'GET',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
  return {
    status: res.status,
    headers: res.headers,
    clientRequestId: res.request.headers.get('x-ms-client-request-id'),
    body: res.bodyAsText ? (JSON.parse(res.bodyAsText) as unknown) : undefined,
  };
}

interface Case {
  file: string;
  status: string;
  method: string;
  path: () => string;
  body?: (ex: Example) => unknown;
  /** Runs first (e.g. create the role assignment an example reads). */
  setup?: () => Promise<void>;
  dictionaries?: string[];
}

const site = () => `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${SITE}`;
const account = () =>
  `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/claims-openai`;
const rgScope = () => `/subscriptions/${sub}/resourceGroups/${RG}`;
const raPath = (scope: string, name: string) => `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
/** The example's role assignment body with a built-in role of this estate and a fresh principal. */
const raBody = (ex: Example) => {
  const p = (ex.parameters.parameters as { properties: Record<string, string> }).properties;
  return {
    properties: {
      ...p,
      roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`,
    },
  };
};
const NAMES = {
  sub: '05c5a614-a7d6-4502-b150-c2fb455033ff',
  rg: '96786e4b-dede-4c2e-8736-8ab911987f08',
  res: 'b0f43c54-e787-4862-89b1-a653fa9cf747',
};
const v = (api: string) => `?api-version=${api}`;
const diagnosticSetting = () => `${account()}/providers/Microsoft.Insights/diagnosticSettings/mysetting`;
/**
 * A diagnostic setting of an example on the estate's account: the example's is on a Logic App, whose metric
 * category (WorkflowMetrics) an account does not have; an account's is AllMetrics.
 */
const onAccount = (properties: unknown) => {
  const p = structuredClone(properties) as { metrics?: { category?: string }[] };
  for (const m of p.metrics ?? []) m.category = 'AllMetrics';
  return { properties: p };
};
const exampleProperties = (file: string, pick: (body: Record<string, unknown>) => unknown) =>
  pick(readExample(file).responses['200'].body as Record<string, unknown>);

// --- Microsoft.App container apps: one app made by the CreateOrUpdate example, then read, updated and listed.
const CA_NAME = 'testcontainerapp0';
const containerApp = () => `${rgScope()}/providers/Microsoft.App/containerApps/${CA_NAME}`;
const CA_API = v('2025-07-01');
/** The example's ids (subscription, resource group, identity) are of another estate: ours instead. */
function onEstate(value: unknown): unknown {
  const text = JSON.stringify(value)
    .replace(/\/subscriptions\/[^/]+\/resource[gG]roups\/rg\//g, `/subscriptions/${sub}/resourceGroups/${RG}/`)
    .replace(/userAssignedIdentities\/myidentity/g, 'userAssignedIdentities/id-claims-bot');
  return JSON.parse(text) as unknown;
}
/**
 * CreateOrUpdate's request on this estate: its traffic names a revision of the estate (the one this PUT makes, by
 * its revisionSuffix), and its scale rules keep the first only (the others have other shapes than the response's
 * first rule, which is what each rule is compared with).
 */
function createBody(ex: Example): unknown {
  const envelope = onEstate(ex.parameters.containerAppEnvelope) as {
    properties: {
      configuration: { ingress: { traffic: unknown[] } };
      template: { revisionSuffix?: string; scale: { rules: unknown[] } };
    };
  };
  envelope.properties.configuration.ingress.traffic = [
    { weight: 100, revisionName: `${CA_NAME}--ab1234`, label: 'production' },
  ];
  envelope.properties.template.revisionSuffix = 'ab1234';
  envelope.properties.template.scale.rules = envelope.properties.template.scale.rules.slice(0, 1);
  return envelope;
}
/** The Patch example's request with its traffic on the estate's revision and the first scale rule only. */
function patchBody(ex: Example): unknown {
  const envelope = onEstate(ex.parameters.containerAppEnvelope) as {
    properties: { configuration: { ingress: { traffic: { revisionName: string }[] } } };
  };
  for (const t of envelope.properties.configuration.ingress.traffic) t.revisionName = `${CA_NAME}--ab1234`;
  return envelope;
}
/** Waits until the app's last long-running operation has ended (ARM refuses writes meanwhile). */
async function containerAppSettled(): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await replay('GET', `${containerApp()}${CA_API}`);
    const state = (res.body as { properties?: { provisioningState?: string } }).properties?.provisioningState;
    if (res.status === 200 && state !== 'InProgress') return;
    if (Date.now() > deadline) assert.fail(`the container app stays ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const CONTAINER_APP_CASES: Case[] = [
  {
    file: 'containerapps/ContainerApps_CreateOrUpdate.json',
    status: '201',
    method: 'PUT',
    path: () => `${containerApp()}${CA_API}`,
    body: createBody,
  },
  {
    file: 'containerapps/ContainerApps_Get.json',
    status: '200',
    method: 'GET',
    path: () => `${containerApp()}${CA_API}`,
    setup: containerAppSettled,
  },
  {
    file: 'containerapps/ContainerApps_Get.json',
    status: '404',
    method: 'GET',
    path: () => `${containerApp()}-missing${CA_API}`,
  },
  {
    file: 'containerapps/ContainerApps_CreateOrUpdate.json',
    status: '200',
    method: 'PUT',
    path: () => `${containerApp()}${CA_API}`,
    body: createBody,
    setup: containerAppSettled,
  },
  {
    file: 'containerapps/ContainerApps_Patch.json',
    status: '202',
    method: 'PATCH',
    path: () => `${containerApp()}${CA_API}`,
    body: patchBody,
    setup: containerAppSettled,
  },
  {
    file: 'containerapps/ContainerApps_ListSecrets.json',
    status: '200',
    method: 'POST',
    path: () => `${containerApp()}/listSecrets${CA_API}`,
    setup: async () => {
      await containerAppSettled();
      const secrets = [
        { name: 'secret1', value: 'one' },
        { name: 'secret2', value: 'two' },
      ];
      const res = await replay('PATCH', `${containerApp()}${CA_API}`, { properties: { configuration: { secrets } } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    },
  },
  {
    file: 'containerapps/Revisions_List.json',
    status: '200',
    method: 'GET',
    path: () => `${containerApp()}/revisions${CA_API}`,
    setup: containerAppSettled,
  },
  {
    file: 'containerapps/Revisions_Get.json',
    status: '200',
    method: 'GET',
    path: () => `${containerApp()}/revisions/${CA_NAME}--ab1234${CA_API}`,
  },
  {
    file: 'containerapps/Revisions_Deactivate.json',
    status: '200',
    method: 'POST',
    path: () => `${containerApp()}/revisions/${CA_NAME}--ab1234/deactivate${v('2025-01-01')}`,
  },
];

const CASES: Case[] = [
  { file: 'web/GetWebApp.json', status: '200', method: 'GET', path: () => `${site()}${v('2025-05-01')}` },
  {
    file: 'fixtures/web/ListWebApps.json',
    status: '200',
    method: 'GET',
    path: () => `/subscriptions/${sub}/providers/Microsoft.Web/sites${v('2025-05-01')}`,
  },
  {
    file: 'fixtures/web/GetSiteConfig.json',
    status: '200',
    method: 'GET',
    path: () => `${site()}/config/web${v('2025-05-01')}`,
  },
  {
    file: 'fixtures/web/GetSiteConfig.json',
    status: '200',
    method: 'GET',
    path: () => `${site()}/slots/staging/config/web${v('2025-05-01')}`,
  },
  { file: 'web/GetWebApp.json', status: '404', method: 'GET', path: () => `${site()}-missing${v('2025-05-01')}` },
  {
    file: 'web/GetWebAppSlot.json',
    status: '200',
    method: 'GET',
    path: () => `${site()}/slots/staging${v('2025-05-01')}`,
  },
  {
    // A new slot (the site's plan is Standard: up to five); the example's plan id is of its own subscription.
    file: 'web/CreateOrUpdateWebAppSlot.json',
    status: '200',
    method: 'PUT',
    path: () => `${site()}/slots/canary${v('2025-05-01')}`,
    body: (ex) => ex.parameters.siteEnvelope,
  },
  {
    file: 'web/GetWebAppSlot.json',
    status: '404',
    method: 'GET',
    path: () => `${site()}/slots/nope${v('2025-05-01')}`,
  },
  {
    file: 'web/UpdateWebApp.json',
    status: '200',
    method: 'PATCH',
    path: () => `${site()}${v('2025-05-01')}`,
    body: (ex) => ex.parameters.siteEnvelope,
  },
  {
    file: 'web/UpdateWebAppSlot.json',
    status: '200',
    method: 'PATCH',
    path: () => `${site()}/slots/staging${v('2025-05-01')}`,
    body: (ex) => ex.parameters.siteEnvelope,
  },
  {
    file: 'web/ListAppSettings.json',
    status: '200',
    method: 'POST',
    path: () => `${site()}/config/appsettings/list${v('2025-05-01')}`,
    dictionaries: ['.properties'],
  },
  {
    file: 'web/UpdateAppSettings.json',
    status: '200',
    method: 'PUT',
    path: () => `${site()}/config/appsettings${v('2025-05-01')}`,
    body: (ex) => ex.parameters.appSettings,
    dictionaries: ['.properties'],
  },
  {
    file: 'managedidentity/IdentityGet.json',
    status: '200',
    method: 'GET',
    path: () =>
      `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-claims-bot${v('2024-11-30')}`,
  },
  {
    file: 'cognitiveservices/GetAccount.json',
    status: '200',
    method: 'GET',
    path: () => `${account()}${v('2025-09-01')}`,
  },
  {
    file: 'cognitiveservices/lists/ListAccountsBySubscription.json',
    status: '200',
    method: 'GET',
    path: () => `/subscriptions/${sub}/providers/Microsoft.CognitiveServices/accounts${v('2026-09-01')}`,
  },
  {
    file: 'cognitiveservices/lists/ListAccountsByResourceGroup.json',
    status: '200',
    method: 'GET',
    path: () => `${rgScope()}/providers/Microsoft.CognitiveServices/accounts${v('2025-04-01')}`,
  },
  {
    file: 'cognitiveservices/ListKeys.json',
    status: '200',
    method: 'POST',
    path: () => `${account()}/listKeys${v('2025-09-01')}`,
  },
  {
    file: 'cognitiveservices/RegenerateKey.json',
    status: '200',
    method: 'POST',
    path: () => `${account()}/regenerateKey${v('2025-09-01')}`,
    body: (ex) => ex.parameters.parameters,
  },
  {
    file: 'cognitiveservices/GetDeployment.json',
    status: '200',
    method: 'GET',
    path: () => `${account()}/deployments/gpt-4o-mini${v('2025-09-01')}`,
  },
  {
    file: 'cognitiveservices/ListDeployments.json',
    status: '200',
    method: 'GET',
    path: () => `${account()}/deployments${v('2025-04-01')}`,
  },
  {
    file: 'cognitiveservices/UpdateAccount.json',
    status: '202',
    method: 'PATCH',
    path: () => `${account()}${v('2025-06-01')}`,
    body: (ex) => ex.parameters.account,
  },
  {
    file: 'authorization/RoleAssignments_CreateForSubscription.json',
    status: '201',
    method: 'PUT',
    path: () => `${raPath(`/subscriptions/${sub}`, NAMES.sub)}${v('2022-04-01')}`,
    body: raBody,
  },
  {
    file: 'authorization/RoleAssignments_CreateForSubscription.json',
    status: '200',
    method: 'PUT',
    path: () => `${raPath(`/subscriptions/${sub}`, NAMES.sub)}${v('2022-04-01')}`,
    body: raBody,
  },
  {
    file: 'authorization/RoleAssignments_CreateForResourceGroup.json',
    status: '201',
    method: 'PUT',
    path: () => `${raPath(rgScope(), NAMES.rg)}${v('2022-04-01')}`,
    body: raBody,
  },
  {
    file: 'authorization/RoleAssignments_CreateForResourceGroup.json',
    status: '200',
    method: 'PUT',
    path: () => `${raPath(rgScope(), NAMES.rg)}${v('2022-04-01')}`,
    body: raBody,
  },
  {
    file: 'authorization/RoleAssignments_CreateForResource.json',
    status: '201',
    method: 'PUT',
    path: () => `${raPath(account(), NAMES.res)}${v('2022-04-01')}`,
    body: raBody,
  },
  {
    file: 'authorization/RoleAssignments_CreateForResource.json',
    status: '200',
    method: 'PUT',
    path: () => `${raPath(account(), NAMES.res)}${v('2022-04-01')}`,
    body: raBody,
  },
  {
    file: 'authorization/RoleAssignments_Get.json',
    status: '200',
    method: 'GET',
    path: () => `${raPath(account(), NAMES.res)}${v('2020-10-01-preview')}`,
  },
  {
    file: 'authorization/RoleAssignments_GetById.json',
    status: '200',
    method: 'GET',
    path: () => `${raPath(account(), NAMES.res)}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/RoleAssignments_ListForScope.json',
    status: '200',
    method: 'GET',
    path: () => `/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments${v('2022-04-01')}`,
  },
  {
    file: 'authorization/RoleAssignments_ListForSubscription.json',
    status: '200',
    method: 'GET',
    path: () => `/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments${v('2022-05-01-preview')}`,
  },
  {
    file: 'authorization/RoleAssignments_ListForResourceGroup.json',
    status: '200',
    method: 'GET',
    path: () => `${rgScope()}/providers/Microsoft.Authorization/roleAssignments${v('2022-04-01')}`,
  },
  {
    file: 'authorization/RoleAssignments_ListForResource.json',
    status: '200',
    method: 'GET',
    path: () => `${account()}/providers/Microsoft.Authorization/roleAssignments${v('2022-05-01-preview')}`,
  },
  {
    file: 'authorization/RoleAssignments_Delete.json',
    status: '200',
    method: 'DELETE',
    path: () => `${raPath(account(), NAMES.res)}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/RoleAssignments_Delete.json',
    status: '204',
    method: 'DELETE',
    path: () => `${raPath(account(), NAMES.res)}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/RoleAssignments_DeleteById.json',
    status: '200',
    method: 'DELETE',
    path: () => `${raPath(rgScope(), NAMES.rg)}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/RoleAssignments_DeleteById.json',
    status: '204',
    method: 'DELETE',
    path: () => `${raPath(rgScope(), NAMES.rg)}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/GetRoleDefinitionByName.json',
    status: '200',
    method: 'GET',
    path: () => `${account()}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/GetRoleDefinitionById.json',
    status: '200',
    method: 'GET',
    path: () =>
      `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${OPENAI_USER}${v('2022-04-01')}`,
  },
  {
    file: 'authorization/GetRoleDefinitionAtScope.json',
    status: '200',
    method: 'GET',
    path: () =>
      `${account()}/providers/Microsoft.Authorization/roleDefinitions${v('2022-04-01')}&$filter=${encodeURIComponent("roleName eq 'Cognitive Services OpenAI User'")}`,
  },
  {
    file: 'monitor/createOrUpdateDiagnosticSetting.json',
    status: '200',
    method: 'PUT',
    path: () => `${diagnosticSetting()}${v('2021-05-01-preview')}`,
    body: (ex) => onAccount((ex.parameters.parameters as { properties: unknown }).properties),
  },
  {
    file: 'monitor/getDiagnosticSetting.json',
    status: '200',
    method: 'GET',
    path: () => `${diagnosticSetting()}${v('2021-05-01-preview')}`,
    setup: async () => {
      const body = onAccount(exampleProperties('monitor/getDiagnosticSetting.json', (b) => b.properties));
      const res = await replay('PUT', `${diagnosticSetting()}${v('2021-05-01-preview')}`, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    },
  },
  {
    file: 'monitor/listDiagnosticSettings.json',
    status: '200',
    method: 'GET',
    path: () => `${account()}/providers/Microsoft.Insights/diagnosticSettings${v('2021-05-01-preview')}`,
    setup: async () => {
      const properties = exampleProperties(
        'monitor/listDiagnosticSettings.json',
        (b) => (b.value as { properties: unknown }[])[0].properties,
      );
      const res = await replay('PUT', `${diagnosticSetting()}${v('2021-05-01-preview')}`, onAccount(properties));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    },
  },
  ...CONTAINER_APP_CASES,
];

/** Examples of operations the simulator does not offer (creating resources is outside a cutover). */
const NOT_APPLICABLE: Record<string, string> = {
  'web/CreateOrUpdateWebApp.json': 'site creation is not simulated: the cutover changes existing apps',
  'cognitiveservices/CreateAccount.json': 'account creation is not simulated',
  'cognitiveservices/CreateAccountMin.json': 'account creation is not simulated',
  'monitor/GetMetric.json':
    'Metrics_List (ARM GET {resourceUri}/providers/Microsoft.Insights/metrics) is not simulated: the simulator serves the metrics:getBatch API (monitor-query-metrics), and the example needs dimensions (Tier) of storage metrics, which the simulator has none of',
  'loganalytics/batch-query-example.json':
    'Query_Batch ($batch) is not simulated: the product queries one workspace at a time',
};

describe('Azure REST examples', () => {
  test('every example file is either replayed or explicitly not applicable', () => {
    const list = (root: string, dir: string, prefix = '') =>
      readdirSync(path.join(root, dir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${prefix}${dir}/${f}`);
    const files = [
      ...[
        'web',
        'cognitiveservices',
        'cognitiveservices/lists',
        'authorization',
        'managedidentity',
        'monitor',
        'loganalytics',
        'containerapps',
      ].flatMap((dir) => list(EXAMPLES, dir)),
      ...list(FIXTURE_EXAMPLES, 'web', 'fixtures/'),
    ];
    const covered = new Set([...CASES.map((c) => c.file), ...Object.keys(NOT_APPLICABLE), LOG_QUERY_EXAMPLE]);
    assert.deepEqual(
      files.filter((f) => !covered.has(f)),
      [],
    );
  });

  for (const c of CASES) {
    test(`${c.file} → ${c.status}`, async () => {
      const ex = readExample(c.file);
      const expected = ex.responses[c.status];
      assert.ok(expected, `${c.file} has a ${c.status} response`);
      await c.setup?.();
      const res = await replay(c.method, c.path(), c.body?.(ex));
      assert.equal(res.status, Number(c.status), JSON.stringify(res.body));
      assertArmHeaders(c, res.headers, res.clientRequestId, expected.headers);
      const etag = (res.body as { etag?: string } | undefined)?.etag;
      if (etag !== undefined && c.method === 'GET') assert.equal(res.headers.get('etag'), etag, 'ETag header');
      if (expected.body === undefined || expected.body === null || Object.keys(expected.body).length === 0) return;
      assertShape(c.file, expected.body, res.body, c.dictionaries);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Log Analytics query data plane

const LOG_QUERY_EXAMPLE = 'loganalytics/oms-post-example.json';
/** The JSON types Log Analytics gives each column type in `rows` (numbers and booleans native, as the API sends now). */
const CELL_TYPES: Record<string, string[]> = {
  string: ['string'],
  datetime: ['string', 'null'],
  long: ['number', 'null'],
  int: ['number', 'null'],
  real: ['number', 'null'],
  bool: ['boolean', 'null'],
  dynamic: ['string', 'object', 'null'],
};

describe('Azure REST examples: Log Analytics query', () => {
  test(`${LOG_QUERY_EXAMPLE} → 200 (its query's table replaced by AzureDiagnostics)`, async () => {
    const ex = readExample(LOG_QUERY_EXAMPLE);
    const put = await replay('PUT', `${diagnosticSetting()}${v('2021-05-01-preview')}`, {
      properties: {
        workspaceId: `${rgScope()}/providers/Microsoft.OperationalInsights/workspaces/log-claims`,
        logs: [{ category: 'RequestResponse', enabled: true }],
      },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    t.sim.control.setDelays({ logIngestionMs: 0 });
    assert.equal((await t.sim.control.callAccount({ account: 'claims-openai', key: 1 })).status, 200);
    const params = ex.parameters.body as { query: string; timespan: string };
    const token = (await t.credentialOf('owner').getToken('https://api.loganalytics.io/.default'))!.token;
    const customerId = '5b02755b-5bf4-430c-9487-45502a2a7e62';
    const res = await httpsJson(`${t.sim.info.logsEndpoint}/workspaces/${customerId}/query`, t.sim.info.caCert, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: params.query.replace(/^Usage\b/, 'AzureDiagnostics'), timespan: params.timespan }),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // The example's rows are of another table (Usage) and in the API's old all-strings form: compared by column type.
    const expected = structuredClone(ex.responses['200'].body) as { tables: { rows: unknown[] }[] };
    for (const table of expected.tables) table.rows = [];
    assertShape(LOG_QUERY_EXAMPLE, expected, res.body);
    const [table] = (res.body as { tables: { columns: { name: string; type: string }[]; rows: unknown[][] }[] }).tables;
    assert.ok(table.rows.length >= 1);
    for (const row of table.rows)
      for (const [i, cell] of row.entries()) {
        const type = table.columns[i].type;
        assert.ok(CELL_TYPES[type], `column type ${type}`);
        const json = cell === null ? 'null' : typeof cell;
        assert.ok(CELL_TYPES[type].includes(json), `${table.columns[i].name} (${type}) holds a ${json}`);
      }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Key Vault data plane and Microsoft.Resources subscriptions, on the estate that has a vault and three subscriptions

/** Fields of those examples the simulator leaves out, and why. */
const KV_JUSTIFIED_ABSENT: Record<string, string> = {
  '.previousVersion':
    'SecretBundle.previousVersion (2025-07-01 spec): "applies only to certificates"; the vault holds no certificates',
  '.nextLink': 'SubscriptionListResult.nextLink: one page holds every subscription, and ARM then sends none',
};
const KV_JUSTIFIED_EXTRAS: Record<string, string> = {
  '.attributes.recoverableDays':
    'SecretAttributes.recoverableDays (spec): Key Vault returns it (90) for soft-delete vaults; the examples predate it',
  '.attributes.recoveryLevel': 'SecretAttributes.recoveryLevel (spec); GetSecret-example.json has it, the list one not',
};

describe('Azure REST examples: Key Vault and subscriptions', () => {
  let kv: TestSim;
  let vaultUri: string;
  const VAULT_SCOPE = 'https://vault.azure.net/.default';
  const kvFixture = path.resolve(__dirname, '..', 'fixtures', 'simulator', 'keyvault-estate.yaml');

  before(async () => {
    kv = await startTestSimulator({ scenario: kvFixture });
    vaultUri = kv.sim.control.vaultUri('kv-shared');
  });
  after(() => kv?.close());

  const vaultCall = async (method: string, pathAndQuery: string, body?: unknown) => {
    const token = (await kv.credentialOf('secrets-officer').getToken(VAULT_SCOPE))!.token;
    return httpsJson(`${vaultUri}${pathAndQuery}`, kv.sim.info.caCert, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };
  const armCall = async (principal: string, urlPath: string) => {
    const res = await createAzureClients(
      kv.credentialOf(principal),
      kv.sim.info.subscriptionId,
      kv.endpoints,
    ).cognitive.sendRequest(createPipelineRequest({ url: `${kv.sim.info.armEndpoint}${urlPath}`, method: 'GET' }));
    return { status: res.status, body: JSON.parse(res.bodyAsText ?? 'null') as unknown };
  };
  const currentVersion = async () => {
    const res = await vaultCall('GET', 'secrets/openai-key/versions?api-version=2025-07-01');
    const ids = (res.body as { value: { id: string }[] }).value.map((v) => v.id);
    return ids.at(-1)!.split('/').pop()!;
  };

  const KV_CASES: { file: string; run: () => Promise<{ status: number; body: unknown }>; dictionaries?: string[] }[] = [
    {
      file: 'keyvault/GetSecret-example.json',
      run: async () => vaultCall('GET', `secrets/openai-key/${await currentVersion()}?api-version=2025-07-01`),
    },
    {
      file: 'keyvault/SetSecret-example.json',
      run: () =>
        vaultCall(
          'PUT',
          'secrets/crpsecret?api-version=2025-07-01',
          readExample('keyvault/SetSecret-example.json').parameters.parameters,
        ),
    },
    {
      file: 'keyvault/GetSecretVersions-example.json',
      run: () => vaultCall('GET', 'secrets/openai-key/versions?api-version=2025-07-01&maxresults=1'),
    },
    {
      file: 'resources/GetSubscriptions.json',
      // The partner subscription is managed by another tenant: its managedByTenants has elements, like the example's.
      run: () => armCall('outsider', '/subscriptions?api-version=2022-12-01'),
      dictionaries: ['.value[].tags'],
    },
  ];

  test('every keyvault/ and resources/ example is replayed', () => {
    const files = ['keyvault', 'resources'].flatMap((dir) =>
      readdirSync(path.join(EXAMPLES, dir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${dir}/${f}`),
    );
    assert.deepEqual(
      files.filter((f) => !KV_CASES.some((c) => c.file === f)),
      [],
    );
  });

  for (const c of KV_CASES) {
    test(`${c.file} → 200`, async () => {
      const expected = readExample(c.file).responses['200'];
      const res = await c.run();
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const extras = new Set<string>();
      const problems = compareShape(expected.body, res.body, '', extras, [
        ...DICTIONARIES,
        ...(c.dictionaries ?? []),
      ]).filter((p) => !KV_JUSTIFIED_ABSENT[p.replace(/: missing$/, '')]);
      assert.deepEqual(problems, [], `${c.file}: shape differs`);
      const unjustified = [...extras]
        .map((e) => e.replace(/^\.value\[\]/, ''))
        .filter((e) => !KV_JUSTIFIED_EXTRAS[e] && !JUSTIFIED_EXTRAS[e]);
      assert.deepEqual(unjustified, [], `${c.file}: fields the example does not have`);
    });
  }
});
