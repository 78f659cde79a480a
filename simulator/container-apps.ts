/**
 * Azure Container Apps' data plane, simulated. Each active revision of a container app runs as an instance of the
 * app host (apps.ts, the same workers and front-door proxy App Service slots use), its environment the first
 * container's env with every `secretRef` resolved when the revision starts — a secret's value, or a Key Vault
 * secret read with the identity the secret names — so a changed secret reaches a revision only when it restarts or
 * a new revision is made, as in Azure. The app's FQDN (`/containerapps/{app}`) routes by the ingress traffic
 * weights, request by request in a smooth weighted round robin (20 % is exactly 20 of every 100 requests); a revision's own
 * FQDN (`/containerapps/{app}--{suffix}`) reaches that revision only. Its workers' managed-identity endpoint is the
 * one App Service workers use, answering for the app's identities.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type SimCore } from './core';
import { send } from './http';
import { findVault, readSecret } from './keyvault';
import {
  type ContainerApp,
  type ContainerAppRevision,
  type ContainerAppSecret,
  type Site,
  type SlotState,
  key,
} from './model';

export const CONTAINER_APPS_PATH = '/containerapps';

/** `{app}--{suffix}`: Azure's revision names. */
export const revisionName = (app: string, suffix: string) => `${app}--${suffix}`;

/** A suffix as Azure makes one when the template names none: seven lower-case letters and digits. */
export function newRevisionSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(7), (b) => alphabet[b % alphabet.length]).join('');
}

/** The revisions of an app that serve (or may serve) traffic: active and provisioned. */
export function liveRevisions(app: ContainerApp): ContainerAppRevision[] {
  return Object.values(app.revisions).filter((r) => r.active && r.provisioningState === 'Provisioned');
}

/** The newest provisioned revision: where `latestRevision: true` traffic goes. */
export function latestReadyRevision(app: ContainerApp): ContainerAppRevision | undefined {
  return Object.values(app.revisions)
    .filter((r) => r.provisioningState === 'Provisioned')
    .at(-1);
}

/** The effective weight of each revision (lower-cased name → percent) the app's FQDN routes by. */
export function effectiveWeights(app: ContainerApp): Map<string, number> {
  const out = new Map<string, number>();
  const single = app.configuration.activeRevisionsMode === 'Single';
  const traffic = single ? [{ latestRevision: true, weight: 100 }] : (app.configuration.ingress?.traffic ?? []);
  for (const t of traffic) {
    const name = t.latestRevision ? latestReadyRevision(app)?.name : t.revisionName;
    if (!name) continue;
    out.set(key(name), (out.get(key(name)) ?? 0) + t.weight);
  }
  return out;
}

const runKey = (app: ContainerApp, rev: ContainerAppRevision) => `${key(app.id)}|${key(rev.name)}`;

export class ContainerAppRuntime {
  /** Smooth weighted round robin per app: each revision's running credit. */
  private readonly credit = new Map<string, Map<string, number>>();

  constructor(private readonly core: SimCore) {}

  /** Revisions whose worker was started, by `{app id}|{revision}` (lower case): a reset stops those now gone. */
  private readonly running = new Map<string, { app: ContainerApp; rev: ContainerAppRevision }>();

  /** Starts the worker of every active revision of every app (simulator start, reset), stopping any other. */
  async startAll(): Promise<void> {
    const live = new Set<string>();
    for (const app of Object.values(this.core.state.containerApps ?? {}))
      for (const rev of Object.values(app.revisions)) if (rev.active) live.add(runKey(app, rev));
    await Promise.all([...this.running].filter(([k]) => !live.has(k)).map(([, r]) => this.stop(r.app, r.rev)));
    const waits: Promise<boolean>[] = [];
    for (const app of Object.values(this.core.state.containerApps ?? {}))
      for (const rev of Object.values(app.revisions)) if (rev.active) waits.push(this.start(app, rev));
    await Promise.all(waits);
  }

  /**
   * Starts a revision's worker; resolves true once it listens. A secret it cannot fetch fails the revision
   * (provisioningState Failed, with Azure's message), and no worker starts.
   */
  async start(app: ContainerApp, rev: ContainerAppRevision): Promise<boolean> {
    const resolved = this.environmentOf(app, rev);
    if ('error' in resolved) {
      rev.provisioningState = 'Failed';
      rev.provisioningError = resolved.error;
      this.core.persist();
      return false;
    }
    rev.provisioningState = 'Provisioning';
    this.running.set(runKey(app, rev), { app, rev });
    const ok = await this.core.apps.recycle(this.hostOf(app, rev, resolved.env), rev.name).ready;
    rev.provisioningState = ok ? 'Provisioned' : 'Failed';
    if (!ok) rev.provisioningError = 'The revision did not start.';
    this.core.persist();
    return ok;
  }

  /** Stops a revision's worker (deactivation, or a revision replaced in single-revision mode). */
  stop(app: ContainerApp, rev: ContainerAppRevision): Promise<void> {
    this.running.delete(runKey(app, rev));
    return this.core.apps.retire(this.hostOf(app, rev, {}), rev.name);
  }

  /** Front door: `/containerapps/{app or revision}/…`. */
  proxy(host: string, rest: string, req: IncomingMessage, body: Buffer, res: ServerResponse): number | undefined {
    const found = this.route(host);
    if (!found) {
      send(res, { status: 404, text: 'Container App not found', headers: { 'content-type': 'text/plain' } });
      return 404;
    }
    this.core.apps.proxy(this.hostOf(found.app, found.rev, {}), found.rev.name, rest, req, body, res);
    return undefined;
  }

  /** The app whose worker (by its app-host key) this is, for the managed-identity endpoint. */
  appOfWorker(hostKey: string): ContainerApp | undefined {
    return this.core.state.containerApps?.[hostKey];
  }

  private route(host: string): { app: ContainerApp; rev: ContainerAppRevision } | undefined {
    const apps = Object.values(this.core.state.containerApps ?? {});
    const lower = host.toLowerCase();
    const sep = lower.indexOf('--');
    if (sep > 0) {
      const app = apps.find((a) => key(a.name) === lower.slice(0, sep));
      const rev = app?.revisions[lower];
      return app && rev && rev.active && rev.provisioningState === 'Provisioned' ? { app, rev } : undefined;
    }
    const app = apps.find((a) => key(a.name) === lower);
    if (!app || !app.configuration.ingress) return undefined;
    const weights = [...effectiveWeights(app)].filter(([name, w]) => w > 0 && app.revisions[name]?.active);
    if (weights.length === 0) return undefined;
    // Each request adds every revision's weight to its credit and goes to the one with the most, which pays the
    // total: over any 100 requests each revision gets exactly its percentage, interleaved.
    const credit = this.credit.get(app.id) ?? new Map<string, number>();
    this.credit.set(app.id, credit);
    const total = weights.reduce((s, [, w]) => s + w, 0);
    let best = weights[0][0];
    for (const [name, w] of weights) {
      credit.set(name, (credit.get(name) ?? 0) + w);
      if ((credit.get(name) ?? 0) > (credit.get(best) ?? 0)) best = name;
    }
    credit.set(best, (credit.get(best) ?? 0) - total);
    return { app, rev: app.revisions[best] };
  }

  /** The app as the app host sees it: a "site" whose "slot" is the revision, its settings the revision's env. */
  private hostOf(app: ContainerApp, rev: ContainerAppRevision, env: Record<string, string>): Site {
    const slot: SlotState = {
      name: rev.name,
      settings: { ...env, CONTAINER_APP_NAME: app.name, CONTAINER_APP_REVISION: rev.name },
      userAssigned: app.userAssigned,
      ...(app.systemPrincipalId ? { systemPrincipalId: app.systemPrincipalId } : {}),
      supportsIdentity: rev.supportsIdentity,
      lastModified: rev.createdAt,
    };
    return {
      id: app.id,
      subscriptionId: app.subscriptionId,
      resourceGroup: app.resourceGroup,
      name: app.name,
      location: app.location,
      stickySettingNames: [],
      connectionStringNames: [],
      slots: { [key(rev.name)]: slot },
    };
  }

  /** The first container's environment with its secret references resolved, or why a secret cannot be fetched. */
  private environmentOf(
    app: ContainerApp,
    rev: ContainerAppRevision,
  ): { env: Record<string, string> } | { error: string } {
    const env: Record<string, string> = {};
    for (const v of rev.template.containers[0]?.env ?? []) {
      if (v.secretRef === undefined) {
        env[v.name] = v.value ?? '';
        continue;
      }
      const secret = app.secrets.find((s) => key(s.name) === key(v.secretRef ?? ''));
      if (!secret)
        return {
          error: `SecretRef '${v.secretRef}' defined for container '${rev.template.containers[0].name}' not found.`,
        };
      const value = secret.value ?? this.fetch(app, secret);
      if (typeof value !== 'string') return value;
      env[v.name] = value;
    }
    return { env };
  }

  /** A Key Vault secret, read as the identity the secret names (RBAC on the vault applies). */
  private fetch(app: ContainerApp, secret: ContainerAppSecret): string | { error: string } {
    const unable = {
      error: `Failed to provision revision for container app '${app.name}'. Error details: The following field(s) are either invalid or missing. Field 'configuration.secrets' is invalid with details: 'Invalid value: "${secret.name}": Unable to get value using Managed identity ${secret.identity ?? ''} for secret ${secret.name}'.`,
    };
    const principalId =
      key(secret.identity ?? '') === 'system'
        ? app.systemPrincipalId
        : app.userAssigned.some((u) => key(u) === key(secret.identity ?? ''))
          ? this.core.state.identities[key(secret.identity ?? '')]?.principalId
          : undefined;
    const entry = Object.entries(this.core.vaultUris).find(([, uri]) =>
      key(secret.keyVaultUrl ?? '').startsWith(key(uri)),
    );
    const vault = entry ? findVault(this.core, entry[0]) : undefined;
    if (!principalId || !vault || !entry) return unable;
    const [name, version] = (secret.keyVaultUrl ?? '')
      .slice(entry[1].length)
      .replace(/^secrets\//i, '')
      .split('/');
    const read = readSecret(this.core, vault, principalId, decodeURIComponent(name), version || undefined);
    this.core.record({
      surface: 'keyvault',
      method: 'GET',
      path: `/${vault.name}/secrets/${name}/${version ?? ''}`,
      status: read.ok ? 200 : read.reason === 'denied' ? 403 : 404,
      principal: principalId,
      subscription: vault.subscriptionId,
    });
    return read.ok ? read.version.value : unable;
  }
}
