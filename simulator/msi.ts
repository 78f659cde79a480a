/**
 * App Service's (and Container Apps') managed-identity endpoint (`IDENTITY_ENDPOINT`, protocol api-version
 * 2019-08-01): a worker presents its `X-IDENTITY-HEADER` and gets a token for the identity of the slot it serves
 * *now* (of its container app, for a revision's worker) — the system-assigned one,
 * or a user-assigned one picked by `client_id` / `mi_res_id` / `object_id` (`principal_id`). Like Azure's, the
 * endpoint caches what it issued: an identity asking again for the same resource gets the same token until it
 * nears its expiry ("the tokens which your application receives are cached by the underlying infrastructure").
 */
import { type SimCore } from './core';
import { issueAccessToken, isKnownResource } from './entra';
import { type SimRequest, type SimResponse } from './http';
import { type Principal, PRODUCTION, key } from './model';

/** App Service managed-identity tokens live about 24 hours. */
const MI_TOKEN_LIFETIME_SEC = 24 * 3600;
/** A cached token is handed out while it has more than this left (the SDKs refresh five minutes before expiry). */
const REISSUE_BEFORE_EXPIRY_SEC = 3600;

type Issued = ReturnType<typeof issueAccessToken>;

/** Tokens the endpoint issued, per simulator, by principal and resource. */
const issuedByCore = new WeakMap<SimCore, Map<string, Issued>>();

function miToken(core: SimCore, principal: Principal, resource: string): Issued {
  let cache = issuedByCore.get(core);
  if (!cache) issuedByCore.set(core, (cache = new Map<string, Issued>()));
  const k = `${principal.objectId}|${resource.replace(/\/+$/, '').toLowerCase()}`;
  const cached = cache.get(k);
  if (cached && cached.claims.exp - REISSUE_BEFORE_EXPIRY_SEC > core.now() / 1000) return cached;
  const issued = issueAccessToken(core, principal, resource, MI_TOKEN_LIFETIME_SEC);
  cache.set(k, issued);
  return issued;
}

const fail = (status: number, message: string): SimResponse => ({ status, body: { statusCode: status, message } });

export function handleMsi(core: SimCore, req: SimRequest): { response: SimResponse; principal?: string } {
  if (req.method !== 'GET') return { response: fail(405, 'Only GET is supported.') };
  const q = req.url.searchParams;
  if (q.get('api-version') !== '2019-08-01') {
    return { response: fail(400, `The api-version '${q.get('api-version') ?? ''}' is not supported; use 2019-08-01.`) };
  }
  const header = req.headers['x-identity-header'];
  const worker = typeof header === 'string' ? core.apps.resolveIdentityHeader(header) : undefined;
  if (!worker) return { response: fail(401, 'The X-IDENTITY-HEADER header is missing or invalid.') };
  // A container app's revisions answer for the app's identities; a slot's worker for the slot's.
  const app = core.containerApps.appOfWorker(worker.siteKey);
  const site = app ? undefined : core.site(worker.siteKey);
  const slot = app ?? site?.slots[worker.slot];
  if (!slot) return { response: fail(500, 'The app of this worker no longer exists.') };
  const label = app
    ? `${app.name}/${worker.slot}`
    : `${site!.name}${worker.slot === PRODUCTION ? '' : `/${worker.slot}`}`;

  const resource = (q.get('resource') ?? '').replace(/\/\.default$/i, '');
  if (!resource) return { response: fail(400, "The 'resource' query parameter is required.") };
  if (!isKnownResource(resource)) {
    return {
      response: fail(400, `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`),
    };
  }

  const clientId = q.get('client_id');
  const resId = q.get('mi_res_id');
  const objectId = q.get('object_id') ?? q.get('principal_id');
  let principal: Principal | undefined;
  if (clientId || resId || objectId) {
    const uami = slot.userAssigned
      .map((id) => core.state.identities[key(id)])
      .find(
        (u) =>
          u &&
          ((clientId && u.clientId.toLowerCase() === clientId.toLowerCase()) ||
            (resId && key(u.id) === key(resId)) ||
            (objectId && u.principalId.toLowerCase() === objectId.toLowerCase())),
      );
    principal = uami ? core.principal(uami.principalId) : undefined;
    if (!principal) {
      return {
        response: fail(
          400,
          'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.',
        ),
      };
    }
  } else {
    principal = slot.systemPrincipalId ? core.principal(slot.systemPrincipalId) : undefined;
    if (!principal) return { response: fail(400, 'Unable to load the proper Managed Identity.') };
  }

  const issued = miToken(core, principal, resource);
  core.log(`MSI token for ${label} as ${principal.name} (${principal.objectId})`);
  return {
    principal: principal.objectId,
    response: {
      status: 200,
      body: {
        access_token: issued.token,
        expires_on: String(issued.claims.exp),
        resource,
        token_type: 'Bearer',
        client_id: principal.clientId,
      },
    },
  };
}
