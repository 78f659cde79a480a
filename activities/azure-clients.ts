/**
 * Builds the official Azure SDK clients from configuration. The only module that knows how to point them at a
 * cloud: the public cloud by default, or any ARM endpoint (a sovereign cloud, the local simulator) plus an extra CA.
 * Credentials are always a `TokenCredential`: `DefaultAzureCredential` in production, whatever the caller passes in tests.
 */
import { readFileSync } from 'node:fs';
import { WebSiteManagementClient } from '@azure/arm-appservice';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import type { TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential, DefaultAzureCredential } from '@azure/identity';

export const ARM_SCOPE = 'https://management.azure.com/.default';
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface AzureEndpoints {
  readonly armEndpoint: string;
  readonly authorityHost: string;
  /** PEM of an extra CA to trust (the simulator's), for ARM, Entra and app traffic. */
  readonly caCert?: string;
}

export interface AzureClients {
  readonly web: WebSiteManagementClient;
  readonly cognitive: CognitiveServicesManagementClient;
  readonly authorization: AuthorizationManagementClient;
  readonly msi: ManagedServiceIdentityClient;
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

export function createAzureClients(
  credential: TokenCredential,
  subscriptionId: string,
  endpoints: AzureEndpoints,
): AzureClients {
  const common = { ...tls(endpoints), retryOptions };
  return {
    web: new WebSiteManagementClient(credential, subscriptionId, {
      ...common,
      endpoint: endpoints.armEndpoint,
      credentials: { scopes: [ARM_SCOPE] },
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
  };
}
