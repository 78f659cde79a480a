/**
 * The wire shapes of Microsoft.App container apps and their revisions (ContainerApps_Get.json, Revisions_Get.json
 * of azure-rest-api-specs): the app with its configuration (secrets by name only — values come from `listSecrets`),
 * ingress FQDN and traffic, template, latest revision names and FQDN; a revision with its own FQDN, template,
 * traffic weight, activity and provisioning state.
 */
import { type ContainerApp, type ContainerAppRevision, key } from '../model';
import { CONTAINER_APPS_PATH, effectiveWeights, latestReadyRevision } from '../container-apps';
import { identityView } from './managed-identity';
import { type ArmContext } from './router';

/** `127.0.0.1:PORT/containerapps/{name}`: the FQDN of an app or (with `--suffix`) of a revision. */
export function fqdnOf(ctx: ArmContext, name: string): string {
  return `${ctx.core.baseUrl.replace(/^https:\/\//, '')}${CONTAINER_APPS_PATH}/${name}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

export function appView(ctx: ArmContext, app: ContainerApp) {
  const identity = identityView(ctx, app, ',');
  const ready = latestReadyRevision(app);
  const { ingress, ...configuration } = app.configuration;
  return {
    id: app.id,
    name: app.name,
    type: 'Microsoft.App/containerApps',
    location: app.location,
    ...(Object.keys(app.tags).length ? { tags: app.tags } : {}),
    ...(identity ? { identity } : {}),
    properties: {
      provisioningState: app.provisioningState,
      runningStatus: 'Running',
      ...app.properties,
      managedEnvironmentId: app.properties.environmentId,
      latestRevisionName: app.latestRevisionName,
      latestRevisionFqdn: fqdnOf(ctx, app.latestRevisionName),
      ...(ready ? { latestReadyRevisionName: ready.name } : {}),
      configuration: {
        ...configuration,
        ...(app.secrets.length
          ? {
              secrets: app.secrets.map((s) => ({
                name: s.name,
                ...(s.keyVaultUrl ? { keyVaultUrl: s.keyVaultUrl, identity: s.identity } : {}),
              })),
            }
          : {}),
        ...(ingress
          ? { ingress: { ...ingress, fqdn: fqdnOf(ctx, app.name), transport: ingress.transport ?? 'auto' } }
          : {}),
      },
      template: app.template,
      eventStreamEndpoint: `https://${key(app.location).replace(/\s+/g, '')}.azurecontainerapps.dev${app.id}/eventstream`,
    },
  };
}

export function revisionView(ctx: ArmContext, app: ContainerApp, rev: ContainerAppRevision) {
  const weight = effectiveWeights(app).get(key(rev.name)) ?? 0;
  const running = rev.active && rev.provisioningState === 'Provisioned';
  return {
    id: `${app.id}/revisions/${rev.name}`,
    name: rev.name,
    type: 'Microsoft.App/containerApps/revisions',
    properties: {
      createdTime: iso(rev.createdAt),
      lastActiveTime: iso(rev.createdAt),
      fqdn: fqdnOf(ctx, rev.name),
      template: rev.template,
      trafficWeight: weight,
      active: rev.active,
      replicas: running ? 1 : 0,
      runningState: running ? 'Running' : rev.provisioningState === 'Failed' ? 'Failed' : 'Stopped',
      provisioningState: rev.provisioningState,
      healthState: running ? 'Healthy' : rev.provisioningState === 'Failed' ? 'Unhealthy' : 'None',
      ...(rev.provisioningError ? { provisioningError: rev.provisioningError } : {}),
    },
  };
}
