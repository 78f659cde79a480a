/**
 * What every command needs, resolved once: configuration, output, the Temporal connection and Azure access.
 * Explicit settings win; otherwise a running `cutover dev` environment is used; otherwise the public defaults.
 */
import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/core-auth';
import { Client, Connection } from '@temporalio/client';
import {
  type AzureEndpoints,
  type CredentialSource,
  defaultCredential,
  readCaCert,
  refreshingCredential,
} from '../azure/clients';
import { type AzureContext, createAzureContext } from '../azure/context';
import { type CutoverConfig, DEFAULT_TASK_QUEUE, loadConfig } from '../config/env';
import { type DevEnvironment, readDevEnvironment } from '../worker/dev-env';
import { UserError } from './errors';
import { createOutput, type Output, type OutputFormat } from './output';

export interface GlobalOptions {
  readonly output?: OutputFormat;
  readonly address?: string;
  readonly namespace?: string;
  readonly taskQueue?: string;
}

export interface CliContext {
  readonly config: CutoverConfig;
  readonly out: Output;
  /** The running local dev environment, when one is up and nothing explicit overrides it. */
  readonly dev?: DevEnvironment;
  readonly globals: GlobalOptions;
}

export function createContext(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadConfig(env);
  const out = createOutput(globals.output ?? 'text');
  const dev = readDevEnvironment(config.home);
  return { config, out, globals, ...(dev ? { dev } : {}) };
}

export interface TemporalAccess {
  readonly client: Client;
  readonly namespace: string;
  readonly address: string;
  readonly taskQueue: string;
  readonly uiUrl?: string;
  close(): Promise<void>;
}

export async function connectTemporal(ctx: CliContext): Promise<TemporalAccess> {
  const { config, globals, dev } = ctx;
  const explicit = globals.address ?? config.temporal.address;
  const address = explicit ?? dev?.temporal.address ?? 'localhost:7233';
  const namespace =
    globals.namespace ?? config.temporal.namespace ?? (explicit ? undefined : dev?.temporal.namespace) ?? 'default';
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...config.temporal.connectionOptions, address, connectTimeout: 5000 });
  } catch (err) {
    throw new UserError(
      `cannot reach Temporal at ${address}: ${(err as Error).message.split('\n')[0]}`,
      explicit
        ? 'check TEMPORAL_ADDRESS / --address and the TLS or API-key settings'
        : 'start the local environment with `npx cutover dev`, or set TEMPORAL_ADDRESS',
    );
  }
  const uiUrl = config.webUiUrl ?? (explicit ? undefined : dev?.temporal.uiUrl);
  return {
    client: new Client({ connection, namespace }),
    namespace,
    address,
    taskQueue:
      // An explicit CUTOVER_TASK_QUEUE wins over the dev environment's; the default does not.
      globals.taskQueue ??
      (config.taskQueue !== DEFAULT_TASK_QUEUE ? config.taskQueue : (dev?.taskQueue ?? config.taskQueue)),
    ...(uiUrl ? { uiUrl } : {}),
    close: () => connection.close(),
  };
}

export function workflowLink(
  access: Pick<TemporalAccess, 'uiUrl' | 'namespace'>,
  workflowId: string,
): string | undefined {
  if (!access.uiUrl) return undefined;
  return `${access.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(access.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

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
  if (!config.azureConfigured && dev) {
    const endpoints: AzureEndpoints = {
      armEndpoint: dev.azure.armEndpoint,
      authorityHost: dev.azure.authorityHost,
      caCert: readCaCert(dev.azure.caCertPath),
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
  };
  return { credential: defaultCredential(endpoints, config.azure.tenantId), endpoints, source: 'configured' };
}

/** The Azure layer as this process reaches it (the dev simulator, or the configured Azure). */
export function azureContext(ctx: CliContext): AzureContext {
  const access = azureAccess(ctx);
  return createAzureContext({ credential: access.credential, endpoints: access.endpoints });
}
