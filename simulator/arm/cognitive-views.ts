/**
 * The wire shape of a Microsoft.CognitiveServices account as Azure answers GET and lists: the spec's Account with
 * the properties Azure always fills (endpoints map, capabilities, callRateLimit, internalId, networkAcls, …),
 * `identity`, `systemData`, `sku` and an `etag` (also sent as the `ETag` header). The kind decides the endpoints:
 * OpenAI accounts answer on the OpenAI endpoint; AIServices (Foundry) accounts on a Cognitive Services endpoint and
 * the OpenAI one; CognitiveServices (multi-service) accounts have no OpenAI endpoint.
 */
import { createHash } from 'node:crypto';
import { type Account, type AccountKind } from '../model';
import { accountEndpoint } from '../scenario';
import { type ArmContext } from './router';

export const accountKind = (a: Account): AccountKind => a.kind ?? 'OpenAI';

export function accountEtag(account: Account): string {
  const h = createHash('sha256')
    .update(
      JSON.stringify([account.disableLocalAuth, account.publicNetworkAccess, account.tags, account.provisioningState]),
    )
    .digest('hex');
  return `"${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}"`;
}

/** The account's own endpoint (`properties.endpoint`) and its OpenAI endpoint, if it serves Azure OpenAI. */
function endpointsOf(baseUrl: string, account: Account): { endpoint: string; openai?: string } {
  const openai = accountEndpoint(baseUrl, account);
  const kind = accountKind(account);
  if (kind === 'OpenAI') return { endpoint: openai, openai };
  const own = account.customSubDomainName ? `${baseUrl}/cog/${account.customSubDomainName}/` : openai;
  return kind === 'AIServices' ? { endpoint: own, openai } : { endpoint: own };
}

function endpointsMap(baseUrl: string, account: Account): Record<string, string> {
  const { endpoint, openai } = endpointsOf(baseUrl, account);
  const openaiApis: Record<string, string> = openai
    ? {
        'OpenAI Language Model Instance API': openai,
        'OpenAI Dall-E API': openai,
        'OpenAI Whisper API': openai,
        'OpenAI Realtime API': openai,
        'OpenAI Model Scaleset API': openai,
      }
    : {};
  if (accountKind(account) === 'OpenAI') return openaiApis;
  return {
    ...(accountKind(account) === 'AIServices' ? { 'AI Foundry API': endpoint } : {}),
    'Computer Vision': endpoint,
    'Content Safety': endpoint,
    'Translator Text API': endpoint,
    ...openaiApis,
  };
}

const OPENAI_CAPABILITIES = [
  { name: 'MaxFineTuneCount', value: '100' },
  { name: 'MaxRunningFineTuneCount', value: '1' },
  { name: 'MaxUserFileCount', value: '50' },
  { name: 'MaxTrainingFileSize', value: '512000000' },
  { name: 'MaxUserFileImportDurationInHours', value: '1' },
  { name: 'MaxFineTuneJobDurationInHours', value: '720' },
];

function capabilities(account: Account) {
  const common = [
    { name: 'VirtualNetworks' },
    { name: 'CustomerManagedKey' },
    {
      name: 'TrustedServices',
      value: 'Microsoft.CognitiveServices,Microsoft.MachineLearningServices,Microsoft.Search',
    },
  ];
  return accountKind(account) === 'CognitiveServices' ? common : [...common, ...OPENAI_CAPABILITIES];
}

function callRateLimit(account: Account) {
  const rule = (k: string, path: string) => ({
    key: k,
    renewalPeriod: 1,
    count: 30,
    matchPatterns: [{ path, method: '*' }],
  });
  return {
    rules: [
      ...(accountKind(account) === 'CognitiveServices' ? [] : [rule('openai', 'openai/*')]),
      rule('default', '*'),
    ],
  };
}

export function accountView(ctx: ArmContext, account: Account) {
  const created = new Date(account.createdAt).toISOString();
  const modified = new Date(Math.max(account.createdAt, account.localAuthChange?.at ?? 0)).toISOString();
  const internalId = createHash('sha256').update(account.id.toLowerCase()).digest('hex').slice(0, 32);
  return {
    id: account.id,
    name: account.name,
    type: 'Microsoft.CognitiveServices/accounts',
    location: account.location,
    sku: { name: 'S0' },
    kind: accountKind(account),
    identity: { type: 'None' },
    tags: { ...account.tags },
    etag: accountEtag(account),
    systemData: {
      createdBy: 'scenario',
      createdByType: 'Application',
      createdAt: created,
      lastModifiedBy: 'scenario',
      lastModifiedByType: 'Application',
      lastModifiedAt: modified,
    },
    properties: {
      endpoint: endpointsOf(ctx.core.baseUrl, account).endpoint,
      internalId,
      dateCreated: created,
      callRateLimit: callRateLimit(account),
      isMigrated: false,
      networkAcls: { defaultAction: 'Allow', virtualNetworkRules: [], ipRules: [] },
      ...(account.customSubDomainName ? { customSubDomainName: account.customSubDomainName } : {}),
      privateEndpointConnections: [],
      publicNetworkAccess: account.publicNetworkAccess,
      disableLocalAuth: account.disableLocalAuth,
      capabilities: capabilities(account),
      endpoints: endpointsMap(ctx.core.baseUrl, account),
      provisioningState: account.provisioningState,
    },
  };
}
