/**
 * Azure AI Search's data plane, simulated: `/search/{service}/…` on the simulator's listener is
 * `https://{service}.search.windows.net/…`. Entra tokens only (audience `https://search.azure.com`, the service's
 * tenant), then Azure RBAC as a service with role-based access answers it: managing skillsets, indexes, indexers
 * and data sources needs the `Microsoft.Search/searchServices/{type}/{read|write|delete}` action (Search Service
 * Contributor), querying documents the `…/indexes/documents/read` data action (Search Index Data Reader), which
 * propagates like any data-plane role. Routes (OData keys): `skillsets`, `indexes`, `indexers`, `datasources` —
 * list, GET, PUT (201 created, 200 updated, the definition echoed), DELETE (204); `indexers('x')/search.run`
 * (202, the run goes on in the background), `search.reset` (204), `search.status`;
 * `indexes('x')/docs/search.post.search`. api-version 2024-07-01 or later.
 */
import type { SimCore } from './core';
import { type SimRequest, type SimResponse, SimError, errorResponse, isRecord, jsonBody } from './http';
import { key } from './model';
import { callerCan } from './arm/router';
import { principalHasDataAction } from './dataplane';
import { sameAudience } from './tokens';
import {
  etagOf,
  keepRedactedKeys,
  normalized,
  redacted,
  validateDataSource,
  validateIndex,
  validateIndexer,
  validateSkillset,
} from './search-definitions';
import type { SearchJson, SearchService } from './search-model';
import { SEARCH_PATH } from './search-model';
import { runIndexer, searchDocuments } from './search-run';

export const SEARCH_AUDIENCE = 'https://search.azure.com';
const API_VERSIONS = ['2024-07-01', '2025-05-01-preview', '2025-08-01-preview', '2025-09-01', '2026-04-01'];
const DOCS_READ = 'Microsoft.Search/searchServices/indexes/documents/read';

type Collection = 'skillsets' | 'indexes' | 'indexers' | 'datasources';
const RBAC_TYPE: Record<Collection, string> = {
  skillsets: 'skillsets',
  indexes: 'indexes',
  indexers: 'indexers',
  datasources: 'dataSources',
};

function serviceOf(core: SimCore, name: string): SearchService {
  const s = Object.values(core.state.searchServices ?? {}).find((x) => key(x.name) === key(name));
  if (!s) throw new SimError(404, 'ServiceNotFound', `The search service '${name}' does not exist.`);
  return s;
}

function authenticate(core: SimCore, req: SimRequest, service: SearchService): string {
  if (typeof req.headers['api-key'] === 'string')
    throw new SimError(403, 'Forbidden', 'Key-based authentication is not enabled on this search service.');
  const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  const check = bearer ? core.tokens.verify(bearer, core.now()) : undefined;
  const tenantId = core.state.subscriptions[key(service.subscriptionId)]?.tenantId;
  if (!check?.ok || !sameAudience(check.claims.aud, SEARCH_AUDIENCE) || check.claims.tid !== tenantId)
    throw new SimError(401, 'Unauthorized', 'Authorization failed: the access token is missing, expired or invalid.');
  return check.claims.oid;
}

function forbidden(action: string): SimError {
  return new SimError(403, 'Forbidden', `The caller is not authorized to perform '${action}' on this search service.`);
}

const stores = (s: SearchService) => ({
  skillsets: {
    get: (n: string) => s.skillsets[key(n)],
    set: (n: string, d: SearchJson) => (s.skillsets[key(n)] = d),
    all: () => Object.values(s.skillsets),
    remove: (n: string) => delete s.skillsets[key(n)],
  },
  indexes: {
    get: (n: string) => s.indexes[key(n)]?.definition,
    set: (n: string, d: SearchJson) =>
      (s.indexes[key(n)] = { definition: d, documents: s.indexes[key(n)]?.documents ?? {} }),
    all: () => Object.values(s.indexes).map((i) => i.definition),
    remove: (n: string) => delete s.indexes[key(n)],
  },
  indexers: {
    get: (n: string) => s.indexers[key(n)]?.definition,
    set: (n: string, d: SearchJson) =>
      (s.indexers[key(n)] = {
        definition: d,
        processed: s.indexers[key(n)]?.processed ?? 0,
        history: s.indexers[key(n)]?.history ?? [],
      }),
    all: () => Object.values(s.indexers).map((i) => i.definition),
    remove: (n: string) => delete s.indexers[key(n)],
  },
  datasources: {
    get: (n: string) => s.dataSources[key(n)]?.definition,
    set: (n: string, d: SearchJson) =>
      (s.dataSources[key(n)] = { definition: d, documents: s.dataSources[key(n)]?.documents ?? [] }),
    all: () => Object.values(s.dataSources).map((x) => x.definition),
    remove: (n: string) => delete s.dataSources[key(n)],
  },
});

const VALIDATE = {
  skillsets: validateSkillset,
  indexes: validateIndex,
  indexers: validateIndexer,
  datasources: validateDataSource,
};

const view = (c: Collection, d: SearchJson, etag: number) =>
  redacted(c === 'skillsets' ? 'skillset' : c === 'indexes' ? 'index' : 'other', d, etag);

function notFound(c: Collection, name: string): SimError {
  const noun = { skillsets: 'Skillset', indexes: 'Index', indexers: 'Indexer', datasources: 'Data source' }[c];
  return new SimError(
    404,
    'ResourceNameNotFound',
    `No ${noun.toLowerCase()} with the name '${name}' was found in the service.`,
  );
}

/** `/search/{service}/…`; undefined when the path is not the search data plane's. */
export async function handleSearch(core: SimCore, req: SimRequest): Promise<SimResponse | undefined> {
  const m = new RegExp(`^${SEARCH_PATH}/([^/]+)(/.*)?$`, 'i').exec(req.path);
  if (!m) return undefined;
  try {
    const service = serviceOf(core, decodeURIComponent(m[1]));
    const apiVersion = req.url.searchParams.get('api-version');
    if (!apiVersion || !API_VERSIONS.includes(apiVersion))
      throw new SimError(
        400,
        'InvalidApiVersionParameter',
        `Invalid or missing api-version query string parameter: '${apiVersion ?? ''}'.`,
      );
    const caller = authenticate(core, req, service);
    const rest = decodeURIComponent(m[2] ?? '/');
    const r = /^\/(skillsets|indexes|indexers|datasources)(?:\('([^']+)'\))?(\/.*)?$/i.exec(rest);
    if (!r) throw new SimError(404, 'NotFound', `The resource '${rest}' does not exist.`);
    const collection = r[1].toLowerCase() as Collection;
    const name = r[2];
    const sub = r[3];
    const can = (verb: string) => {
      const action = `Microsoft.Search/searchServices/${RBAC_TYPE[collection]}/${verb}`;
      if (!callerCan(core, caller, action, service.id)) throw forbidden(action);
    };
    const store = stores(service)[collection];
    if (sub) return await operation(core, service, caller, collection, name, sub.toLowerCase(), req, can);
    if (!name) {
      if (req.method !== 'GET')
        throw new SimError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed.`);
      can('read');
      return { status: 200, body: { value: store.all().map((d) => view(collection, d, service.etag)) } };
    }
    switch (req.method) {
      case 'GET': {
        can('read');
        const d = store.get(name);
        if (!d) throw notFound(collection, name);
        return { status: 200, body: view(collection, d, service.etag) };
      }
      case 'PUT': {
        can('write');
        const body = jsonBody(req);
        if (!isRecord(body))
          throw new SimError(400, 'InvalidRequestParameter', 'The request body must be a JSON object.');
        const before = store.get(name);
        const kind = collection === 'skillsets' ? 'skillset' : collection === 'indexes' ? 'index' : undefined;
        const def = kind ? keepRedactedKeys(kind, body, before) : structuredClone(body);
        delete def['@odata.etag'];
        delete def['@odata.context'];
        VALIDATE[collection](service, def, name);
        store.set(name, normalized(kind ?? 'other', def));
        service.etag++;
        core.persist();
        // What was sent, as stored (flags filled in): a `<redacted>` sent back stays `<redacted>` here.
        const echo = normalized(kind ?? 'other', body, false);
        delete echo['@odata.etag'];
        delete echo['@odata.context'];
        return { status: before ? 200 : 201, body: { '@odata.etag': etagOf(service.etag), ...echo } };
      }
      case 'DELETE': {
        can('delete');
        if (!store.get(name)) throw notFound(collection, name);
        store.remove(name);
        core.persist();
        return { status: 204 };
      }
      default:
        throw new SimError(405, 'MethodNotAllowed', `The method '${req.method}' is not allowed.`);
    }
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    return errorResponse(err);
  }
}

async function operation(
  core: SimCore,
  service: SearchService,
  caller: string,
  collection: Collection,
  name: string | undefined,
  sub: string,
  req: SimRequest,
  can: (verb: string) => void,
): Promise<SimResponse> {
  if (!name) throw new SimError(404, 'NotFound', `The resource '${sub}' does not exist.`);
  if (collection === 'indexes' && sub === '/docs/search.post.search' && req.method === 'POST') {
    const index = service.indexes[key(name)];
    if (!index) throw notFound(collection, name);
    if (!principalHasDataAction(core, caller, DOCS_READ, service.id)) throw forbidden(DOCS_READ);
    const body = jsonBody(req);
    return { status: 200, body: await searchDocuments(core, service, index, isRecord(body) ? body : {}) };
  }
  if (collection === 'indexers') {
    const indexer = service.indexers[key(name)];
    if (!indexer) throw notFound(collection, name);
    if (sub === '/search.run' && req.method === 'POST') {
      can('run/action');
      if (indexer.history[0]?.status === 'inProgress')
        throw new SimError(
          409,
          'Conflict',
          `Another indexer invocation is currently in progress; concurrent invocations are not allowed.`,
        );
      void runIndexer(core, service, indexer).catch((err: unknown) => core.log(`indexer ${name}: ${String(err)}`));
      return { status: 202 };
    }
    if (sub === '/search.reset' && req.method === 'POST') {
      can('reset/action');
      indexer.processed = 0;
      core.persist();
      return { status: 204 };
    }
    if (sub === '/search.status' && req.method === 'GET') {
      can('read');
      const history = indexer.history.slice(0, 50);
      return {
        status: 200,
        body: {
          name: indexer.definition.name,
          status: 'running',
          lastResult: history[0] ?? null,
          executionHistory: history,
          limits: {
            maxRunTime: 'PT2H',
            maxDocumentExtractionSize: 16777216,
            maxDocumentContentCharactersToExtract: 32768,
          },
        },
      };
    }
  }
  throw new SimError(404, 'NotFound', `The resource '${sub}' does not exist.`);
}
