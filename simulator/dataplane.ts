/**
 * The Azure OpenAI data plane: `POST /aoai/{subdomain}/openai/deployments/{deployment}/chat/completions` (custom
 * subdomain endpoints) and `/aoai-regional/{region}/…` (regional endpoints, keys only). Keys stop working
 * `localAuthSwitchMs` after local auth is disabled (then, for `localAuthConsistencyWindowMs`, either answer); Entra
 * tokens need a role with the chat-completions data action on the account or above, assigned at least `propagationMs`
 * ago. AIServices accounts also answer on their Cognitive Services endpoint (`/cog/{subdomain}/openai/…`);
 * CognitiveServices (multi-service) accounts serve no Azure OpenAI. Answers are small deterministic chat completions;
 * `…/embeddings` (the embeddings data action) answers deterministic unit vectors of the text (embeddings.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { localAuthDisabledNow } from './arm/cognitive';
import { type SimCore } from './core';
import { type SimRequest, type SimResponse, SimError, isRecord, jsonBody } from './http';
import { type Account, type RoleAssignment, key } from './model';
import { effectivePrincipalIds } from './groups';
import { findRole, roleGrants, scopeCovers } from './rbac';
import { sameAudience } from './tokens';
import { EMBEDDINGS_ACTION, embeddings } from './embeddings';

const CHAT_ACTION = 'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action';
const COGNITIVE_AUDIENCE = 'https://cognitiveservices.azure.com';

/** Key requests seen per account inside a consistency window, per simulator: they pick the answer. */
const windowRequests = new WeakMap<SimCore, Map<string, number>>();

/**
 * Whether keys are refused right now. Inside the consistency window after a switch, front ends disagree: each
 * request gets the old or the new answer, pseudo-randomly but reproducibly (a hash of account, change and request
 * number), so runs of either answer occur as they do in Azure.
 */
export function keysRefusedNow(core: SimCore, account: Account, now = core.now()): boolean {
  const switched = localAuthDisabledNow(account, core.delays.localAuthSwitchMs, now);
  const change = account.localAuthChange;
  const windowMs = core.delays.localAuthConsistencyWindowMs;
  if (!change || windowMs <= 0) return switched;
  const since = now - change.at - core.delays.localAuthSwitchMs;
  if (since < 0 || since >= windowMs) return switched;
  const counters = windowRequests.get(core) ?? new Map<string, number>();
  windowRequests.set(core, counters);
  const k = `${account.id}|${change.at}`;
  const n = counters.get(k) ?? 0;
  counters.set(k, n + 1);
  const newAnswer = createHash('sha256').update(`${k}|${n}`).digest()[0] % 2 === 1;
  return newAnswer ? account.disableLocalAuth : change.previous;
}

/**
 * Data-plane RBAC: assignments that have propagated in, and deleted ones that have not yet propagated out — to the
 * principal itself or to a group it is a member of (transitively) at the time of the request.
 */
export function principalHasDataAction(
  core: SimCore,
  principalId: string,
  action: string,
  scope: string,
  now = core.now(),
): boolean {
  const prop = core.delays.propagationMs;
  const effective = (ra: RoleAssignment) =>
    now - ra.createdOn >= prop && (ra.deletedOn === undefined || now - ra.deletedOn < prop);
  const ids = effectivePrincipalIds(core.state, principalId);
  const grants = (ra: RoleAssignment) => {
    if (!ids.has(ra.principalId.toLowerCase()) || !scopeCovers(ra.scope, scope) || !effective(ra)) return false;
    const def = findRole(ra.roleDefinitionId);
    return def !== undefined && roleGrants(def, action, true);
  };
  for (const id of ids) if (core.assignmentsOf(id).some(grants)) return true;
  return core.state.revokedAssignments.some(grants);
}

function authenticate(
  core: SimCore,
  req: SimRequest,
  account: Account | undefined,
  regional: Account[],
  seen: { account?: Account; objectId?: string },
  action = CHAT_ACTION,
): { account: Account; principal?: string } {
  const apiKey = req.headers['api-key'];
  const now = core.now();
  if (typeof apiKey === 'string' && apiKey) {
    const owner = account
      ? apiKey === account.key1 || apiKey === account.key2
        ? account
        : undefined
      : regional.find((a) => apiKey === a.key1 || apiKey === a.key2);
    // A resource with key auth off refuses the auth *type*, before any key is looked at.
    const target = owner ?? account;
    if (target) seen.account = target;
    if (target && keysRefusedNow(core, target, now)) {
      throw new SimError(403, 'AuthenticationTypeDisabled', 'Key based authentication is disabled for this resource.');
    }
    if (!owner) {
      throw new SimError(
        401,
        '401',
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      );
    }
    return { account: owner };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  if (!bearer) {
    throw new SimError(
      401,
      '401',
      'Access denied due to missing subscription key or Entra ID token. Make sure to include a valid key or token when making requests to an API.',
    );
  }
  if (!account) {
    throw new SimError(
      401,
      '401',
      'Please provide a custom subdomain for token authentication, otherwise API key is required.',
    );
  }
  const check = core.tokens.verify(bearer, now);
  const tenantId = core.state.subscriptions[key(account.subscriptionId)]?.tenantId;
  if (!check.ok || !sameAudience(check.claims.aud, COGNITIVE_AUDIENCE) || check.claims.tid !== tenantId) {
    throw new SimError(
      401,
      '401',
      `Access token is missing, invalid, audience is incorrect (${COGNITIVE_AUDIENCE}), or have expired.`,
    );
  }
  // A token valid for this resource names its caller in the row even when refused for lack of a role.
  seen.objectId = check.claims.oid;
  if (!principalHasDataAction(core, check.claims.oid, action, account.id, now)) {
    throw new SimError(401, 'PermissionDenied', 'Principal does not have access to API/Operation.');
  }
  return { account, principal: check.claims.oid };
}

function completion(deployment: Account['deployments'][string], messages: unknown[]) {
  const last = [...messages].reverse().find((m) => isRecord(m) && m.role === 'user') as
    { content?: unknown } | undefined;
  const prompt = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
  const digest = createHash('sha256').update(prompt).digest('hex');
  const content = `Claims assistant (${deployment.model}): I have noted your message "${prompt.slice(0, 80)}". Reference ${digest.slice(0, 8)}.`;
  const promptTokens = Math.max(1, Math.ceil(prompt.length / 4)) + 7 * messages.length;
  const completionTokens = Math.ceil(content.length / 4);
  return {
    id: `chatcmpl-${digest.slice(0, 29)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: `${deployment.model}-${deployment.version}`,
    choices: [
      {
        index: 0,
        finish_reason: 'stop',
        logprobs: null,
        message: { role: 'assistant', content, refusal: null },
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
    system_fingerprint: `fp_${digest.slice(8, 18)}`,
  };
}

function messagesOf(body: unknown): unknown[] {
  const messages = isRecord(body) ? body.messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new SimError(400, 'BadRequest', "'messages' is a required property and must be a non-empty array.");
  }
  return messages;
}

/** Which accounts an endpoint prefix serves Azure OpenAI for: `/cog/` is an AIServices account's own endpoint. */
function servesOpenAI(a: Account, prefix: string): boolean {
  const kind = a.kind ?? 'OpenAI';
  return prefix === 'cog' ? kind === 'AIServices' : kind !== 'CognitiveServices';
}

/** Handles `/aoai/…`, `/aoai-regional/…` and `/cog/…`; undefined when the path is not the data plane's. */
export interface DataPlaneResult {
  response: SimResponse;
  principal?: string;
  subscription?: string;
  /** What the diagnostic row and the metrics need: the account (when known), deployment, caller's oid. */
  call: { account?: Account; deployment?: string; objectId: string; operationName: string };
}

/** The account a data-plane path names by its custom subdomain (for requests refused before authentication). */
export function accountOfPath(core: SimCore, path: string): Account | undefined {
  const m = /^\/(aoai|cog)\/([^/]+)/i.exec(path);
  if (!m) return undefined;
  return Object.values(core.state.accounts).find(
    (a) => servesOpenAI(a, m[1].toLowerCase()) && a.customSubDomainName?.toLowerCase() === m[2].toLowerCase(),
  );
}

export function handleDataPlane(core: SimCore, req: SimRequest): DataPlaneResult | undefined {
  const m = /^\/(aoai|aoai-regional|cog)\/([^/]+)(\/.*)?$/i.exec(req.path);
  if (!m) return undefined;
  const prefix = m[1].toLowerCase();
  const requestId = randomUUID();
  const headers = { 'apim-request-id': requestId, 'x-request-id': requestId, 'x-ms-region': 'West Europe' };
  const regional = m[1].toLowerCase() === 'aoai-regional';
  const rest = m[3] ?? '/';
  const accounts = Object.values(core.state.accounts).filter((a) => servesOpenAI(a, prefix));
  const account = regional
    ? undefined
    : accounts.find((a) => a.customSubDomainName?.toLowerCase() === m[2].toLowerCase());
  const regionalAccounts = regional
    ? accounts.filter(
        (a) => !a.customSubDomainName && a.location.replace(/\s+/g, '').toLowerCase() === m[2].toLowerCase(),
      )
    : [];
  let principal: string | undefined;
  let subscription: string | undefined;
  const seen: { account?: Account; objectId?: string } = account ? { account } : {};
  const route = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)\/?$/i.exec(rest);
  const embedding = route?.[2].toLowerCase() === 'embeddings';
  const call = (): DataPlaneResult['call'] => ({
    ...(seen.account ? { account: seen.account } : {}),
    ...(route ? { deployment: decodeURIComponent(route[1]) } : {}),
    objectId: seen.objectId ?? '',
    operationName: route ? (embedding ? 'Embeddings_Create' : 'ChatCompletions_Create') : 'Unknown',
  });
  try {
    if ((!regional && !account) || !route || req.method !== 'POST' || !req.url.searchParams.get('api-version')) {
      throw new SimError(404, '404', 'Resource not found');
    }
    const auth = authenticate(core, req, account, regionalAccounts, seen, embedding ? EMBEDDINGS_ACTION : CHAT_ACTION);
    seen.account = auth.account;
    principal = auth.principal;
    subscription = auth.account.subscriptionId;
    const deployment = auth.account.deployments[key(decodeURIComponent(route[1]))];
    if (!deployment) {
      throw new SimError(
        404,
        'DeploymentNotFound',
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      );
    }
    const body = jsonBody(req);
    return {
      principal,
      subscription,
      call: call(),
      response: {
        status: 200,
        headers: { ...headers, 'x-ms-deployment-name': deployment.name },
        body: embedding ? embeddings(deployment, body) : completion(deployment, messagesOf(body)),
      },
    };
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    return {
      ...(principal ? { principal } : {}),
      ...(subscription ? { subscription } : {}),
      call: call(),
      response: { status: err.status, headers, body: { error: { code: err.code, message: err.message } } },
    };
  }
}
