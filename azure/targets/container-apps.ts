/**
 * Azure Container Apps (Microsoft.App/containerApps, @azure/arm-appcontainers) as a cutover target. Its "settings"
 * are the env vars of its first container: a literal reads as its value, a `secretRef` as the secret's value (read
 * with `listSecrets`), or, for a Key Vault secret, as `@Microsoft.KeyVault(SecretUri=…)` — the same shapes App
 * Service settings have, so snapshots, restores and the key-holder check treat both alike. Writing them changes the
 * template, which makes a new revision: in single-revision mode it takes the traffic once it runs and the old one is
 * deactivated (in place). A value that equals an existing secret's is written as a `secretRef` to it, so a restore
 * brings the env var back exactly as it was; the secret itself is never removed here (it stays until the key switch).
 * Each write names a fresh revision suffix: reusing the template's own would be refused. A traffic shift (multiple-
 * revision mode) makes its revision and moves the traffic in ./container-app-traffic.ts.
 */
import type { ContainerApp, ContainerAppsAPIClient, EnvironmentVar, Secret } from '@azure/arm-appcontainers';
import { targetOf, targetResourceId } from '../../plan/targets';
import type { SiteRef } from '../../contracts/model';
import type { AzureContext } from '../context';
import type { MigrationPlan } from '../../plan/schema';
import type { HostingFinding, TargetAdapter, TargetView } from './adapter';
import { identityViewOf } from './identity-view';

/** How a Key Vault secret of a container app reads among its settings: an App Service Key Vault reference. */
export const keyVaultSetting = (url: string) => `@Microsoft.KeyVault(SecretUri=${url})`;

function view(app: ContainerApp, ref: SiteRef): TargetView {
  const identity = identityViewOf(app.identity);
  const fqdn = app.configuration?.ingress?.fqdn;
  return {
    id: app.id ?? targetResourceId(ref.subscriptionId, ref),
    identity,
    defaultUrl: fqdn ? `https://${fqdn}` : '',
  };
}

/** The env var's value as a setting: its literal, its secret's value, or its Key Vault secret as a reference. */
function settingOf(v: EnvironmentVar, secrets: readonly Secret[]): string | undefined {
  if (v.secretRef === undefined) return v.value ?? '';
  const secret = secrets.find((s) => s.name === v.secretRef);
  if (!secret) return undefined;
  return secret.keyVaultUrl ? keyVaultSetting(secret.keyVaultUrl) : secret.value;
}

/** An env var for a setting: a reference to a secret holding exactly that value when there is one, else a literal. */
function envVarFor(name: string, value: string, secrets: readonly Secret[]): EnvironmentVar {
  const secret = secrets.find((s) => (s.keyVaultUrl ? keyVaultSetting(s.keyVaultUrl) === value : s.value === value));
  return secret?.name ? { name, secretRef: secret.name } : { name, value };
}

/** The app's template with its first container's env set to `settings` (its own revision suffix left as it was). */
export function templateWith(
  app: ContainerApp,
  secrets: readonly Secret[],
  settings: Readonly<Record<string, string>>,
): NonNullable<ContainerApp['template']> {
  const [first, ...others] = app.template?.containers ?? [];
  if (!first) throw new Error(`container app ${app.name} has no container`);
  const env: EnvironmentVar[] = [];
  const seen = new Set<string>();
  for (const v of first.env ?? []) {
    if (!v.name || !(v.name in settings)) continue;
    seen.add(v.name);
    // Unchanged: kept exactly as it is (a secretRef stays a secretRef).
    env.push(settingOf(v, secrets) === settings[v.name] ? v : envVarFor(v.name, settings[v.name], secrets));
  }
  for (const [name, value] of Object.entries(settings)) if (!seen.has(name)) env.push(envVarFor(name, value, secrets));
  return { ...app.template, containers: [{ ...first, env }, ...others] };
}

export async function readApp(client: ContainerAppsAPIClient, ref: Pick<SiteRef, 'resourceGroup' | 'name'>) {
  const [app, secrets] = await Promise.all([
    client.containerApps.get(ref.resourceGroup, ref.name),
    client.containerApps.listSecrets(ref.resourceGroup, ref.name),
  ]);
  return { app, secrets: secrets.value };
}

/** A container app's env vars as settings (see the module comment); the key-holder check reads them too. */
export async function containerAppSettings(
  client: ContainerAppsAPIClient,
  ref: Pick<SiteRef, 'resourceGroup' | 'name'>,
): Promise<Record<string, string>> {
  const { app, secrets } = await readApp(client, ref);
  return settingsOf(app, secrets);
}

/** The first container's env vars as settings. */
export function settingsOf(app: ContainerApp, secrets: readonly Secret[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of app.template?.containers?.[0]?.env ?? []) {
    const value = v.name ? settingOf(v, secrets) : undefined;
    if (v.name && value !== undefined) out[v.name] = value;
  }
  return out;
}

export const lro = (ctx: AzureContext) => ({ updateIntervalInMs: ctx.lroIntervalMs, abortSignal: ctx.signal() });

/** A revision suffix no earlier write used: lower-case, unique per write. */
const freshSuffix = () => `cutover-${Date.now().toString(36)}`;

/**
 * In place needs the new revision to take the traffic: single-revision mode does that, and so does multiple-revision
 * mode when all traffic follows the latest revision. Otherwise the new revision would run at 0 % and the smoke test
 * would test the old one.
 */
async function checkHosting(
  ctx: AzureContext,
  view: TargetView,
  plan: MigrationPlan,
): Promise<readonly HostingFinding[]> {
  const target = targetOf(plan);
  const app = await ctx.clients(plan.subscriptionId).containerApps.containerApps.get(target.resourceGroup, target.name);
  const findings: HostingFinding[] = [];
  if (!view.defaultUrl)
    findings.push({
      problem: `container app ${target.name} has no ingress: the smoke test cannot reach it`,
      hint: 'enable ingress on the app, or migrate it by hand',
    });
  const multiple = app.configuration?.activeRevisionsMode?.toLowerCase() === 'multiple';
  if (plan.strategy.type === 'traffic-shift') return [...findings, ...trafficShiftFindings(app, multiple)];
  if (!multiple) return findings;
  const traffic = app.configuration?.ingress?.traffic ?? [];
  const followsLatest = traffic.every((t) => t.latestRevision === true || !t.weight);
  if (!followsLatest)
    findings.push({
      problem: `container app ${target.name} is in multiple-revision mode with traffic pinned to revisions (${traffic
        .filter((t) => t.weight)
        .map((t) => `${t.revisionName ?? 'latest'} ${t.weight} %`)
        .join(', ')}): in place, its new revision would get no traffic`,
      hint: 'send all traffic to the latest revision (latestRevision: true) or switch the app to single-revision mode first',
    });
  return findings;
}

/** A traffic shift needs revisions side by side (multiple-revision mode) and a revision that serves to shift from. */
function trafficShiftFindings(app: ContainerApp, multiple: boolean): HostingFinding[] {
  const name = app.name ?? '';
  if (!multiple)
    return [
      {
        problem: `container app ${name} is in single-revision mode: a traffic shift needs two revisions side by side`,
        hint: 'set activeRevisionsMode to Multiple first, or use strategy in-place',
      },
    ];
  const traffic = app.configuration?.ingress?.traffic ?? [];
  if (app.configuration?.ingress && !traffic.some((t) => (t.weight ?? 0) > 0))
    return [
      {
        problem: `container app ${name} sends no traffic to any revision: there is nothing to shift from`,
        hint: 'give a revision its traffic (weights summing to 100) first',
      },
    ];
  return [];
}

export const containerApp: TargetAdapter = {
  kind: 'container-app',

  // Container apps carry no Azure `kind` (sites do): nothing else is one.
  isKind: (resourceKind) => resourceKind.toLowerCase() === 'containerapp',

  describe: (ref) => ref.name,

  resourceId: (ref) => targetResourceId(ref.subscriptionId, { ...ref, kind: 'container-app' }),

  async read(ctx, ref) {
    return view(
      await ctx.clients(ref.subscriptionId).containerApps.containerApps.get(ref.resourceGroup, ref.name),
      ref,
    );
  },

  async patchIdentity(ctx, ref, identity) {
    const client = ctx.clients(ref.subscriptionId).containerApps.containerApps;
    const { location } = await client.get(ref.resourceGroup, ref.name);
    // null detaches a user-assigned identity in an ARM PATCH; the SDK's types do not say so.
    const envelope = { location: location ?? '', identity: identity as ContainerApp['identity'] };
    return view(await client.beginUpdateAndWait(ref.resourceGroup, ref.name, envelope, lro(ctx)), ref);
  },

  readSettings: (ctx, ref) => containerAppSettings(ctx.clients(ref.subscriptionId).containerApps, ref),

  async writeSettings(ctx, ref, settings) {
    const { app, secrets } = await readApp(ctx.clients(ref.subscriptionId).containerApps, ref);
    const template = { ...templateWith(app, secrets, settings), revisionSuffix: freshSuffix() };
    await ctx
      .clients(ref.subscriptionId)
      .containerApps.containerApps.beginUpdateAndWait(
        ref.resourceGroup,
        ref.name,
        { location: app.location ?? '', template },
        lro(ctx),
      );
  },

  checkHosting,

  stickySettingNames: () => Promise.resolve([]),

  swap() {
    return Promise.reject(new Error('container apps have no deployment slots to swap'));
  },

  requiredActions: (strategy) => [
    'Microsoft.App/containerApps/read',
    'Microsoft.App/containerApps/write',
    'Microsoft.App/containerApps/listSecrets/action',
    ...(strategy.type === 'traffic-shift'
      ? [
          'Microsoft.App/containerApps/revisions/read',
          'Microsoft.App/containerApps/revisions/activate/action',
          'Microsoft.App/containerApps/revisions/deactivate/action',
        ]
      : []),
  ],
};
