/**
 * A container app's revisions, traffic and secrets as a traffic shift (multiple-revision mode) changes them: a new
 * revision made at 0 % traffic, the traffic moved by weights, revisions activated or deactivated, and the secret
 * that held the key removed after the key switch (restored on rollback with a value the caller reads again from
 * the account). Each call is idempotent: it reads first and writes only what differs.
 */
import type { ContainerAppsAPIClient, Secret, TrafficWeight } from '@azure/arm-appcontainers';
import type { SiteRef } from '../../contracts/model';
import { pinned, type TrafficBefore, type TrafficEntry, trafficAt } from '../../contracts/traffic';
import type { AzureContext } from '../context';
import { statusOf } from '../errors';
import { lro, readApp, settingsOf, templateWith } from './container-apps';

const client = (ctx: AzureContext, ref: SiteRef): ContainerAppsAPIClient =>
  ctx.clients(ref.subscriptionId).containerApps;

/** `{app}--{suffix}`: Azure's revision names. */
export const revisionNameOf = (app: string, suffix: string) => `${app}--${suffix}`;

const entryOf = (t: TrafficWeight): TrafficEntry => ({
  ...(t.revisionName ? { revisionName: t.revisionName } : {}),
  ...(t.latestRevision ? { latestRevision: true } : {}),
  weight: t.weight ?? 0,
  ...(t.label ? { label: t.label } : {}),
});

/** The traffic and revisions as they are: what a traffic shift's rollback puts back. */
export async function readTraffic(ctx: AzureContext, ref: SiteRef): Promise<TrafficBefore> {
  const c = client(ctx, ref);
  const app = await c.containerApps.get(ref.resourceGroup, ref.name);
  const activeRevisions: string[] = [];
  for await (const r of c.containerAppsRevisions.listRevisions(ref.resourceGroup, ref.name))
    if (r.active && r.name) activeRevisions.push(r.name);
  return {
    traffic: (app.configuration?.ingress?.traffic ?? []).map(entryOf),
    latestRevisionName: app.latestRevisionName ?? '',
    activeRevisions,
  };
}

async function revisionExists(c: ContainerAppsAPIClient, ref: SiteRef, revision: string): Promise<boolean> {
  try {
    await c.containerAppsRevisions.getRevision(ref.resourceGroup, ref.name, revision);
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

/**
 * Makes revision `{app}--{suffix}` of the current template with the settings changed, at 0 % traffic: in the same
 * write every traffic entry is pinned to the revision it reaches now, so the new revision (the latest) gets none.
 * Returns its name and its own FQDN. A second call finds the revision and writes nothing.
 */
export async function createRevision(
  ctx: AzureContext,
  ref: SiteRef,
  input: {
    readonly suffix: string;
    readonly before: TrafficBefore;
    readonly remove: readonly string[];
    readonly set: Readonly<Record<string, string>>;
  },
): Promise<{ revision: string; fqdn: string }> {
  const c = client(ctx, ref);
  const revision = revisionNameOf(ref.name, input.suffix);
  if (!(await revisionExists(c, ref, revision))) {
    const { app, secrets } = await readApp(c, ref);
    const settings = settingsOf(app, secrets);
    for (const name of input.remove) delete settings[name];
    Object.assign(settings, input.set);
    const template = { ...templateWith(app, secrets, settings), revisionSuffix: input.suffix };
    const ingress = { ...app.configuration?.ingress, traffic: trafficAt(input.before, revision, 0) };
    await c.containerApps.beginUpdateAndWait(
      ref.resourceGroup,
      ref.name,
      { location: app.location ?? '', template, configuration: { ingress } },
      lro(ctx),
    );
  }
  const made = await c.containerAppsRevisions.getRevision(ref.resourceGroup, ref.name, revision);
  return { revision, fqdn: made.fqdn ?? '' };
}

const sameTraffic = (a: readonly TrafficEntry[], b: readonly TrafficEntry[]) => JSON.stringify(a) === JSON.stringify(b);

/** Writes `ingress.traffic` as given (a shift step, or the rollback's weights from before). */
export async function setTraffic(ctx: AzureContext, ref: SiteRef, traffic: readonly TrafficEntry[]): Promise<void> {
  const c = client(ctx, ref);
  const app = await c.containerApps.get(ref.resourceGroup, ref.name);
  if (sameTraffic((app.configuration?.ingress?.traffic ?? []).map(entryOf), traffic)) return;
  const ingress = { ...app.configuration?.ingress, traffic: traffic.map((t) => ({ ...t })) };
  await c.containerApps.beginUpdateAndWait(
    ref.resourceGroup,
    ref.name,
    { location: app.location ?? '', configuration: { ingress } },
    lro(ctx),
  );
}

/**
 * Compensation: the traffic as `before` recorded it — as it was to the letter while `revision` does not exist, else
 * each entry pinned to the revision it reached (a `latestRevision` entry would now reach the new revision).
 */
export async function restoreTraffic(
  ctx: AzureContext,
  ref: SiteRef,
  before: TrafficBefore,
  revision: string,
): Promise<void> {
  const made = await revisionExists(client(ctx, ref), ref, revision);
  await setTraffic(ctx, ref, made ? pinned(before) : before.traffic);
}

/** Activates or deactivates revisions; one already so (or, to deactivate, gone) is left alone. */
export async function setRevisionsActive(
  ctx: AzureContext,
  ref: SiteRef,
  revisions: readonly string[],
  active: boolean,
): Promise<void> {
  const c = client(ctx, ref);
  for (const name of revisions) {
    let now: boolean | undefined;
    try {
      now = (await c.containerAppsRevisions.getRevision(ref.resourceGroup, ref.name, name)).active;
    } catch (err) {
      if (statusOf(err) === 404 && !active) continue;
      throw err;
    }
    if (now === active) continue;
    if (active) await c.containerAppsRevisions.activateRevision(ref.resourceGroup, ref.name, name);
    else await c.containerAppsRevisions.deactivateRevision(ref.resourceGroup, ref.name, name);
  }
}

/**
 * The secrets that env vars named `settings` referenced in some revision and that nothing still uses: no env var
 * of the current template nor of an active revision names them. Read-only.
 */
export async function unusedKeySecrets(
  ctx: AzureContext,
  ref: SiteRef,
  settings: readonly string[],
): Promise<{ secret: string; setting: string }[]> {
  const c = client(ctx, ref);
  const app = await c.containerApps.get(ref.resourceGroup, ref.name);
  const inUse = new Set<string>();
  const held = new Map<string, string>();
  const envOf = (t: typeof app.template) => t?.containers?.flatMap((x) => x.env ?? []) ?? [];
  for (const v of envOf(app.template)) if (v.secretRef) inUse.add(v.secretRef);
  for await (const r of c.containerAppsRevisions.listRevisions(ref.resourceGroup, ref.name))
    for (const v of envOf(r.template)) {
      if (!v.secretRef) continue;
      if (r.active) inUse.add(v.secretRef);
      if (v.name && settings.includes(v.name)) held.set(v.secretRef, v.name);
    }
  const existing = new Set((app.configuration?.secrets ?? []).map((s) => s.name));
  return [...held]
    .filter(([secret]) => !inUse.has(secret) && existing.has(secret))
    .map(([secret, setting]) => ({ secret, setting }));
}

/** Writes the app's secrets as `change` makes them of the current ones (values as `listSecrets` gives them). */
async function writeSecrets(
  ctx: AzureContext,
  ref: SiteRef,
  change: (secrets: Secret[]) => Secret[] | undefined,
): Promise<void> {
  const c = client(ctx, ref);
  const { app, secrets } = await readApp(c, ref);
  const next = change([...secrets]);
  if (!next) return;
  const configuration = { secrets: next.map((s) => ({ ...s })) };
  await c.containerApps.beginUpdateAndWait(
    ref.resourceGroup,
    ref.name,
    { location: app.location ?? '', configuration },
    lro(ctx),
  );
}

/** Removes secrets by name (already gone: nothing to do). */
export function removeSecrets(ctx: AzureContext, ref: SiteRef, names: readonly string[]): Promise<void> {
  return writeSecrets(ctx, ref, (secrets) =>
    secrets.some((s) => s.name && names.includes(s.name))
      ? secrets.filter((s) => !names.includes(s.name ?? ''))
      : undefined,
  );
}

/** Puts a secret back with `value` (there already: nothing to do). */
export function restoreSecret(ctx: AzureContext, ref: SiteRef, name: string, value: string): Promise<void> {
  return writeSecrets(ctx, ref, (secrets) =>
    secrets.some((s) => s.name === name) ? undefined : [...secrets, { name, value }],
  );
}
