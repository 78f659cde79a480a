/**
 * Conformance with Microsoft's own REST examples (../shared/azure-examples, from Azure/azure-rest-api-specs):
 * each applicable example's request is replayed against the simulator, with ids of the test estate substituted,
 * through the SDK's authenticated pipeline; the status must be the example's and the body must have the same field
 * names with the same JSON types, recursively. Fields the simulator adds are listed below with the reason they
 * are there; anything else extra fails the test.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { RG, SITE, type TestSim, startTestSimulator } from './support';

const REPO = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.resolve(REPO, '..', 'shared', 'azure-examples');

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
/** A role with data actions, so that every array of the role definition examples has elements to compare. */
const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

/** Fields the simulator returns beyond an example, and why. */
const JUSTIFIED_EXTRAS: Record<string, string> = {
  '.identity':
    'the site identity block the cutover reads (ManagedServiceIdentity in the spec); absent from the examples, whose sites have none',
  '.properties.outboundVnetRouting.managedIdentityTraffic':
    'OutboundVnetRouting.managedIdentityTraffic (2025-05-01): the update examples have it, GetWebApp.json predates it',
  '.properties.sku': 'GetWebApp.json has it; the update examples were captured without it',
  '.properties.resourceConfig': 'GetWebApp.json (the site itself) has it; the slot examples were captured without it',
  '.properties.resourceConfig.cpu': 'as above',
  '.properties.resourceConfig.memory': 'as above',
  '.properties.workloadProfileName': 'as above',
  '.properties.customSubDomainName':
    'AccountProperties.customSubDomainName (2025-09-01 spec): the cutover needs it, tokens need a custom subdomain',
  '.properties.disableLocalAuth': 'AccountProperties.disableLocalAuth (2025-09-01 spec): the setting the cutover flips',
  '.properties.publicNetworkAccess':
    'AccountProperties.publicNetworkAccess (2025-09-01 spec), returned by Azure for every account',
  '.properties.dateCreated': 'AccountProperties.dateCreated (2025-09-01 spec), returned by Azure for every account',
  '.tags': 'Resource.tags, returned by Azure (GetAccount.json has it; UpdateAccount.json was captured without)',
  '.properties.condition': 'RoleAssignmentProperties (2022-04-01 spec); real ARM returns it (null)',
  '.properties.conditionVersion': 'RoleAssignmentProperties (2022-04-01 spec); real ARM returns it (null)',
  '.properties.createdOn':
    'RoleAssignmentProperties / RoleDefinitionProperties (2022-04-01 spec); the brief asks to keep them',
  '.properties.updatedOn': 'as above',
  '.properties.createdBy': 'as above',
  '.properties.updatedBy': 'as above',
  '.properties.delegatedManagedIdentityResourceId':
    'RoleAssignmentProperties (2022-04-01 spec); real ARM returns it (null)',
  '.properties.description': 'RoleAssignmentProperties (2022-04-01 spec); real ARM returns it (null)',
};

/** Paths whose keys are user data (dictionaries): only the container type is compared. */
const DICTIONARIES = ['.tags', '.properties.siteConfig.azureStorageAccounts', '.identity.userAssignedIdentities'];

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Compares shapes; returns mismatches and collects extra field paths. */
function compareShape(
  expected: unknown,
  actual: unknown,
  at: string,
  extras: Set<string>,
  dictionaries: string[],
): string[] {
  const problems: string[] = [];
  const te = jsonType(expected);
  const ta = jsonType(actual);
  // A null in an example says nothing about the type; an absent/undefined in ours is a missing field.
  if (te !== 'null' && te !== ta) return [`${at || '(body)'}: expected ${te}, got ${ta}`];
  if (te === 'object' && !dictionaries.includes(at)) {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!(k in a)) problems.push(`${at}.${k}: missing`);
      else problems.push(...compareShape(e[k], a[k], `${at}.${k}`, extras, dictionaries));
    }
    for (const k of Object.keys(a)) if (!(k in e)) extras.add(`${at}.${k}`);
  } else if (te === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length > 0) {
      if (a.length === 0) problems.push(`${at}: expected elements, got an empty array`);
      for (const [i, item] of a.entries())
        problems.push(
          ...compareShape(e[0], item, `${at}[]`, extras, dictionaries).map((p) => p.replace('[]', `[${i}]`)),
        );
    }
  }
  return problems;
}

interface Example {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

function readExample(file: string): Example {
  return JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8')) as Example;
}

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

async function replay(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const { cognitive } = t.clientsAs('owner');
  const url = `${t.sim.info.armEndpoint}${urlPath}`;
  const res = await cognitive.sendRequest(
    createPipelineRequest({
      url,
      method: method as 'GET',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
  return { status: res.status, body: res.bodyAsText ? (JSON.parse(res.bodyAsText) as unknown) : undefined };
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

const CASES: Case[] = [
  { file: 'web/GetWebApp.json', status: '200', method: 'GET', path: () => `${site()}${v('2025-05-01')}` },
  { file: 'web/GetWebApp.json', status: '404', method: 'GET', path: () => `${site()}-missing${v('2025-05-01')}` },
  {
    file: 'web/GetWebAppSlot.json',
    status: '200',
    method: 'GET',
    path: () => `${site()}/slots/staging${v('2025-05-01')}`,
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
];

/** Examples of operations the simulator does not offer (creating resources is outside a cutover). */
const NOT_APPLICABLE: Record<string, string> = {
  'web/CreateOrUpdateWebApp.json': 'site creation is not simulated: the cutover changes existing apps',
  'web/CreateOrUpdateWebAppSlot.json': 'slot creation is not simulated',
  'cognitiveservices/CreateAccount.json': 'account creation is not simulated',
  'cognitiveservices/CreateAccountMin.json': 'account creation is not simulated',
};

describe('Azure REST examples', () => {
  test('every example file is either replayed or explicitly not applicable', () => {
    const files = ['web', 'cognitiveservices', 'authorization', 'managedidentity'].flatMap((dir) =>
      readdirSync(path.join(EXAMPLES, dir))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${dir}/${f}`),
    );
    const covered = new Set([...CASES.map((c) => c.file), ...Object.keys(NOT_APPLICABLE)]);
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
      if (expected.body === undefined || expected.body === null || Object.keys(expected.body).length === 0) return;
      const extras = new Set<string>();
      const problems = compareShape(expected.body, res.body, '', extras, [...DICTIONARIES, ...(c.dictionaries ?? [])]);
      assert.deepEqual(problems, [], `${c.file}: shape differs`);
      const unjustified = [...extras].map((e) => e.replace(/^\.value\[\]/, '')).filter((e) => !JUSTIFIED_EXTRAS[e]);
      assert.deepEqual(unjustified, [], `${c.file}: fields the example does not have`);
    });
  }
});
