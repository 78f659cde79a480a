/**
 * Builds a scenario's AI Search service: its identities, then its data sources, skillsets, indexes and indexers in
 * that order (each may name only what comes before it), each definition checked as a PUT of it would be.
 */
import { type ResourceBuild, buildIdentities } from './scenario-identities';
import { SimError, isRecord } from './http';
import { key } from './model';
import {
  normalized,
  text,
  validateDataSource,
  validateIndex,
  validateIndexer,
  validateSkillset,
} from './search-definitions';
import { type SearchJson, type SearchService, searchServiceId } from './search-model';
import type { SearchServiceSpec, SettingValueSpec } from './scenario-schema';

export type SearchServiceBuild = ResourceBuild;

/** Replaces `{ accountKey }`, `{ accountEndpoint }` and `{ identity }` objects by what they name. */
function resolve(v: unknown, where: string, b: SearchServiceBuild): unknown {
  if (Array.isArray(v)) return v.map((x, i) => resolve(x, `${where}.${i}`, b));
  if (!isRecord(v)) return v;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'identity' && typeof v.identity === 'string') return b.uami(v.identity, where);
  if (
    ('accountKey' in v && keys.every((k) => k === 'accountKey' || k === 'key')) ||
    (keys.length === 1 && keys[0] === 'accountEndpoint')
  )
    return b.resolveSetting(v as SettingValueSpec, where);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, `${where}.${k}`, b)]));
}

export function buildSearchService(
  p: { spec: SearchServiceSpec; subscriptionId: string; resourceGroup: string; location: string },
  b: SearchServiceBuild,
): SearchService {
  const { spec } = p;
  const id = searchServiceId(p.subscriptionId, p.resourceGroup, spec.name);
  const where = `search service ${spec.name}`;
  const s: SearchService = {
    id,
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    name: spec.name,
    location: spec.location ?? p.location,
    sku: spec.sku ?? 'standard',
    replicaCount: 1,
    partitionCount: 1,
    hostingMode: 'Default',
    tags: spec.tags ?? {},
    userAssigned: [],
    createdAt: b.now - 24 * 3600_000,
    skillsets: {},
    indexes: {},
    indexers: {},
    dataSources: {},
    etag: 1,
  };
  buildIdentities(s, spec.identity, { name: spec.name, id, where }, b);
  const check = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof SimError) b.fail(`${where}.${what}: ${err.message}`);
      throw err;
    }
  };
  for (const ds of spec.dataSources ?? []) {
    const definition: SearchJson = {
      name: ds.name,
      type: ds.type ?? 'azureblob',
      credentials: {
        connectionString: `ResourceId=${id.replace('Microsoft.Search/searchServices', 'Microsoft.Storage/storageAccounts')};`,
      },
      container: { name: ds.container ?? ds.name },
    };
    check(`dataSources.${ds.name}`, () => validateDataSource(s, definition, ds.name));
    s.dataSources[key(ds.name)] = { definition, documents: structuredClone(ds.documents) };
  }
  const add = (what: 'skillsets' | 'indexes' | 'indexers', defs: readonly Record<string, unknown>[] | undefined) => {
    for (const [i, raw] of (defs ?? []).entries()) {
      const def = resolve(raw, `${where}.${what}.${i}`, b) as SearchJson;
      const n = text(def.name);
      const validate = { skillsets: validateSkillset, indexes: validateIndex, indexers: validateIndexer }[what];
      check(`${what}.${n || i}`, () => validate(s, def, n));
      if (what === 'skillsets') s.skillsets[key(n)] = normalized('skillset', def);
      else if (what === 'indexes') s.indexes[key(n)] = { definition: normalized('index', def), documents: {} };
      else s.indexers[key(n)] = { definition: def, processed: 0, history: [] };
    }
  };
  add('skillsets', spec.skillsets);
  add('indexes', spec.indexes);
  add('indexers', spec.indexers);
  return s;
}
