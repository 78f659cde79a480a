/**
 * Azure Machine Learning in the simulator (issue 11, item 4): workspace connections replayed from Microsoft's
 * examples (../shared/azure-examples/machinelearningservices/WorkspaceConnection: create, get, list, listSecrets —
 * status, field names and JSON types, ARM's headers), Azure's validation of connections and workspace identities,
 * RBAC on `listsecrets`, compute identities, and code calling Azure OpenAI through a connection with its key or with
 * the workspace's identity, through the real @azure/arm-machinelearning client where it has the operation.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Workspaces as MlWorkspaces } from '@azure/arm-machinelearning';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { type TestSim, httpsJson, startTestSimulator } from './support';
import { assertArmHeaders, assertShape, readExample } from './conformance-shape';

const SCENARIO = path.join(__dirname, '..', 'fixtures', 'scenarios', 'ml-connections.yaml');
const RG = 'rg-ml';
const DIR = 'machinelearningservices/WorkspaceConnection';

let t: TestSim;
let sub: string;
before(async () => {
  t = await startTestSimulator({ scenario: SCENARIO });
  sub = t.sim.info.subscriptionId;
});
after(() => t.close());

const wsPath = (ws: string) =>
  `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`;

/** What these tests read of an ARM answer. */
interface ArmBody {
  type?: string;
  value?: { name: string }[];
  properties?: { authType?: string; expiryTime?: string; credentials?: Record<string, string> };
  error?: { code?: string; message?: string };
}

async function arm(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  urlPath: string,
  apiVersion: string,
  body?: unknown,
  principal = 'owner',
) {
  const client = t.clientsAs(principal).cognitive;
  const sep = urlPath.includes('?') ? '&' : '?';
  const res = await client.sendRequest(
    createPipelineRequest({
      url: `${t.sim.info.armEndpoint}${urlPath}${sep}api-version=${apiVersion}`,
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
  return {
    status: res.status,
    headers: res.headers,
    clientRequestId: res.request.headers.get('x-ms-client-request-id'),
    body: (res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined) as ArmBody | undefined,
  };
}

const put = (ws: string, name: string, properties: Record<string, unknown>, apiVersion = '2025-09-01') =>
  arm('PUT', `${wsPath(ws)}/connections/${name}`, apiVersion, { properties });

describe('workspace connections: Microsoft examples', () => {
  const replayed = async (file: string, method: 'GET' | 'PUT' | 'POST', urlPath: string, body?: unknown) => {
    const ex = readExample(`${DIR}/${file}`);
    const res = await arm(method, urlPath, String(ex.parameters['api-version']), body);
    const [status, expected] = Object.entries(ex.responses)[0];
    assert.equal(String(res.status), status, `${file}: ${JSON.stringify(res.body)}`);
    assertShape(file, expected.body, res.body);
    assertArmHeaders({ file, status, method }, res.headers, res.clientRequestId ?? undefined, expected.headers);
    return res;
  };

  test('create.json: PUT answers 200 with the connection', async () => {
    const ex = readExample(`${DIR}/create.json`);
    const res = await replayed(
      'create.json',
      'PUT',
      `${wsPath('ws-claims')}/connections/connection-1`,
      ex.parameters.parameters,
    );
    assert.deepEqual(res.body?.properties, {
      category: 'ContainerRegistry',
      target: 'www.facebook.com',
      authType: 'None',
    });
    assert.equal(res.body?.type, 'Microsoft.MachineLearningServices/workspaces/connections');
  });

  test('get.json: GET answers the connection with the properties it was given', async () => {
    await put('ws-claims', 'connection-get', {
      authType: 'None',
      category: 'ContainerRegistry',
      target: 'registry.contoso.com',
      expiryTime: '2024-03-15T14:30:00Z',
    });
    const res = await replayed('get.json', 'GET', `${wsPath('ws-claims')}/connections/connection-get`);
    assert.equal(res.body?.properties?.expiryTime, '2024-03-15T14:30:00Z');
  });

  test('list.json: the target and category filters', async () => {
    for (const name of ['list-1', 'list-2'])
      await put('ws-claims', name, {
        authType: 'PAT',
        category: 'ContainerRegistry',
        target: 'www.facebook.com',
        credentials: { pat: 'not-a-real-pat' },
      });
    const res = await replayed(
      'list.json',
      'GET',
      `${wsPath('ws-claims')}/connections?target=www.facebook.com&category=ContainerRegistry`,
    );
    const names = (res.body?.value ?? []).map((c) => c.name).sort();
    assert.deepEqual(names, ['connection-1', 'list-1', 'list-2']);
    assert.ok(!JSON.stringify(res.body).includes('not-a-real-pat'), 'a list never answers credentials');
  });

  test('listSecrets.json: POST listsecrets answers the credentials', async () => {
    await put('ws-claims', 'keys-1', {
      authType: 'AccessKey',
      category: 'CustomKeys',
      target: 'some_string',
      expiryTime: '2020-01-01T00:00:00Z',
      credentials: { accessKeyId: 'some_string', secretAccessKey: 'some_string' },
    });
    const res = await replayed('listSecrets.json', 'POST', `${wsPath('ws-claims')}/connections/keys-1/listsecrets`);
    assert.deepEqual(res.body?.properties?.credentials, { accessKeyId: 'some_string', secretAccessKey: 'some_string' });
  });
});

describe('workspace connections: validation and RBAC', () => {
  const refused = async (res: Awaited<ReturnType<typeof arm>>, status: number, code: string, message?: RegExp) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body?.error?.code, code);
    if (message) assert.match(res.body?.error?.message ?? '', message);
  };

  test('an ApiKey connection needs its key; AAD and None take no credentials', async () => {
    await refused(
      await put('ws-claims', 'bad-key', { authType: 'ApiKey', category: 'AzureOpenAI', target: 'https://x' }),
      400,
      'UserError',
      /credentials\.key/,
    );
    await refused(
      await put('ws-claims', 'bad-aad', {
        authType: 'AAD',
        category: 'AzureOpenAI',
        target: 'https://x',
        credentials: { key: 'k' },
      }),
      400,
      'UserError',
      /takes no credentials/,
    );
    await refused(
      await put('ws-claims', 'bad-type', { authType: 'Magic', category: 'AzureOpenAI', target: 'https://x' }),
      400,
      'UserError',
      /authType 'Magic'/,
    );
    await refused(
      await put('ws-claims', 'no-target', { authType: 'None', category: 'AzureOpenAI' }),
      400,
      'UserError',
      /target/,
    );
    await refused(
      await put('ws-claims', 'x', { authType: 'None', category: 'AzureOpenAI', target: 'https://x' }),
      400,
      'UserError',
      /name 'x' is invalid/,
    );
  });

  test('ApiKey and AAD connections need api-version 2023-08-01-preview or later', async () => {
    await refused(
      await put(
        'ws-claims',
        'old-api',
        { authType: 'AAD', category: 'AzureOpenAI', target: 'https://x' },
        '2022-10-01',
      ),
      400,
      'UserError',
      /not supported in api-version 2022-10-01/,
    );
    const ok = await put(
      'ws-claims',
      'new-api',
      { authType: 'AAD', category: 'AzureOpenAI', target: 'https://x' },
      '2024-10-01',
    );
    assert.equal(ok.status, 200);
    await refused(
      await arm('GET', `${wsPath('ws-claims')}/connections`, '2021-01-01'),
      400,
      'NoRegisteredProviderFound',
    );
  });

  test('GET never answers the key; listsecrets needs its action (a Reader gets 403)', async () => {
    const get = await arm('GET', `${wsPath('ws-claims')}/connections/aoai`, '2024-10-01');
    assert.equal(get.body?.properties?.authType, 'ApiKey');
    assert.equal(get.body?.properties?.credentials, undefined);
    const secrets = await arm('POST', `${wsPath('ws-claims')}/connections/aoai/listsecrets`, '2024-10-01');
    const keys = await t.clientsAs('owner').cognitive.accounts.listKeys(RG, 'ml-openai');
    assert.equal(secrets.body?.properties?.credentials?.key, keys.key1);
    await refused(
      await arm('POST', `${wsPath('ws-claims')}/connections/aoai/listsecrets`, '2024-10-01', undefined, 'auditor'),
      403,
      'AuthorizationFailed',
    );
    await refused(await arm('GET', `${wsPath('ws-claims')}/connections/nope`, '2024-10-01'), 404, 'UserError');
  });

  test('the SDK reads workspaces, connections and computes with their identities', async () => {
    const ml = t.clientsAs('cutover-worker').machineLearning;
    const brown = await ml.sdk.workspaces.get(RG, 'ws-brown');
    assert.equal(brown.identity?.type, 'UserAssigned');
    assert.match(brown.primaryUserAssignedIdentity ?? '', /id-ml-brown$/);
    const compute = await ml.sdk.computeOperations.get(RG, 'ws-brown', 'cpu-brown');
    assert.deepEqual(
      Object.keys(compute.identity?.userAssignedIdentities ?? {}).map((k) => k.split('/').pop()),
      ['id-ml-brown'],
    );
    const names: string[] = [];
    for await (const c of ml.listConnections(RG, 'ws-brown')) names.push(`${c.name}:${c.properties.authType}`);
    assert.deepEqual(names.sort(), ['aoai:ApiKey', 'search:ApiKey']);
    const c = await ml.getConnection(RG, 'ws-brown', 'aoai');
    assert.equal(c.properties.metadata?.ApiType, 'Azure');
  });

  test('a workspace PATCH enables its system identity; a primary identity must be one it has', async () => {
    const patch = (body: Parameters<MlWorkspaces['beginUpdateAndWait']>[2]) =>
      t.clientsAs('cutover-worker').machineLearning.sdk.workspaces.beginUpdateAndWait(RG, 'ws-rollback', body, {
        updateIntervalInMs: 50,
      });
    const principals = () => Object.keys(t.sim.control.state().principals).length;
    await assert.rejects(
      patch({ primaryUserAssignedIdentity: `${wsPath('x')}/nope` }),
      (e: { statusCode?: number }) => e.statusCode === 400,
    );
    const before = principals();
    const ws = await patch({ identity: { type: 'SystemAssigned' } });
    assert.equal(ws.identity?.type, 'SystemAssigned');
    assert.ok(ws.identity?.principalId);
    assert.equal(principals(), before + 1);
    const off = await patch({ identity: { type: 'None' } });
    assert.equal(off.identity?.type, 'None');
    assert.equal(principals(), before);
  });
});

describe('code calling Azure OpenAI through a connection', () => {
  const health = (ws: string, connection: string, rest = '/health', compute?: string) =>
    httpsJson(
      `${t.sim.info.armEndpoint}/mlworkspaces/${ws}${compute ? `/computes/${compute}` : ''}/connections/${connection}/deployments/gpt-4o-mini${rest}`,
      t.sim.info.caCert,
    );

  test('an ApiKey connection calls with its key', async () => {
    const res = await health('ws-claims', 'aoai');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { status: 'ok', authMode: 'key', connection: 'aoai', deployment: 'gpt-4o-mini' });
  });

  test("an AAD connection calls with the identity's token: refused without the role, and without an identity", async () => {
    const noIdentity = await health('ws-holder', 'aoai-entra');
    assert.equal(noIdentity.status, 502);
    assert.match(JSON.stringify(noIdentity.body), /no managed identity/);
    const brown = await health('ws-brown', 'aoai', '/health/identity', 'cpu-brown');
    // The compute's identity holds the role on brown-ml-openai.
    assert.equal(brown.status, 200, JSON.stringify(brown.body));
    assert.equal((brown.body as { authMode: string }).authMode, 'identity');
    const wrongAccount = await health('ws-holder', 'aoai-holder', '/health/identity');
    assert.equal(wrongAccount.status, 502);
    const missing = await health('ws-claims', 'nope');
    assert.equal(missing.status, 404);
  });
});
