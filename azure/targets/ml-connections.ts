/**
 * Azure Machine Learning workspace connections (Microsoft.MachineLearningServices/workspaces/connections,
 * @azure/arm-machinelearning through ml-client.ts) as a cutover target, named `workspace/connection`.
 *
 * - **Identity** is the workspace's: the role on the account is assigned to its system-assigned identity, or to the
 *   user-assigned identity the plan names (attached to the workspace). Code using the connection with Entra ID
 *   authenticates as that identity (or as its compute's, which the plan's role then has to cover by hand).
 * - **Settings** are the connection's fields: `authType`, `category`, `target`, each credential as
 *   `credentials.<field>` (an `ApiKey` connection's key is `credentials.key`, read with `listsecrets`), and every
 *   metadata entry under its own name (`ApiType`, `ResourceId`, … and `AZURE_CLIENT_ID`, which a user-assigned plan
 *   sets: the client id DefaultAzureCredential is given). So a plan removes `credentials.key` and sets `authType: AAD`,
 *   and a snapshot records the key as *which* account key it is; a rollback reads it from the account again.
 * - **Writing** them replaces the connection (PUT) with the other properties it had kept as they were. There is no
 *   restart: code opening the connection afterwards gets the new auth.
 */
import { targetResourceId } from '../../plan/targets';
import type { SiteRef } from '../../contracts/model';
import type { AzureContext } from '../context';
import type { MlClient, MlConnectionResource } from '../ml-client';
import type { HostingFinding, TargetAdapter, TargetView } from './adapter';
import { type ArmIdentity, identityViewOf } from './identity-view';

const CORE_FIELDS = ['authType', 'category', 'target'] as const;
const CREDENTIAL = 'credentials.';

/** `workspace/connection` → its parts. */
export function connectionRef(ref: Pick<SiteRef, 'name'>): { workspace: string; connection: string } {
  const [workspace, connection] = ref.name.split('/');
  if (!workspace || !connection) throw new Error(`${ref.name} is not 'workspace/connection'`);
  return { workspace, connection };
}

/** A connection (with its secrets) as settings: see the module comment. The key-holder check reads them too. */
export function connectionSettings(c: MlConnectionResource): Record<string, string> {
  const p = c.properties;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) out[k] = v;
  for (const f of CORE_FIELDS) if (typeof p[f] === 'string') out[f] = p[f];
  for (const [k, v] of Object.entries(p.credentials ?? {})) out[`${CREDENTIAL}${k}`] = v;
  return out;
}

/** The properties to PUT for `settings`, keeping the connection's other properties (`extra`) as they were. */
function propertiesOf(
  settings: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, unknown>>,
): MlConnectionResource['properties'] {
  const credentials: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) {
    if ((CORE_FIELDS as readonly string[]).includes(k)) continue;
    if (k.startsWith(CREDENTIAL)) credentials[k.slice(CREDENTIAL.length)] = v;
    else metadata[k] = v;
  }
  return {
    ...extra,
    authType: settings.authType ?? 'None',
    ...(settings.category !== undefined ? { category: settings.category } : {}),
    ...(settings.target !== undefined ? { target: settings.target } : {}),
    ...(Object.keys(credentials).length ? { credentials } : {}),
    metadata,
  };
}

/** A connection's properties other than those its settings carry. */
function extraOf(c: MlConnectionResource): Record<string, unknown> {
  const { authType: _a, category: _c, target: _t, credentials: _cr, metadata: _m, ...rest } = c.properties;
  // Read-only properties ARM computes (and refuses or ignores on a PUT).
  const { createdByWorkspaceArmId: _w, group: _g, ...writable } = rest;
  return writable;
}

function view(identity: ArmIdentity | undefined, ref: SiteRef): TargetView {
  // A connection answers no requests of its own: the smoke test needs smokeTest.baseUrl (checkHosting).
  return {
    id: targetResourceId(ref.subscriptionId, { ...ref, kind: 'ml-connection' }),
    identity: identityViewOf(identity),
    defaultUrl: '',
  };
}

const ml = (ctx: AzureContext, ref: SiteRef): MlClient => ctx.clients(ref.subscriptionId).machineLearning;

async function checkHosting(
  ctx: AzureContext,
  _view: TargetView,
  plan: Parameters<NonNullable<TargetAdapter['checkHosting']>>[2],
) {
  const ref = { subscriptionId: plan.subscriptionId, ...plan.target };
  const { workspace, connection } = connectionRef(ref);
  const c = await ml(ctx, ref).getConnection(ref.resourceGroup, workspace, connection);
  const findings: HostingFinding[] = [];
  if (!plan.smokeTest.baseUrl)
    findings.push({
      problem: `connection ${ref.name} answers no requests of its own: the smoke test needs an endpoint that calls through it`,
      hint: 'set smokeTest.baseUrl to code that uses the connection (a scoring endpoint, a job’s health URL)',
    });
  if (c.properties.authType !== 'ApiKey')
    findings.push({
      problem: `connection ${ref.name} authenticates with ${c.properties.authType}, not an API key: there is nothing to migrate`,
    });
  if (c.properties.category && c.properties.category !== 'AzureOpenAI')
    findings.push({ warning: `connection ${ref.name} is of category ${c.properties.category}, not AzureOpenAI` });
  return findings;
}

export const mlConnection: TargetAdapter = {
  kind: 'ml-connection',

  // Connections carry no Azure `kind`: nothing else is one.
  isKind: (resourceKind) => resourceKind.toLowerCase() === 'mlconnection',

  describe: (ref) => ref.name,

  resourceId: (ref) => targetResourceId(ref.subscriptionId, { ...ref, kind: 'ml-connection' }),

  async read(ctx, ref) {
    const { workspace } = connectionRef(ref);
    const client = ml(ctx, ref);
    const { connection } = connectionRef(ref);
    const [ws] = await Promise.all([
      client.sdk.workspaces.get(ref.resourceGroup, workspace),
      // The connection must exist too: reading the target means reading both.
      client.getConnection(ref.resourceGroup, workspace, connection),
    ]);
    return view(ws.identity, ref);
  },

  async patchIdentity(ctx, ref, identity) {
    const { workspace } = connectionRef(ref);
    // null detaches a user-assigned identity in an ARM PATCH; the SDK's types do not say so.
    const body = { identity: { ...identity, type: identity.type.replace(/,\s*/g, ',') } } as never;
    const ws = await ml(ctx, ref).sdk.workspaces.beginUpdateAndWait(ref.resourceGroup, workspace, body, {
      updateIntervalInMs: ctx.lroIntervalMs,
      abortSignal: ctx.signal(),
    });
    return view(ws.identity, ref);
  },

  async readSettings(ctx, ref) {
    const { workspace, connection } = connectionRef(ref);
    return connectionSettings(await ml(ctx, ref).listSecrets(ref.resourceGroup, workspace, connection));
  },

  async writeSettings(ctx, ref, settings) {
    const { workspace, connection } = connectionRef(ref);
    const client = ml(ctx, ref);
    const current = await client.getConnection(ref.resourceGroup, workspace, connection);
    await client.createConnection(ref.resourceGroup, workspace, connection, propertiesOf(settings, extraOf(current)));
  },

  checkHosting,

  stickySettingNames: () => Promise.resolve([]),

  swap() {
    return Promise.reject(new Error('workspace connections have no deployment slots to swap'));
  },

  requiredActions: () => [
    'Microsoft.MachineLearningServices/workspaces/read',
    'Microsoft.MachineLearningServices/workspaces/write',
    'Microsoft.MachineLearningServices/workspaces/connections/read',
    'Microsoft.MachineLearningServices/workspaces/connections/write',
    'Microsoft.MachineLearningServices/workspaces/connections/listsecrets/action',
  ],
};
