/**
 * Kinds of caller a plan can name, and what each allows: its name rule and its ways to switch. App Service is the
 * first kind, then Functions, Container Apps, AI Search and Machine Learning workspace connections.
 */
/** Microsoft.Web sites (web apps and function apps alike): their name rule and their ways to switch. */
const SITE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,58}[a-zA-Z0-9]$/;
const siteKind = <T extends string, N extends string, R extends string>(
  title: T,
  noun: N,
  restart: R,
  /** How `plan show` names the target before its name: "" (App Service, the first kind) or "function app ". */
  mention: string,
) =>
  ({
    title,
    noun,
    mention,
    name: SITE_NAME,
    nameRule: `${noun === 'app' ? 'an App Service app' : `a ${noun}`} name (2–60 letters, digits or hyphens)`,
    strategies: ['in-place', 'slot-swap'],
    /** How `plan show` says the settings change restarts it. */
    restart,
  }) as const;

export const TARGET_KINDS = {
  'app-service': siteKind('an App Service app', 'app', 'the app restarts', ''),
  /**
   * Azure Functions: sites of kind `functionapp` on the same provider. Slots only where the hosting plan has them
   * (not Flex Consumption); the host restarts on a settings change (cold on Consumption plans); host keys stay.
   */
  'function-app': siteKind(
    'a function app',
    'function app',
    'the Functions host restarts (a cold start on a Consumption plan); its host keys and function keys stay as they are',
    'function app ',
  ),
  /**
   * Azure Container Apps (Microsoft.App/containerApps): the key sits in a secret an env var's `secretRef` names.
   * In place, in single-revision mode: the env change makes a new revision, which takes the traffic once it runs.
   * Traffic shift, in multiple-revision mode: the new revision starts at 0 %, then takes the traffic in steps.
   */
  'container-app': {
    title: 'a container app',
    noun: 'container app',
    mention: 'container app ',
    name: /^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$/,
    nameRule: "a container app name (2–32 lower-case letters, digits or single '-', starting with a letter)",
    strategies: ['in-place', 'traffic-shift'],
    restart:
      'a new revision with the identity env vars takes the traffic once it runs, the old revision is deactivated; the secret holding the key stays until the key switch, then is removed',
  },
  /**
   * An Azure Machine Learning workspace connection (Microsoft.MachineLearningServices/workspaces/connections), named
   * `workspace/connection`: an Azure OpenAI connection by key (`ApiKey`) becomes an Entra ID one (`AAD`), used with
   * the workspace's (or compute's) identity. Its "settings" are the connection's fields (azure/targets/ml-connections.ts).
   */
  'ml-connection': {
    title: 'a Machine Learning workspace connection',
    noun: 'connection',
    mention: 'connection ',
    name: /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}\/[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/,
    nameRule: "a workspace and connection name, 'workspace/connection' (each 3–33 letters, digits, '-' or '_')",
    strategies: ['in-place'],
    restart:
      'the connection is rewritten in place: code that opens it afterwards authenticates with the workspace’s (or compute’s) identity',
  },
  /**
   * Azure AI Search (Microsoft.Search/searchServices): the callers are its skillsets' `AzureOpenAIEmbeddingSkill`s
   * and its indexes' `azureOpenAI` vectorizers, whose `apiKey` (or, without one, `authIdentity`) reads as a setting
   * (azure/targets/ai-search-settings.ts). In place: each changed skillset or index is written back.
   */
  'ai-search': {
    title: 'an AI Search service',
    noun: 'search service',
    mention: 'search service ',
    name: /^[a-z0-9](?!.*--)[a-z0-9-]{0,58}[a-z0-9]$/,
    nameRule: "a search service name (2–60 lower-case letters, digits or single '-', not starting or ending with '-')",
    strategies: ['in-place'],
    restart:
      'each changed skillset and index is written back (no restart); indexers pick the change up at their next run',
  },
} as const;

export type TargetKind = keyof typeof TARGET_KINDS;
export const TARGET_KIND_NAMES = Object.keys(TARGET_KINDS) as [TargetKind, ...TargetKind[]];
export const DEFAULT_TARGET_KIND: TargetKind = 'app-service';

/** The caller a plan migrates. */
export interface TargetSpec {
  readonly kind: TargetKind;
  readonly resourceGroup: string;
  readonly name: string;
  readonly slot?: string;
  /**
   * AI Search only: which of the account's keys its skills and vectorizers hold. Azure shows them as `<redacted>`,
   * so the plan says which one a rollback puts back (read again from the account then, never recorded).
   */
  readonly accountKey?: 'key1' | 'key2';
}

/**
 * The target of a plan, also of one recorded before plans named a kind (its `app` is an App Service app): workflow
 * code replays such plans from history, so it reads the target only through this.
 */
export function targetOf(
  plan: { readonly target?: TargetSpec } | { readonly app?: Omit<TargetSpec, 'kind'> },
): TargetSpec {
  if ('target' in plan && plan.target) return plan.target;
  const app = 'app' in plan ? plan.app : undefined;
  if (!app) throw new Error('the plan names no target');
  return { kind: DEFAULT_TARGET_KIND, ...app };
}

/** "claims-bot" or "claims-bot/staging". */
export function targetLabel(target: Pick<TargetSpec, 'name' | 'slot'>): string {
  return target.slot ? `${target.name}/${target.slot}` : target.name;
}

/**
 * ARM id of a target: `/subscriptions/…/providers/Microsoft.Web/sites/<name>[/slots/<slot>]` for App Service and
 * Functions, `…/providers/Microsoft.App/containerApps/<name>` for Container Apps,
 * `…/providers/Microsoft.Search/searchServices/<name>` for AI Search.
 */
export function targetResourceId(
  subscriptionId: string,
  target: Pick<TargetSpec, 'resourceGroup' | 'name' | 'slot'> & { readonly kind?: TargetKind },
): string {
  const kind = target.kind ?? DEFAULT_TARGET_KIND;
  switch (kind) {
    case 'app-service':
    case 'function-app': {
      const base = `/subscriptions/${subscriptionId}/resourceGroups/${target.resourceGroup}/providers/Microsoft.Web/sites/${target.name}`;
      return target.slot ? `${base}/slots/${target.slot}` : base;
    }
    case 'container-app':
      return `/subscriptions/${subscriptionId}/resourceGroups/${target.resourceGroup}/providers/Microsoft.App/containerApps/${target.name}`;
    case 'ml-connection': {
      const [workspace, connection] = target.name.split('/');
      return `/subscriptions/${subscriptionId}/resourceGroups/${target.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}/connections/${connection}`;
    }
    case 'ai-search':
      return `/subscriptions/${subscriptionId}/resourceGroups/${target.resourceGroup}/providers/Microsoft.Search/searchServices/${target.name}`;
  }
}
