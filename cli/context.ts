/**
 * What every command needs, resolved once: configuration, terminal, output, the Temporal settings (resolved by
 * client/connect.ts) and Azure access. Explicit settings win; otherwise a running `cutover dev` environment is used;
 * otherwise the public defaults.
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
import { type CutoverConfig, loadConfig, type TerminalSettings, terminalSettings } from '../config/env';
import { type TemporalAccess, type TemporalSettings, withClient } from '../client/connect';
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
  readonly terminal: TerminalSettings;
  readonly out: Output;
  /** The running local dev environment, when one is up and nothing explicit overrides it. */
  readonly dev?: DevEnvironment;
  readonly globals: GlobalOptions;
}

export function createContext(
  globals: GlobalOptions,
  config: CutoverConfig = loadConfig(),
  terminal: TerminalSettings = terminalSettings(),
): CliContext {
  const out = createOutput(globals.output ?? 'text', terminal);
  const dev = readDevEnvironment(config.home);
  return { config, terminal, out, globals, ...(dev ? { dev } : {}) };
}

/** Which Temporal this invocation talks to: the flags, the configuration, a running `cutover dev`. */
export function temporalSettings(ctx: Pick<CliContext, 'config' | 'dev' | 'globals'>): TemporalSettings {
  return { config: ctx.config, overrides: ctx.globals, ...(ctx.dev ? { dev: ctx.dev } : {}) };
}

/** Runs `fn` with a Temporal client resolved for this invocation, closing it afterwards. */
export function withTemporal<T>(ctx: CliContext, fn: (t: TemporalAccess) => Promise<T>): Promise<T> {
  return withClient(temporalSettings(ctx), fn);
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
