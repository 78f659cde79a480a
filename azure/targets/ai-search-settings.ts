/**
 * How an AI Search service's Azure OpenAI callers read as settings, so that snapshots, restores, the key-holder
 * check and `plan show` treat them like App Service settings. Each `AzureOpenAIEmbeddingSkill` of a skillset and
 * each `azureOpenAI` vectorizer of an index gives up to three:
 *
 *   skillset:<skillset>:<skill>:resourceUri     index:<index>:<vectorizer>:resourceUri   the account it calls
 *   skillset:<skillset>:<skill>:apiKey          index:<index>:<vectorizer>:apiKey        its key, when it has one
 *   skillset:<skillset>:<skill>:authIdentity    index:<index>:<vectorizer>:authIdentity  `none`, or a user-assigned
 *                                                                                        identity's ARM id
 *
 * Azure uses the key when one is set; without it, the user-assigned `authIdentity`, else the service's
 * system-assigned identity. So a plan moves a caller to the system identity by removing its `apiKey`, to a
 * user-assigned one by also setting its `authIdentity`. Azure shows every key as `"<redacted>"`: that is the value
 * read, and written back it keeps the key (only what a plan changes is sent differently).
 */
import type {
  AzureOpenAIEmbeddingSkill,
  AzureOpenAIVectorizer,
  SearchIndex,
  SearchIndexerDataIdentity,
  SearchIndexerSkillset,
} from '@azure/search-documents';

/** What Azure AI Search answers in place of a key. */
export const HIDDEN_KEY = '<redacted>';
const FIELDS = ['resourceUri', 'apiKey', 'authIdentity'] as const;
type Field = (typeof FIELDS)[number];
/** The workflow adds it for a user-assigned identity; a search service names the identity in `authIdentity`. */
export const CLIENT_ID_SETTING = 'AZURE_CLIENT_ID';

/** The parameters a skill or vectorizer calls Azure OpenAI with (the SDK's names). */
interface OpenAIParameters {
  resourceUrl?: string;
  apiKey?: string;
  authIdentity?: SearchIndexerDataIdentity;
}

export interface SettingAddress {
  readonly kind: 'skillset' | 'index';
  readonly container: string;
  readonly item: string;
  readonly field: Field;
}

export const settingName = (a: SettingAddress) => `${a.kind}:${a.container}:${a.item}:${a.field}`;

/** `skillset:docs:embed:apiKey` → its parts; undefined for a name of no such shape. */
export function parseSettingName(name: string): SettingAddress | undefined {
  const parts = name.split(':');
  if (parts.length < 4) return undefined;
  const [kind, container] = parts;
  const field = parts.at(-1) as Field;
  const item = parts.slice(2, -1).join(':');
  if ((kind !== 'skillset' && kind !== 'index') || !container || !item || !FIELDS.includes(field)) return undefined;
  return { kind, container, item, field };
}

const isEmbeddingSkill = (s: { odatatype: string }): s is AzureOpenAIEmbeddingSkill =>
  s.odatatype === '#Microsoft.Skills.Text.AzureOpenAIEmbeddingSkill';
const isOpenAIVectorizer = (v: { kind: string }): v is AzureOpenAIVectorizer => v.kind === 'azureOpenAI';

function identityValue(id: SearchIndexerDataIdentity | undefined): string | undefined {
  if (!id) return undefined;
  return id.odatatype === '#Microsoft.Azure.Search.DataUserAssignedIdentity' ? id.resourceId : 'none';
}

function identityOf(value: string | undefined, where: string): SearchIndexerDataIdentity | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'none') return { odatatype: '#Microsoft.Azure.Search.DataNoneIdentity' };
  if (
    !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i.test(
      value,
    )
  )
    throw new Error(`${where} must be "none" or the ARM id of a user-assigned identity`);
  return { odatatype: '#Microsoft.Azure.Search.DataUserAssignedIdentity', resourceId: value };
}

/** The callers of a service: each skill and vectorizer that calls Azure OpenAI, with its parameters (live objects). */
export function callersOf(
  skillsets: readonly SearchIndexerSkillset[],
  indexes: readonly SearchIndex[],
): { address: Omit<SettingAddress, 'field'>; params: OpenAIParameters }[] {
  const out: { address: Omit<SettingAddress, 'field'>; params: OpenAIParameters }[] = [];
  for (const ss of skillsets)
    for (const skill of ss.skills)
      if (isEmbeddingSkill(skill))
        out.push({ address: { kind: 'skillset', container: ss.name, item: skill.name ?? '' }, params: skill });
  for (const ix of indexes)
    for (const v of ix.vectorSearch?.vectorizers ?? [])
      if (isOpenAIVectorizer(v))
        out.push({
          address: { kind: 'index', container: ix.name, item: v.vectorizerName },
          params: (v.parameters ??= {}),
        });
  return out;
}

function read(params: OpenAIParameters): Partial<Record<Field, string>> {
  const identity = identityValue(params.authIdentity);
  return {
    ...(params.resourceUrl ? { resourceUri: params.resourceUrl } : {}),
    ...(params.apiKey ? { apiKey: params.apiKey } : {}),
    ...(identity ? { authIdentity: identity } : {}),
  };
}

export function searchSettings(
  skillsets: readonly SearchIndexerSkillset[],
  indexes: readonly SearchIndex[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { address, params } of callersOf(skillsets, indexes))
    for (const [field, value] of Object.entries(read(params)))
      out[settingName({ ...address, field: field as Field })] = value;
  return out;
}

/**
 * Applies a whole settings dictionary to the callers (in place) and returns the names of the skillsets and indexes
 * that changed. A setting that names no caller is refused: nothing is written then.
 */
export function applySearchSettings(
  skillsets: readonly SearchIndexerSkillset[],
  indexes: readonly SearchIndex[],
  settings: Readonly<Record<string, string>>,
): { skillsets: string[]; indexes: string[] } {
  const callers = callersOf(skillsets, indexes);
  const known = new Set(callers.flatMap(({ address }) => FIELDS.map((field) => settingName({ ...address, field }))));
  const unknown = Object.keys(settings).filter((n) => n !== CLIENT_ID_SETTING && !known.has(n));
  if (unknown.length)
    throw new Error(
      `${unknown.join(', ')} name${unknown.length > 1 ? '' : 's'} no embedding skill or azureOpenAI vectorizer of the service`,
    );
  const changed = { skillsets: new Set<string>(), indexes: new Set<string>() };
  for (const { address, params } of callers) {
    const want = (field: Field) => settings[settingName({ ...address, field })];
    const before = read(params);
    if (FIELDS.every((f) => before[f] === want(f))) continue;
    params.resourceUrl = want('resourceUri');
    params.apiKey = want('apiKey');
    params.authIdentity = identityOf(want('authIdentity'), settingName({ ...address, field: 'authIdentity' }));
    (address.kind === 'skillset' ? changed.skillsets : changed.indexes).add(address.container);
  }
  return { skillsets: [...changed.skillsets], indexes: [...changed.indexes] };
}
