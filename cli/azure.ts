/**
 * Azure as the CLI's commands reach it (`plan`, `inventory`, `worker`): the dev environment's simulator, or the
 * configured Azure. Apart from ./context.ts so that commands that need no Azure do not load its SDK.
 */
import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/core-auth';
import {
  type AzureEndpoints,
  type CredentialSource,
  defaultCredential,
  readCaCert,
  refreshingCredential,
} from '../azure/clients';
import { type AzureContext, createAzureContext } from '../azure/context';
import { sharedGovernor } from '../azure/governor';
import type { CliContext } from './context';
import { UserError } from './errors';

export interface AzureAccess {
  /** Asked at every use (the dev environment's principal can change when it loads another scenario). */
  readonly credential: CredentialSource;
  readonly endpoints: AzureEndpoints;
  /** Where the settings came from, for messages. */
  readonly source: 'dev-simulator' | 'configured';
}

interface SimCredentialsFile {
  readonly servicePrincipals: Readonly<Record<string, { tenantId: string; clientId: string; clientSecret: string }>>;
}

/** Credentials of a simulator principal from its 0600 credentials file, read again at every use. */
export function simulatorCredential(
  endpoints: AzureEndpoints,
  credentialsFile: string,
  principal: string,
): () => TokenCredential {
  return refreshingCredential(endpoints, () => {
    const creds = JSON.parse(readFileSync(credentialsFile, 'utf8')) as SimCredentialsFile;
    const p = creds.servicePrincipals?.[principal];
    if (!p) throw new UserError(`the simulator has no principal named ${principal}`);
    return p;
  });
}

export function azureAccess(ctx: CliContext): AzureAccess {
  const { config, dev } = ctx;
  // Before any client: the process's one ARM governor takes the configured budgets (CUTOVER_ARM_BUDGETS).
  sharedGovernor(config.azure.armBudgets);
  if (!config.azureConfigured && dev) {
    const endpoints: AzureEndpoints = {
      armEndpoint: dev.azure.armEndpoint,
      authorityHost: dev.azure.authorityHost,
      caCert: readCaCert(dev.azure.caCertPath),
      ...(dev.azure.logsEndpoint ? { logsEndpoint: dev.azure.logsEndpoint } : {}),
      ...(dev.azure.metricsEndpoint ? { metricsEndpoint: dev.azure.metricsEndpoint } : {}),
    };
    return {
      credential: simulatorCredential(endpoints, dev.azure.credentialsFile, dev.azure.principal),
      endpoints,
      source: 'dev-simulator',
    };
  }
  const endpoints: AzureEndpoints = {
    armEndpoint: config.azure.armEndpoint,
    authorityHost: config.azure.authorityHost,
    caCert: readCaCert(config.azure.caCertPath),
    ...(config.azure.keyVaultDnsSuffix ? { keyVaultDnsSuffix: config.azure.keyVaultDnsSuffix } : {}),
    ...(config.azure.logsEndpoint ? { logsEndpoint: config.azure.logsEndpoint } : {}),
    ...(config.azure.metricsEndpoint ? { metricsEndpoint: config.azure.metricsEndpoint } : {}),
  };
  return { credential: defaultCredential(endpoints, config.azure.tenantId), endpoints, source: 'configured' };
}

/** The Azure layer as this process reaches it (the dev simulator, or the configured Azure). */
export function azureContext(ctx: CliContext): AzureContext {
  const access = azureAccess(ctx);
  return createAzureContext({ credential: access.credential, endpoints: access.endpoints });
}
