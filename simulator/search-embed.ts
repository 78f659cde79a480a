/**
 * How an AI Search service calls Azure OpenAI for embeddings, as a skill in an indexer run or a vectorizer in a
 * vector query does: a real HTTPS request to the simulated account's embeddings endpoint, authenticated as the
 * skill or vectorizer says. An `apiKey` wins over `authIdentity` (Azure sends the key when both are set); without a
 * key, a user-assigned `authIdentity` or else the service's system-assigned identity gets a token for Cognitive
 * Services from Entra, as the search service's own managed-identity endpoint would issue it. Only the simulator's
 * own host is called: a `resourceUri` elsewhere cannot be reached.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { SimCore } from './core';
import { issueAccessToken } from './entra';
import { isRecord } from './http';
import { key } from './model';
import { text } from './search-definitions';
import type { SearchJson, SearchService } from './search-model';

const COGNITIVE_AUDIENCE = 'https://cognitiveservices.azure.com';
const EMBEDDINGS_API_VERSION = '2024-10-21';
const TOKEN_LIFETIME_SEC = 24 * 3600;

/** Why an embedding could not be made: Azure's words for what the endpoint answered. */
export class VectorizationError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const cas = new WeakMap<SimCore, string>();
function caOf(core: SimCore): string {
  let ca = cas.get(core);
  if (!ca) cas.set(core, (ca = readFileSync(core.opts.caCertPath, 'utf8')));
  return ca;
}

/** The headers that authenticate the call: the key, or a token for the identity the parameters name. */
function authHeaders(core: SimCore, service: SearchService, p: SearchJson): Record<string, string> {
  if (typeof p.apiKey === 'string' && p.apiKey) return { 'api-key': p.apiKey };
  const identity = isRecord(p.authIdentity) ? p.authIdentity : undefined;
  let objectId: string | undefined;
  if (identity?.['@odata.type'] === '#Microsoft.Azure.Search.DataUserAssignedIdentity') {
    const id = String(identity.userAssignedIdentity);
    if (!service.userAssigned.some((u) => key(u) === key(id)))
      throw new VectorizationError(`The identity '${id}' is not assigned to the search service.`, 400);
    objectId = core.state.identities[key(id)]?.principalId;
  } else objectId = service.systemPrincipalId;
  const principal = objectId ? core.principal(objectId) : undefined;
  if (!principal)
    throw new VectorizationError(
      'Could not obtain a token for the search service: it has no system-assigned managed identity.',
      400,
    );
  const issued = issueAccessToken(core, principal, COGNITIVE_AUDIENCE, TOKEN_LIFETIME_SEC);
  return { authorization: `Bearer ${issued.token}` };
}

/** Embeds `texts` with the skill's or vectorizer's parameters; `dimensions` as the target field has them. */
export async function embed(
  core: SimCore,
  service: SearchService,
  p: SearchJson,
  texts: readonly string[],
  dimensions: number | undefined,
): Promise<number[][]> {
  const base = text(p.resourceUri).replace(/\/+$/, '');
  const url = new URL(
    `${base}/openai/deployments/${encodeURIComponent(text(p.deploymentId))}/embeddings?api-version=${EMBEDDINGS_API_VERSION}`,
  );
  if (url.origin !== new URL(core.baseUrl).origin)
    throw new VectorizationError(`Could not connect to the vectorization endpoint '${base}'.`, 502);
  const headers = { 'content-type': 'application/json', ...authHeaders(core, service, p) };
  const body = JSON.stringify({ input: texts, ...(dimensions ? { dimensions } : {}) });
  const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, ca: caOf(core), agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('error', reject);
      r.on('end', () => resolve({ status: r.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
  if (res.status !== 200)
    throw new VectorizationError(
      `Could not complete vectorization action. The vectorization endpoint returned status code '${res.status}'.`,
      res.status,
    );
  const parsed = JSON.parse(res.text) as { data?: { index: number; embedding: number[] }[] };
  return [...(parsed.data ?? [])].sort((a, b) => a.index - b.index).map((d) => d.embedding);
}
