/**
 * What an AI Search service does with its definitions: an indexer run (the data source's documents not yet seen
 * by its change tracking, each through the skillset's embedding skills, into the index by its field mappings) and
 * a query (`vectorQueries` of kind `text` vectorized by the field's profile's vectorizer, or of kind `vector`;
 * cosine similarity over the stored vectors). Both call Azure OpenAI for real (search-embed.ts), so a skill or
 * vectorizer whose auth does not work fails the run's document or the query, as in Azure.
 */
import type { SimCore } from './core';
import { SimError, isRecord } from './http';
import { key } from './model';
import { EMBEDDING_SKILL, invalid, text, vectorizersOf } from './search-definitions';
import { VectorizationError, embed } from './search-embed';
import type { IndexerExecution, SearchIndexer, SearchJson, SearchService } from './search-model';

const list = (v: unknown): SearchJson[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/** `/document/content` → `content`. */
const fieldOf = (path: unknown) => text(path).replace(/^\/document\/?/, '');

function vectorFieldDims(index: SearchJson, name: string): number | undefined {
  const f = list(index.fields).find((x) => x.name === name);
  return typeof f?.dimensions === 'number' ? f.dimensions : undefined;
}

/** One document through the skillset: the enriched document (`/document/…` paths by their last segment). */
async function enrich(
  core: SimCore,
  service: SearchService,
  skillset: SearchJson | undefined,
  doc: SearchJson,
  index: SearchJson,
  outputs: readonly SearchJson[],
): Promise<SearchJson> {
  const enriched: SearchJson = { ...doc };
  for (const skill of list(skillset?.skills)) {
    if (skill['@odata.type'] !== EMBEDDING_SKILL) continue;
    const input = list(skill.inputs).find((x) => x.name === 'text');
    const output = list(skill.outputs).find((x) => x.name === 'embedding');
    const content = enriched[fieldOf(input?.source)];
    if (typeof content !== 'string' || !output) continue;
    const target = text(output.targetName) || text(output.name);
    const mapped = outputs.find((m) => fieldOf(m.sourceFieldName) === target);
    const dims =
      typeof skill.dimensions === 'number'
        ? skill.dimensions
        : vectorFieldDims(index, text(mapped?.targetFieldName) || target);
    const [vector] = await embed(core, service, skill, [content], dims);
    enriched[target] = vector;
  }
  return enriched;
}

/** Runs an indexer to the end (the caller does not wait: Azure answers 202 at once). */
export async function runIndexer(core: SimCore, service: SearchService, indexer: SearchIndexer): Promise<void> {
  const def = indexer.definition;
  const source = service.dataSources[key(String(def.dataSourceName))];
  const index = service.indexes[key(String(def.targetIndexName))];
  const skillset = def.skillsetName ? service.skillsets[key(text(def.skillsetName))] : undefined;
  const run: IndexerExecution = {
    status: 'inProgress',
    startTime: new Date(core.now()).toISOString(),
    errors: [],
    warnings: [],
    itemsProcessed: 0,
    itemsFailed: 0,
  };
  indexer.history.unshift(run);
  const keyField = list(index?.definition.fields).find((f) => f.key === true)?.name as string | undefined;
  const outputs = list(def.outputFieldMappings);
  const params = isRecord(def.parameters) ? def.parameters : {};
  const maxFailed = typeof params.maxFailedItems === 'number' ? params.maxFailedItems : 0;
  const docs = (source?.documents ?? []).slice(indexer.processed);
  for (const doc of docs) {
    const docKey = keyField ? text(doc[keyField]) : '';
    try {
      if (!index || !keyField) throw new VectorizationError('The target index does not exist.', 400);
      const enriched = await enrich(core, service, skillset, doc, index.definition, outputs);
      const out: SearchJson = {};
      for (const f of list(index.definition.fields)) {
        const name = String(f.name);
        const from = outputs.find((m) => m.targetFieldName === name);
        const value = from ? enriched[fieldOf(from.sourceFieldName)] : doc[name];
        if (value !== undefined) out[name] = value;
      }
      index.documents[docKey] = out;
      run.itemsProcessed++;
    } catch (err) {
      if (!(err instanceof VectorizationError)) throw err;
      run.itemsFailed++;
      run.itemsProcessed++;
      run.errors.push({ key: docKey, errorMessage: err.message, statusCode: err.status, name: 'Enrichment' });
    }
  }
  run.endTime = new Date(core.now()).toISOString();
  if (run.itemsFailed > maxFailed && maxFailed !== -1) {
    run.status = 'transientFailure';
    run.errorMessage = `The indexer run failed: ${run.itemsFailed} item(s) failed, more than maxFailedItems (${maxFailed}).`;
  } else {
    run.status = 'success';
    indexer.processed += docs.length;
  }
  core.persist();
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** The vectorizer of a vector field: through its profile. */
function vectorizerOf(index: SearchJson, field: SearchJson): SearchJson | undefined {
  const vs = isRecord(index.vectorSearch) ? index.vectorSearch : {};
  const profile = list(vs.profiles).find((p) => p.name === field.vectorSearchProfile);
  return vectorizersOf(index).find((v) => v.name === profile?.vectorizer);
}

/** `POST /indexes('x')/docs/search.post.search`, for the vector queries (and `top`, `select`) it carries. */
export async function searchDocuments(
  core: SimCore,
  service: SearchService,
  index: { definition: SearchJson; documents: Record<string, SearchJson> },
  body: SearchJson,
): Promise<SearchJson> {
  const def = index.definition;
  const fields = list(def.fields);
  const scores = new Map<string, number>();
  for (const q of list(body.vectorQueries)) {
    const names = text(q.fields)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) throw invalid("A vector query must name the 'fields' it searches.");
    for (const name of names) {
      const field = fields.find((f) => f.name === name);
      if (!field || field.type !== 'Collection(Edm.Single)')
        throw invalid(`The field '${name}' in the vector query is not a vector field.`);
      let vector: number[];
      if (q.kind === 'text') {
        const vectorizer = vectorizerOf(def, field);
        if (!vectorizer)
          throw invalid(`The field '${name}' has no vectorizer configured, so a 'text' vector query cannot use it.`);
        if (vectorizer.kind !== 'azureOpenAI')
          throw invalid(`The vectorizer '${String(vectorizer.name)}' is of a kind the simulator does not run.`);
        try {
          [vector] = await embed(
            core,
            service,
            vectorizer.azureOpenAIParameters as SearchJson,
            [text(q.text)],
            field.dimensions as number,
          );
        } catch (err) {
          if (err instanceof VectorizationError) throw new SimError(400, 'InvalidRequest', err.message);
          throw err;
        }
      } else if (q.kind === 'vector' && Array.isArray(q.vector)) vector = q.vector as number[];
      else throw invalid("A vector query's 'kind' must be 'vector' (with 'vector') or 'text' (with 'text').");
      if (vector.length !== field.dimensions)
        throw invalid(
          `The vector query's vector has ${vector.length} dimensions, but the field '${name}' has ${String(field.dimensions)}.`,
        );
      for (const [docKey, doc] of Object.entries(index.documents)) {
        const stored = doc[name];
        if (!Array.isArray(stored)) continue;
        const s = (1 + cosine(vector, stored as number[])) / 2;
        scores.set(docKey, Math.max(scores.get(docKey) ?? 0, s));
      }
    }
  }
  const top = typeof body.top === 'number' ? body.top : 50;
  const select =
    typeof body.select === 'string' && body.select.trim() !== '*'
      ? body.select.split(',').map((s) => s.trim())
      : undefined;
  const retrievable = fields.filter((f) => f.retrievable !== false).map((f) => String(f.name));
  const ranked = [...scores].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    value: ranked.map(([docKey, score]) => {
      const doc = index.documents[docKey];
      const shown = (select ?? retrievable).filter((n) => retrievable.includes(n) && n in doc);
      return { '@search.score': score, ...Object.fromEntries(shown.map((n) => [n, doc[n]])) };
    }),
  };
}
