/**
 * The one module that reads the process environment. Everything else receives configuration as arguments,
 * so tests can build any configuration without touching `process.env`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { type ClientConnectConfig, loadClientConnectConfig } from '@temporalio/envconfig';

export interface AzureConfig {
  /** ARM endpoint; the public cloud unless pointed at the simulator or a sovereign cloud. */
  readonly armEndpoint: string;
  /** Entra authority host, e.g. https://login.microsoftonline.com. */
  readonly authorityHost: string;
  /** Extra CA certificate (PEM path) to trust for ARM, Entra and app traffic: the simulator's CA. */
  readonly caCertPath?: string;
  /** Tenant to authenticate in; DefaultAzureCredential's own choice when absent. */
  readonly tenantId?: string;
  /** DNS suffix of the cloud's Key Vault hosts (CUTOVER_KEY_VAULT_DNS_SUFFIX); the public cloud's when absent. */
  readonly keyVaultDnsSuffix?: string;
  /** Log Analytics query endpoint, `LogsQueryClient`'s `endpoint` (CUTOVER_LOGS_ENDPOINT); the SDK's default when absent. */
  readonly logsEndpoint?: string;
  /** Azure Monitor metrics endpoint, `MetricsClient`'s endpoint (CUTOVER_METRICS_ENDPOINT). */
  readonly metricsEndpoint?: string;
  /**
   * ARM request budgets of the process's governor per class (CUTOVER_ARM_BUDGETS, a JSON object); a class or field
   * left out keeps Azure's documented bucket (see azure/governor.ts).
   */
  readonly armBudgets: ArmBudgetsConfig;
}

export const ARM_BUDGET_CLASSES = ['reads', 'writes', 'deletes', 'roleAssignments'] as const;
export type ArmBudgetsConfig = Readonly<
  Partial<Record<(typeof ARM_BUDGET_CLASSES)[number], { readonly capacity?: number; readonly refillPerSec?: number }>>
>;

export interface TemporalConfig {
  /** host:port; from TEMPORAL_ADDRESS or the Temporal CLI's config profile, else the local dev environment. */
  readonly address?: string;
  readonly namespace?: string;
  /** Connection options for Temporal Cloud / a TLS cluster (API key, mTLS), from the standard Temporal settings. */
  readonly connectionOptions: Omit<ClientConnectConfig['connectionOptions'], 'address'>;
}

export interface CutoverConfig {
  /** Where cutover keeps local state: the dev server database, simulator certificates, evidence files. */
  readonly home: string;
  /** Where workers write evidence records. */
  readonly evidenceDir: string;
  readonly temporal: TemporalConfig;
  /** Whether the Azure settings were given explicitly (else the local dev environment may be used). */
  readonly azureConfigured: boolean;
  /** The worker's Azure principal when it signs in with a client secret (AZURE_CLIENT_ID / AZURE_CLIENT_SECRET). */
  readonly azureClientIdSet: boolean;
  /** Temporal task queue the worker polls and the CLI starts migrations on. */
  readonly taskQueue: string;
  /** Explicit path to the `temporal` CLI binary. */
  readonly temporalCliPath?: string;
  /** Base URL of the Temporal Web UI, for links printed by the CLI. */
  readonly webUiUrl?: string;
  /** How long a stopping worker lets in-flight activities finish before handing them back (CUTOVER_SHUTDOWN_GRACE). */
  readonly workerShutdownGraceMs: number;
  /**
   * The person running the CLI (CUTOVER_USER), recorded as who started, approved or aborted a migration when a
   * command has no `--as`. Never guessed from the operating-system account: the four-eyes rule compares these names.
   */
  readonly user?: string;
  /**
   * Webhook URLs by the names plans use in `notifications` (CUTOVER_WEBHOOK_URLS, a JSON object). Teams and Slack
   * URLs are secrets: they live in the worker's configuration only.
   */
  readonly webhooks: Readonly<Record<string, string>>;
  readonly azure: AzureConfig;
}

export const PUBLIC_CLOUD = {
  armEndpoint: 'https://management.azure.com',
  authorityHost: 'https://login.microsoftonline.com',
} as const;

export const DEFAULT_TASK_QUEUE = 'cutover';

/** A duration setting ("30s", "2m", "500ms"); a malformed one is an error naming the variable. */
function durationMs(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value);
  if (!m) throw new Error(`${name} must be a duration such as 30s, 2m or 500ms (got ${JSON.stringify(value)})`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm']);
}

/** CUTOVER_WEBHOOK_URLS: `{"ops-teams": "https://…"}`; https only, plain http to this machine (a local receiver). */
function webhookUrls(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  const fail = (why: string) => {
    // Never the value in the message: it holds secrets.
    throw new Error(`CUTOVER_WEBHOOK_URLS ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail('must be a JSON object of webhook names and URLs, e.g. {"ops-teams": "https://…"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    fail('must be a JSON object of webhook names and URLs');
  const out: Record<string, string> = {};
  for (const [name, url] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) fail(`names a webhook "${name}": use lowercase letters, digits and -`);
    let u: URL | undefined;
    try {
      u = typeof url === 'string' ? new URL(url) : undefined;
    } catch {
      u = undefined;
    }
    if (!u) fail(`has no valid URL for webhook "${name}"`);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u!.hostname);
    if (u!.protocol !== 'https:' && !(u!.protocol === 'http:' && loopback))
      fail(`webhook "${name}" must use https (plain http only to this machine)`);
    out[name] = u!.toString();
  }
  return out;
}

/** CUTOVER_ARM_BUDGETS: `{"writes": {"capacity": 100, "refillPerSec": 5}}`; positive numbers, known classes only. */
function armBudgets(value: string | undefined): ArmBudgetsConfig {
  if (value === undefined) return {};
  const fail = (why: string): never => {
    throw new Error(
      `CUTOVER_ARM_BUDGETS ${why}: a JSON object such as {"writes": {"capacity": 100, "refillPerSec": 5}} with classes ${ARM_BUDGET_CLASSES.join(', ')}`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('must be an object');
  const out: Record<string, { capacity?: number; refillPerSec?: number }> = {};
  for (const [cls, budget] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(ARM_BUDGET_CLASSES as readonly string[]).includes(cls)) fail(`names an unknown class "${cls}"`);
    if (typeof budget !== 'object' || budget === null || Array.isArray(budget))
      return fail(`"${cls}" must be an object`);
    const entry: { capacity?: number; refillPerSec?: number } = {};
    for (const [field, n] of Object.entries(budget as Record<string, unknown>)) {
      if (field !== 'capacity' && field !== 'refillPerSec') return fail(`"${cls}" has an unknown field "${field}"`);
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
        return fail(`"${cls}.${field}" must be a positive number`);
      entry[field] = n;
    }
    out[cls] = entry;
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The standard Temporal settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, TEMPORAL_PROFILE, TOML). */
function loadTemporalConfig(env: NodeJS.ProcessEnv): TemporalConfig {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const { connectionOptions, namespace } = loadClientConnectConfig({
    overrideEnvVars: vars,
    ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}),
  });
  const { address, ...rest } = connectionOptions;
  return {
    ...(address ? { address } : {}),
    ...(namespace ? { namespace } : {}),
    connectionOptions: rest,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CutoverConfig {
  const home = nonEmpty(env.CUTOVER_HOME) ?? path.join(os.homedir(), '.cutover');
  return {
    home,
    evidenceDir: nonEmpty(env.CUTOVER_EVIDENCE_DIR) ?? path.join(home, 'evidence'),
    temporal: loadTemporalConfig(env),
    azureConfigured: nonEmpty(env.CUTOVER_ARM_ENDPOINT) !== undefined || nonEmpty(env.AZURE_CLIENT_ID) !== undefined,
    azureClientIdSet: nonEmpty(env.AZURE_CLIENT_ID) !== undefined,
    taskQueue: nonEmpty(env.CUTOVER_TASK_QUEUE) ?? DEFAULT_TASK_QUEUE,
    temporalCliPath: nonEmpty(env.TEMPORAL_CLI_PATH),
    webUiUrl: nonEmpty(env.CUTOVER_WEB_UI_URL),
    workerShutdownGraceMs: durationMs(nonEmpty(env.CUTOVER_SHUTDOWN_GRACE), 'CUTOVER_SHUTDOWN_GRACE') ?? 30_000,
    user: nonEmpty(env.CUTOVER_USER),
    webhooks: webhookUrls(nonEmpty(env.CUTOVER_WEBHOOK_URLS)),
    azure: {
      armEndpoint: nonEmpty(env.CUTOVER_ARM_ENDPOINT) ?? PUBLIC_CLOUD.armEndpoint,
      authorityHost: nonEmpty(env.AZURE_AUTHORITY_HOST) ?? PUBLIC_CLOUD.authorityHost,
      caCertPath: nonEmpty(env.CUTOVER_CA_CERT),
      keyVaultDnsSuffix: nonEmpty(env.CUTOVER_KEY_VAULT_DNS_SUFFIX),
      logsEndpoint: nonEmpty(env.CUTOVER_LOGS_ENDPOINT),
      metricsEndpoint: nonEmpty(env.CUTOVER_METRICS_ENDPOINT),
      armBudgets: armBudgets(nonEmpty(env.CUTOVER_ARM_BUDGETS)),
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

/** What the terminal the CLI runs in allows: live redrawing on a TTY, colour unless NO_COLOR is set. */
export interface TerminalSettings {
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** NO_COLOR (https://no-color.org): set and not empty. */
  readonly noColor: boolean;
}

export function terminalSettings(
  env: NodeJS.ProcessEnv = process.env,
  streams: { readonly stdout: { isTTY?: boolean }; readonly stderr: { isTTY?: boolean } } = process,
): TerminalSettings {
  return { stdoutIsTTY: !!streams.stdout.isTTY, stderrIsTTY: !!streams.stderr.isTTY, noColor: !!env.NO_COLOR };
}
