/**
 * AI Search data-plane definitions as Azure checks and shows them: skillsets, indexes, indexers and data sources.
 * Validation is Azure's for what a key-to-identity cutover touches — an `AzureOpenAIEmbeddingSkill` or an
 * `azureOpenAI` vectorizer needs `resourceUri` and `deploymentId`, its `authIdentity` is `DataNoneIdentity` or a
 * user-assigned identity the service has; names are unique; a vector field names an existing profile, a profile
 * an existing algorithm and vectorizer; an indexer names an existing data source, index and skillset. GET answers
 * mask secrets as `"<redacted>"`; a PUT that sends `"<redacted>"` back for a skill or vectorizer that has a key
 * keeps that key (what a read-modify-write of one skill needs; the simulator's reading of Azure's masking).
 */
import { SimError, isRecord } from './http';
import { key } from './model';
import type { SearchJson, SearchService } from './search-model';

export const REDACTED = '<redacted>';
export const EMBEDDING_SKILL = '#Microsoft.Skills.Text.AzureOpenAIEmbeddingSkill';
const NONE_IDENTITY = '#Microsoft.Azure.Search.DataNoneIdentity';
const USER_IDENTITY = '#Microsoft.Azure.Search.DataUserAssignedIdentity';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const INDEX_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{0,126}[a-z0-9]$|^[a-z0-9]$/;

/** A wire value as text: a string as it is, a number in decimal, anything else empty. */
export const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

export const invalid = (message: string) => new SimError(400, 'InvalidRequestParameter', message);

const list = (v: unknown): SearchJson[] => (Array.isArray(v) ? v.filter(isRecord) : []);

function checkName(what: string, name: unknown, urlName: string, re = NAME): string {
  if (typeof name !== 'string' || !name) throw invalid(`The ${what} name is required.`);
  if (name !== urlName)
    throw invalid(`The ${what} name '${name}' in the request body does not match the name '${urlName}' in the URL.`);
  if (!re.test(name)) throw invalid(`The ${what} name '${name}' is invalid.`);
  return name;
}

function unique(what: string, items: SearchJson[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    const n = typeof item.name === 'string' ? item.name : '';
    if (seen.has(key(n))) throw invalid(`The ${what} name '${n}' is used more than once.`);
    seen.add(key(n));
  }
}

/** An `azureOpenAI` caller's parameters: the skill itself, or a vectorizer's `azureOpenAIParameters`. */
function checkOpenAIParameters(service: SearchService, where: string, p: SearchJson): void {
  if (typeof p.resourceUri !== 'string' || !/^https:\/\//i.test(p.resourceUri))
    throw invalid(`${where}: 'resourceUri' must be the https URL of an Azure OpenAI resource.`);
  if (typeof p.deploymentId !== 'string' || !p.deploymentId) throw invalid(`${where}: 'deploymentId' is required.`);
  if (p.apiKey !== undefined && p.apiKey !== null && typeof p.apiKey !== 'string')
    throw invalid(`${where}: 'apiKey' must be a string.`);
  const identity = p.authIdentity;
  if (identity === undefined || identity === null) return;
  if (!isRecord(identity)) throw invalid(`${where}: 'authIdentity' must be an object.`);
  const type = identity['@odata.type'];
  if (type === NONE_IDENTITY) return;
  if (type !== USER_IDENTITY)
    throw invalid(`${where}: 'authIdentity' must be of type '${NONE_IDENTITY}' or '${USER_IDENTITY}'.`);
  const id = identity.userAssignedIdentity;
  if (typeof id !== 'string' || !service.userAssigned.some((u) => key(u) === key(id)))
    throw invalid(
      `${where}: the user-assigned identity '${String(id)}' is not assigned to the search service '${service.name}'.`,
    );
}

export function validateSkillset(service: SearchService, body: SearchJson, urlName: string): void {
  const name = checkName('skillset', body.name, urlName);
  if (!Array.isArray(body.skills)) throw invalid(`Skillset '${name}': 'skills' must be an array.`);
  const skills = list(body.skills);
  if (skills.length !== body.skills.length) throw invalid(`Skillset '${name}': every skill must be an object.`);
  unique('skill', skills);
  for (const [i, skill] of skills.entries()) {
    const where = `Skill '${typeof skill.name === 'string' ? skill.name : `#${i + 1}`}'`;
    if (typeof skill['@odata.type'] !== 'string' || !skill['@odata.type'].startsWith('#Microsoft.Skills.'))
      throw invalid(`${where}: '@odata.type' must name a skill type.`);
    if (!Array.isArray(skill.inputs) || !Array.isArray(skill.outputs))
      throw invalid(`${where}: 'inputs' and 'outputs' are required.`);
    if (skill['@odata.type'] !== EMBEDDING_SKILL) continue;
    checkOpenAIParameters(service, where, skill);
    if (!list(skill.inputs).some((x) => x.name === 'text' && typeof x.source === 'string'))
      throw invalid(`${where}: the input 'text' is required.`);
    if (!list(skill.outputs).some((x) => x.name === 'embedding'))
      throw invalid(`${where}: the output 'embedding' is required.`);
  }
}

export const vectorizersOf = (index: SearchJson): SearchJson[] =>
  list(isRecord(index.vectorSearch) ? index.vectorSearch.vectorizers : undefined);

export function validateIndex(service: SearchService, body: SearchJson, urlName: string): void {
  const name = checkName('index', body.name, urlName, INDEX_NAME);
  const fields = list(body.fields);
  if (fields.length === 0) throw invalid(`Index '${name}': 'fields' must name at least one field.`);
  unique('field', fields);
  if (fields.filter((f) => f.key === true).length !== 1)
    throw invalid(`Index '${name}': exactly one field must be the key field.`);
  const vs = isRecord(body.vectorSearch) ? body.vectorSearch : {};
  const profiles = list(vs.profiles);
  const algorithms = list(vs.algorithms);
  const vectorizers = list(vs.vectorizers);
  unique('vector search profile', profiles);
  unique('vectorizer', vectorizers);
  const named = (items: SearchJson[], n: unknown) => items.some((x) => x.name === n);
  for (const f of fields) {
    if (f.type !== 'Collection(Edm.Single)') continue;
    if (typeof f.dimensions !== 'number' || !Number.isInteger(f.dimensions) || f.dimensions < 2)
      throw invalid(`Index '${name}': vector field '${String(f.name)}' needs 'dimensions' (an integer of at least 2).`);
    if (!named(profiles, f.vectorSearchProfile))
      throw invalid(`Index '${name}': vector field '${String(f.name)}' names no existing vector search profile.`);
  }
  for (const p of profiles) {
    if (!named(algorithms, p.algorithm))
      throw invalid(`Index '${name}': profile '${String(p.name)}' names no existing algorithm configuration.`);
    if (p.vectorizer !== undefined && p.vectorizer !== null && !named(vectorizers, p.vectorizer))
      throw invalid(`Index '${name}': profile '${String(p.name)}' names no existing vectorizer.`);
  }
  for (const v of vectorizers) {
    if (v.kind !== 'azureOpenAI') continue;
    const where = `Vectorizer '${String(v.name)}'`;
    if (!isRecord(v.azureOpenAIParameters)) throw invalid(`${where}: 'azureOpenAIParameters' is required.`);
    checkOpenAIParameters(service, where, v.azureOpenAIParameters);
  }
}

export function validateIndexer(service: SearchService, body: SearchJson, urlName: string): void {
  const name = checkName('indexer', body.name, urlName);
  const ref = (what: string, field: string, where: Record<string, unknown>, required: boolean) => {
    const v = body[field];
    if (v === undefined || v === null) {
      if (required) throw invalid(`Indexer '${name}': '${field}' is required.`);
      return;
    }
    if (typeof v !== 'string' || !where[key(v)])
      throw invalid(`Indexer '${name}': the ${what} '${text(v)}' does not exist.`);
  };
  ref('data source', 'dataSourceName', service.dataSources, true);
  ref('index', 'targetIndexName', service.indexes, true);
  ref('skillset', 'skillsetName', service.skillsets, false);
}

export function validateDataSource(_service: SearchService, body: SearchJson, urlName: string): void {
  const name = checkName('data source', body.name, urlName);
  if (typeof body.type !== 'string' || !body.type) throw invalid(`Data source '${name}': 'type' is required.`);
  if (!isRecord(body.container) || typeof body.container.name !== 'string')
    throw invalid(`Data source '${name}': 'container.name' is required.`);
}

/** What Azure fills in on the skills of the examples' types (SearchServiceGetSkillset.json). */
const SKILL_DEFAULTS: Record<string, SearchJson> = {
  '#Microsoft.Skills.Text.SplitSkill': { defaultLanguageCode: 'en', pageOverlapLength: 0, maximumPagesToTake: 0 },
  '#Microsoft.Skills.Text.KeyPhraseExtractionSkill': { defaultLanguageCode: 'en' },
  '#Microsoft.Skills.Custom.WebApiSkill': { batchSize: 1000, httpHeaders: {} },
  '#Microsoft.Skills.Util.DocumentIntelligenceLayoutSkill': { outputFormat: 'markdown' },
};

/**
 * A definition as Azure stores (and a GET shows) it: every field flag filled in (`searchable`, `filterable`,
 * `retrievable`, `stored`, `sortable`, `facetable`, `key`, `synonymMaps: []`), skills' `context` and their inputs'
 * `inputs: []` and the defaults of some skill types (SKILL_DEFAULTS), the HNSW defaults (m 4, efConstruction 400, efSearch 500, cosine), scoring profiles'
 * `functionAggregation: sum` and functions' `interpolation: linear`.
 */
export function normalized(
  kind: 'skillset' | 'index' | 'other',
  def: SearchJson,
  /** The PUT examples' answers echo skills without the type defaults their GET shows. */
  skillDefaults = true,
): SearchJson {
  const out = structuredClone(def);
  if (kind === 'index') {
    out.fields = list(out.fields).map((f) => {
      const vector = f.type === 'Collection(Edm.Single)';
      const textual = f.type === 'Edm.String' || f.type === 'Collection(Edm.String)';
      const collection = String(f.type).startsWith('Collection(');
      return {
        ...f,
        searchable: f.searchable ?? (vector || textual),
        filterable: f.filterable ?? !vector,
        retrievable: f.retrievable ?? true,
        stored: f.stored ?? true,
        sortable: f.sortable ?? (!vector && !collection),
        facetable: f.facetable ?? !vector,
        key: f.key ?? false,
        synonymMaps: f.synonymMaps ?? [],
      };
    });
    if (Array.isArray(out.scoringProfiles))
      out.scoringProfiles = list(out.scoringProfiles).map((sp) => ({
        ...sp,
        functionAggregation: sp.functionAggregation ?? 'sum',
        functions: list(sp.functions).map((f) => ({ ...f, interpolation: f.interpolation ?? 'linear' })),
      }));
    const vs = isRecord(out.vectorSearch) ? out.vectorSearch : undefined;
    if (vs)
      vs.algorithms = list(vs.algorithms).map((a) =>
        a.kind === 'hnsw'
          ? {
              ...a,
              hnswParameters: {
                m: 4,
                efConstruction: 400,
                efSearch: 500,
                metric: 'cosine',
                ...(isRecord(a.hnswParameters) ? a.hnswParameters : {}),
              },
            }
          : a,
      );
  }
  if (kind === 'skillset')
    out.skills = list(out.skills).map((skill) => ({
      ...(skillDefaults ? SKILL_DEFAULTS[text(skill['@odata.type'])] : {}),
      ...skill,
      context: skill.context ?? '/document',
      inputs: list(skill.inputs).map((i) => ({ ...i, inputs: i.inputs ?? [] })),
      ...(skill['@odata.type'] === '#Microsoft.Skills.Util.DocumentIntelligenceLayoutSkill'
        ? { extractionOptions: skill.extractionOptions ?? [] }
        : {}),
    }));
  return out;
}

/** The parameters that may hold a key: skills of a skillset (embedding, chat completion …), azureOpenAI vectorizers. */
function keyHolders(kind: 'skillset' | 'index', def: SearchJson): [string, SearchJson][] {
  if (kind === 'skillset')
    return list(def.skills)
      .filter((s) => s['@odata.type'] === EMBEDDING_SKILL || typeof s.apiKey === 'string')
      .map((s) => [text(s.name), s]);
  return vectorizersOf(def)
    .filter((v) => v.kind === 'azureOpenAI' && isRecord(v.azureOpenAIParameters))
    .map((v) => [String(v.name), v.azureOpenAIParameters as SearchJson]);
}

/** The `@odata.etag` of a write. */
export const etagOf = (etag: number) => `"0x${etag.toString(16).toUpperCase()}"`;

/** A GET's view: secrets masked, the etag of the last write. */
export function redacted(kind: 'skillset' | 'index' | 'other', def: SearchJson, etag: number): SearchJson {
  const out = structuredClone(def);
  if (kind !== 'other')
    for (const [, p] of keyHolders(kind, out)) if (typeof p.apiKey === 'string') p.apiKey = REDACTED;
  if (kind === 'other' && isRecord(out.credentials)) out.credentials = { connectionString: null };
  return { '@odata.etag': etagOf(etag), ...out };
}

/** A PUT's body with `"<redacted>"` keys replaced by the keys the same-named skills or vectorizers hold now. */
export function keepRedactedKeys(kind: 'skillset' | 'index', body: SearchJson, before?: SearchJson): SearchJson {
  const out = structuredClone(body);
  const old = new Map(before ? keyHolders(kind, before) : []);
  for (const [name, p] of keyHolders(kind, out)) {
    if (p.apiKey !== REDACTED) continue;
    const held = old.get(name)?.apiKey;
    if (typeof held === 'string') p.apiKey = held;
  }
  return out;
}
