/**
 * Code running in an Azure Machine Learning workspace, simulated: a notebook or scoring script that calls Azure OpenAI
 * through one of the workspace's connections, as the Azure ML SDK does — with the connection's key (`ApiKey`), or
 * (`AAD`) with an Entra token that `DefaultAzureCredential` gets for the identity of the workspace, or of the compute
 * it runs on: the user-assigned identity whose client id the connection's metadata `AZURE_CLIENT_ID` names (the
 * environment variable DefaultAzureCredential reads), else the system-assigned identity, else the workspace's primary
 * user-assigned identity (or the only one there is).
 *
 *   GET /mlworkspaces/{ws}[/computes/{compute}]/connections/{conn}/deployments/{deployment}/health
 *       a chat completion through the connection as configured: 200 `{status: ok, authMode}` or 502 with the error
 *   GET …/health/identity[?clientId=…]
 *       the same call with the identity's token whatever the connection's auth (the role-propagation probe)
 *
 * The call goes to the connection's `target` over HTTPS, so the account's data plane judges it like any other.
 */
import { readFileSync } from 'node:fs';
import { type SimCore } from './core';
import { issueAccessToken } from './entra';
import { type SimRequest, type SimResponse } from './http';
import { fetchWithCa } from './https-fetch';
import { type Principal, key } from './model';
import type { MlCompute, MlConnection, MlWorkspace } from './ml-model';

export const ML_WORKSPACES_PATH = '/mlworkspaces';

const ROUTE = new RegExp(
  `^${ML_WORKSPACES_PATH}/([^/]+)(?:/computes/([^/]+))?/connections/([^/]+)/deployments/([^/]+)/health(/identity)?/?$`,
  'i',
);
const COGNITIVE = 'https://cognitiveservices.azure.com';
const CHAT_API_VERSION = '2024-10-21';

const answer = (status: number, body: Record<string, unknown>): SimResponse => ({ status, body });

/** The principal DefaultAzureCredential gets a token for on this holder, or why there is none. */
function identityOf(
  core: SimCore,
  ws: MlWorkspace,
  holder: MlWorkspace | MlCompute,
  clientId: string | undefined,
): Principal | string {
  if (clientId) {
    const uami = holder.userAssigned
      .map((id) => core.state.identities[key(id)])
      .find((u) => u && key(u.clientId) === key(clientId));
    return (
      (uami && core.principal(uami.principalId)) ??
      `ManagedIdentityCredential: no user-assigned identity with client id ${clientId} on ${'computeType' in holder ? `compute ${holder.name}` : `workspace ${ws.name}`}`
    );
  }
  if (holder.systemPrincipalId) return core.principal(holder.systemPrincipalId) ?? 'the system identity is gone';
  // Without a client id, the instance metadata endpoint answers for the one user-assigned identity there is.
  const only = holder.userAssigned.length === 1 ? holder.userAssigned[0] : undefined;
  const primary = 'computeType' in holder ? only : (ws.primaryUserAssignedIdentity ?? only);
  const uami = primary ? core.state.identities[key(primary)] : undefined;
  return (uami && core.principal(uami.principalId)) ?? 'DefaultAzureCredential: no managed identity is available';
}

export async function handleMlRequest(core: SimCore, req: SimRequest): Promise<SimResponse | undefined> {
  const m = ROUTE.exec(req.path);
  if (!m) return undefined;
  if (req.method !== 'GET') return answer(405, { error: 'Only GET is supported.' });
  const [, wsName, computeName, connName, deployment, identityProbe] = m.map((s) => s && decodeURIComponent(s));
  const ws = Object.values(core.state.mlWorkspaces ?? {}).find((w) => key(w.name) === key(wsName));
  if (!ws) return answer(404, { error: `workspace ${wsName} not found` });
  const compute = computeName ? ws.computes[key(computeName)] : undefined;
  if (computeName && !compute) return answer(404, { error: `compute ${computeName} not found in ${ws.name}` });
  const connection: MlConnection | undefined = ws.connections[key(connName)];
  if (!connection) return answer(404, { error: `connection ${connName} not found in ${ws.name}` });

  const byIdentity = Boolean(identityProbe) || connection.authType === 'AAD';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const authMode = byIdentity ? 'identity' : 'key';
  if (byIdentity) {
    const clientId = identityProbe
      ? (req.url.searchParams.get('clientId') ?? undefined)
      : connection.metadata.AZURE_CLIENT_ID;
    const principal = identityOf(core, ws, compute ?? ws, clientId);
    if (typeof principal === 'string') return answer(502, { status: 'error', authMode, error: principal });
    headers.authorization = `Bearer ${issueAccessToken(core, principal, COGNITIVE, 3600).token}`;
  } else if (connection.authType === 'ApiKey' && connection.credentials?.key) {
    headers['api-key'] = connection.credentials.key;
  } else {
    return answer(502, {
      status: 'error',
      authMode,
      error: `connection auth ${connection.authType} cannot call Azure OpenAI`,
    });
  }
  const url = `${connection.target.replace(/\/+$/, '')}/openai/deployments/${encodeURIComponent(deployment)}/chat/completions?api-version=${CHAT_API_VERSION}`;
  try {
    const res = await fetchWithCa(readFileSync(core.opts.caCertPath, 'utf8'))(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'health check' }], max_tokens: 5 }),
    });
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (res.ok) return answer(200, { status: 'ok', authMode, connection: connection.name, deployment });
    return answer(502, {
      status: 'error',
      authMode,
      error: `${res.status} ${body.error?.code ?? ''}: ${body.error?.message ?? ''}`.trim(),
    });
  } catch (err) {
    return answer(502, { status: 'error', authMode, error: `cannot reach ${connection.target}: ${String(err)}` });
  }
}
