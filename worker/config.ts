/**
 * The one module that reads the process environment. Everything else receives configuration as arguments,
 * so tests can build any configuration without touching `process.env`.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export interface AzureConfig {
  /** ARM endpoint; the public cloud unless pointed at the simulator or a sovereign cloud. */
  readonly armEndpoint: string;
  /** Entra authority host, e.g. https://login.microsoftonline.com. */
  readonly authorityHost: string;
  /** Extra CA certificate (PEM path) to trust for ARM, Entra and app traffic: the simulator's CA. */
  readonly caCertPath?: string;
  /** Tenant to authenticate in; DefaultAzureCredential's own choice when absent. */
  readonly tenantId?: string;
}

export interface CutoverConfig {
  /** Where cutover keeps local state: the dev server database, simulator certificates, evidence files. */
  readonly home: string;
  /** Temporal task queue the worker polls and the CLI starts migrations on. */
  readonly taskQueue: string;
  /** Explicit path to the `temporal` CLI binary. */
  readonly temporalCliPath?: string;
  /** Base URL of the Temporal Web UI, for links printed by the CLI. */
  readonly webUiUrl?: string;
  readonly azure: AzureConfig;
}

export const PUBLIC_CLOUD = {
  armEndpoint: 'https://management.azure.com',
  authorityHost: 'https://login.microsoftonline.com',
} as const;

export const DEFAULT_TASK_QUEUE = 'cutover';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CutoverConfig {
  const home = nonEmpty(env.CUTOVER_HOME) ?? path.join(os.homedir(), '.cutover');
  return {
    home,
    taskQueue: nonEmpty(env.CUTOVER_TASK_QUEUE) ?? DEFAULT_TASK_QUEUE,
    temporalCliPath: nonEmpty(env.TEMPORAL_CLI_PATH),
    webUiUrl: nonEmpty(env.CUTOVER_WEB_UI_URL),
    azure: {
      armEndpoint: nonEmpty(env.CUTOVER_ARM_ENDPOINT) ?? PUBLIC_CLOUD.armEndpoint,
      authorityHost: nonEmpty(env.AZURE_AUTHORITY_HOST) ?? PUBLIC_CLOUD.authorityHost,
      caCertPath: nonEmpty(env.CUTOVER_CA_CERT),
      tenantId: nonEmpty(env.AZURE_TENANT_ID),
    },
  };
}

/** The user's cache folder (XDG), where downloaded tools such as the Temporal CLI are kept. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(nonEmpty(env.XDG_CACHE_HOME) ?? path.join(os.homedir(), '.cache'), 'cutover');
}

/** PATH entries, for locating executables. */
export function pathEntries(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean);
}
