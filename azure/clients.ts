/**
 * Builds the official Azure SDK clients from configuration. The only module that knows how to point them at a
 * cloud: the public cloud by default, or any ARM endpoint (a sovereign cloud, the local simulator) plus an extra CA.
 * Credentials are always a `TokenCredential`: `DefaultAzureCredential` in production, whatever the caller passes in tests.
 */
import { readFileSync } from 'node:fs';
import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import { WebSiteManagementClient } from '@azure/arm-appservice';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { SearchManagementClient } from '@azure/arm-search';
import { SearchIndexClient, SearchIndexerClient } from '@azure/search-documents';
import type { TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential, DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { MonitorClient } from '@azure/arm-monitor';
import { OperationalInsightsManagementClient } from '@azure/arm-operationalinsights';
import { LogsQueryClient } from '@azure/monitor-query-logs';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { type ArmGovernor, governedPolicies, sharedGovernor } from './governor';
import { type MlClient, createMlClient } from './ml-client';

export const ARM_SCOPE = 'https://management.azure.com/.default';
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** Azure AI Search's data plane (Entra tokens, role-based access). */
export const SEARCH_AUDIENCE = 'https://search.azure.com';
const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface AzureEndpoints {
  readonly armEndpoint: string;
  readonly authorityHost: string;
  /** PEM of an extra CA to trust (the simulator's), for ARM, Entra and app traffic. */
  readonly caCert?: string;
  /** DNS suffix of Key Vault hosts in this cloud (`vault.azure.net` in the public cloud). */
  readonly keyVaultDnsSuffix?: string;
  /** Log Analytics query API (`https://api.loganalytics.io/v1` in the public cloud). */
  readonly logsEndpoint?: string;
  /** Azure Monitor metrics query API; `{region}` is replaced by the resource's region. */
  readonly metricsEndpoint?: string;
}

export const PUBLIC_LOGS_ENDPOINT = 'https://api.loganalytics.io/v1';
export const PUBLIC_METRICS_ENDPOINT = 'https://{region}.metrics.monitor.azure.com';

export const PUBLIC_KEY_VAULT_DNS_SUFFIX = 'vault.azure.net';

export interface AzureClients {
  readonly web: WebSiteManagementClient;
  /** Container apps and their revisions (Microsoft.App). */
  readonly containerApps: ContainerAppsAPIClient;
  /** Machine Learning workspaces and their connections (ml-client.ts). */
  readonly machineLearning: MlClient;
  readonly cognitive: CognitiveServicesManagementClient;
  readonly authorization: AuthorizationManagementClient;
  readonly msi: ManagedServiceIdentityClient;
  readonly keyVault: KeyVaultManagementClient;
  /** Diagnostic settings (Microsoft.Insights). */
  readonly monitor: MonitorClient;
  /** Log Analytics workspaces (to find a workspace's query id). */
  readonly workspaces: OperationalInsightsManagementClient;
  /** AI Search services and their identity (Microsoft.Search). */
  readonly search: SearchManagementClient;
}

/** Retry policy for the SDK pipelines: a few bounded retries so Temporal's own retries stay the outer loop. */
const retryOptions = { maxRetries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 8_000 };

function tls(endpoints: AzureEndpoints) {
  return endpoints.caCert ? { tlsOptions: { ca: endpoints.caCert } } : {};
}

export function readCaCert(caCertPath: string | undefined): string | undefined {
  return caCertPath ? readFileSync(caCertPath, 'utf8') : undefined;
}

/** A custom authority (the simulator, Azure Stack) is not in Entra's instance-discovery list. */
function customAuthority(endpoints: AzureEndpoints) {
  const custom = endpoints.authorityHost.replace(/\/$/, '') !== PUBLIC_AUTHORITY_HOST;
  return { authorityHost: endpoints.authorityHost, ...(custom ? { disableInstanceDiscovery: true } : {}) };
}

/**
 * A credential, or where to get the current one: a source is asked at every use, so a credential that changes
 * (the embedded simulator's worker principal after a scenario load) is picked up without restarting the worker.
 */
export type CredentialSource = TokenCredential | (() => TokenCredential);

export function currentCredential(source: CredentialSource): TokenCredential {
  return typeof source === 'function' ? source() : source;
}

/**
 * A client-secret credential read anew at every use (a file, the simulator's control API): the same credential
 * object while the principal is unchanged (it caches its tokens), a new one as soon as it changes.
 */
export function refreshingCredential(
  endpoints: AzureEndpoints,
  read: () => { tenantId: string; clientId: string; clientSecret: string },
): () => TokenCredential {
  let last: { principal: string; credential: TokenCredential } | undefined;
  return () => {
    const p = read();
    const principal = `${p.tenantId}\n${p.clientId}\n${p.clientSecret}`;
    if (last?.principal !== principal) last = { principal, credential: clientSecretCredential(endpoints, p) };
    return last.credential;
  };
}

/** Production credential: environment, workload identity, managed identity, Azure CLI … in Azure's usual order. */
export function defaultCredential(endpoints: AzureEndpoints, tenantId?: string): TokenCredential {
  return new DefaultAzureCredential({
    ...customAuthority(endpoints),
    ...tls(endpoints),
    ...(tenantId ? { tenantId } : {}),
  });
}

/** A service principal's client-secret credential (tests and the embedded simulator's worker principal). */
export function clientSecretCredential(
  endpoints: AzureEndpoints,
  principal: { tenantId: string; clientId: string; clientSecret: string },
): TokenCredential {
  return new ClientSecretCredential(principal.tenantId, principal.clientId, principal.clientSecret, {
    ...customAuthority(endpoints),
    ...tls(endpoints),
  });
}

/** How ARM clients are built beyond their endpoints. */
export interface ArmClientOptions {
  /** The governor their requests wait on (`governor.ts`): the process's shared one by default; `null`: none. */
  readonly governor?: ArmGovernor | null;
}

function armCommon(endpoints: AzureEndpoints, options: ArmClientOptions) {
  const governor = options.governor === undefined ? sharedGovernor() : options.governor;
  return { ...tls(endpoints), retryOptions, additionalPolicies: governedPolicies(governor) };
}

export function createAzureClients(
  credential: TokenCredential,
  subscriptionId: string,
  endpoints: AzureEndpoints,
  options: ArmClientOptions = {},
): AzureClients {
  const common = armCommon(endpoints, options);
  return {
    web: new WebSiteManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentials: { scopes: [ARM_SCOPE] },
    }),
    containerApps: new ContainerAppsAPIClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentialScopes: [ARM_SCOPE],
    }),
    machineLearning: createMlClient(credential, subscriptionId, endpoints.armEndpoint, {
      ...common,
      credentialScopes: [ARM_SCOPE],
    }),
    cognitive: new CognitiveServicesManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentialScopes: [ARM_SCOPE],
    }),
    authorization: new AuthorizationManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentialScopes: [ARM_SCOPE],
    }),
    msi: new ManagedServiceIdentityClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentialScopes: [ARM_SCOPE],
    }),
    keyVault: new KeyVaultManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentials: { scopes: [ARM_SCOPE] },
    }),
    monitor: new MonitorClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentials: { scopes: [ARM_SCOPE] },
    }),
    workspaces: new OperationalInsightsManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentials: { scopes: [ARM_SCOPE] },
    }),
    search: new SearchManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentialScopes: [ARM_SCOPE],
    }),
  };
}

/** The data-plane clients of one AI Search service, at the `endpoint` its ARM resource names. */
export function createSearchClients(
  credential: TokenCredential,
  endpoint: string,
  endpoints: AzureEndpoints,
): { indexes: SearchIndexClient; indexers: SearchIndexerClient } {
  const options = { ...tls(endpoints), retryOptions, audience: SEARCH_AUDIENCE };
  return {
    indexes: new SearchIndexClient(endpoint, credential, options),
    indexers: new SearchIndexerClient(endpoint, credential, options),
  };
}

/** The Log Analytics query client (workspace queries over diagnostic logs). */
export function createLogsClient(credential: TokenCredential, endpoints: AzureEndpoints): LogsQueryClient {
  return new LogsQueryClient(credential, {
    ...tls(endpoints),
    retryOptions,
    endpoint: endpoints.logsEndpoint ?? PUBLIC_LOGS_ENDPOINT,
  });
}

/** The Azure Monitor metrics client of one region (the batch API is regional). */
export function createMetricsClient(
  credential: TokenCredential,
  endpoints: AzureEndpoints,
  region: string,
): MetricsClient {
  const endpoint = (endpoints.metricsEndpoint ?? PUBLIC_METRICS_ENDPOINT).replace(
    '{region}',
    region.replace(/\s+/g, '').toLowerCase(),
  );
  return new MetricsClient(endpoint, credential, { ...tls(endpoints), retryOptions });
}

/** Subscriptions the credential can see (tenant-level, no subscription id). */
export function createSubscriptionClient(
  credential: TokenCredential,
  endpoints: AzureEndpoints,
  options: ArmClientOptions = {},
): SubscriptionClient {
  return new SubscriptionClient(credential, {
    ...armCommon(endpoints, options),
    endpoint: endpoints.armEndpoint,
    credentialScopes: [ARM_SCOPE],
  });
}

/**
 * Whether a vault URL found in an app setting is one this worker may send a token to: a host under the cloud's
 * Key Vault DNS suffix, or — for a private cloud whose ARM endpoint is not the public one (the local simulator,
 * Azure Stack Hub) — the ARM endpoint's own host. A reference to anything else is never followed, so a crafted
 * setting cannot harvest the worker's token.
 */
export function trustedVaultUrl(vaultUrl: string, endpoints: AzureEndpoints): 'cloud' | 'local' | undefined {
  let url: URL;
  try {
    url = new URL(vaultUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:') return undefined;
  const suffix = (endpoints.keyVaultDnsSuffix ?? PUBLIC_KEY_VAULT_DNS_SUFFIX).replace(/^\.+/, '').toLowerCase();
  if (url.hostname.toLowerCase().endsWith(`.${suffix}`)) return 'cloud';
  const arm = new URL(endpoints.armEndpoint);
  const publicArm = arm.hostname.toLowerCase() === 'management.azure.com';
  return !publicArm && url.hostname.toLowerCase() === arm.hostname.toLowerCase() ? 'local' : undefined;
}

/** A Key Vault secrets client for a trusted vault URL (see `trustedVaultUrl`). */
export function createSecretClient(
  credential: TokenCredential,
  vaultUrl: string,
  endpoints: AzureEndpoints,
  trust: 'cloud' | 'local',
): SecretClient {
  return new SecretClient(vaultUrl, credential, {
    ...tls(endpoints),
    retryOptions,
    // A local endpoint's host cannot match the challenge's resource (vault.azure.net): only there is it skipped.
    ...(trust === 'local' ? { disableChallengeResourceVerification: true } : {}),
  });
}
