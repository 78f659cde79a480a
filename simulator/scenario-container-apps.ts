/**
 * Builds a scenario's container app: its identities, secrets (values resolved like app settings, Key Vault secrets
 * as their URL), one container of the image and env given, ingress, and the one revision that template makes.
 */
import { randomUUID } from 'node:crypto';
import { type ContainerApp, type ContainerAppEnvVar, type ContainerAppSecret, containerAppId, key } from './model';
import { newRevisionSuffix, revisionName } from './container-apps';
import type { ContainerAppSpec, SettingValueSpec } from './scenario-schema';

type SecretSpec = NonNullable<ContainerAppSpec['secrets']>[number];
type ReferenceSpec = Extract<SecretSpec, { keyVaultReference: unknown }>['keyVaultReference'];

export interface ContainerAppBuild {
  now: number;
  resolveSetting: (v: SettingValueSpec, where: string) => string;
  /** A user-assigned identity's ARM id by name. */
  uami: (name: string, where: string) => string;
  addPrincipal: (objectId: string, name: string, resourceId: string) => void;
  keyVaultUrl: (ref: ReferenceSpec, where: string) => string;
  fail: (msg: string) => never;
}

/** A scenario resource's managed identities: its system principal (made now) and its user-assigned identities. */
export function buildIdentity(
  spec: { name: string; identity?: ContainerAppSpec['identity'] },
  id: string,
  where: string,
  b: Pick<ContainerAppBuild, 'uami' | 'addPrincipal' | 'fail'>,
): { systemPrincipalId?: string; userAssigned: string[] } {
  const out: { systemPrincipalId?: string; userAssigned: string[] } = { userAssigned: [] };
  const type = spec.identity?.type ?? 'None';
  if (type.includes('SystemAssigned')) {
    out.systemPrincipalId = randomUUID();
    b.addPrincipal(out.systemPrincipalId, spec.name, id);
  }
  if (type.includes('UserAssigned')) {
    out.userAssigned = (spec.identity?.userAssigned ?? []).map((u) => b.uami(u, `${where}.identity`));
    if (out.userAssigned.length === 0) b.fail(`${where}.identity: UserAssigned needs userAssigned`);
  }
  return out;
}

export function buildContainerApp(
  p: { spec: ContainerAppSpec; subscriptionId: string; resourceGroup: string; location: string },
  b: ContainerAppBuild,
): ContainerApp {
  const { spec } = p;
  const id = containerAppId(p.subscriptionId, p.resourceGroup, spec.name);
  const where = `container app ${spec.name}`;
  const app: ContainerApp = {
    id,
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    name: spec.name,
    location: spec.location ?? p.location,
    userAssigned: [],
    secrets: [],
    configuration: {
      activeRevisionsMode: spec.revisionsMode ?? 'Single',
      ingress: {
        external: spec.ingress?.external ?? true,
        targetPort: spec.ingress?.targetPort ?? 8080,
        transport: 'auto',
        traffic: [{ latestRevision: true, weight: 100 }],
      },
    },
    template: { containers: [] },
    properties: {
      environmentId: `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.App/managedEnvironments/${spec.environment ?? 'aca-env'}`,
      workloadProfileName: 'Consumption',
    },
    revisions: {},
    latestRevisionName: '',
    supportsIdentity: spec.supportsIdentity ?? true,
    tags: spec.tags ?? {},
    provisioningState: 'Succeeded',
  };
  Object.assign(app, buildIdentity(spec, id, where, b));
  for (const s of spec.secrets ?? []) {
    const at = `${where}.secrets.${s.name}`;
    if (app.secrets.some((x) => x.name === s.name)) b.fail(`${at}: the name is used twice`);
    let secret: ContainerAppSecret;
    if ('value' in s) secret = { name: s.name, value: b.resolveSetting(s.value, at) };
    else {
      const system = key(s.identity) === 'system';
      const identity = system ? 'system' : b.uami(s.identity, `${at}.identity`);
      if (system ? !app.systemPrincipalId : !app.userAssigned.includes(identity))
        b.fail(`${at}.identity: the app does not have identity '${s.identity}'`);
      secret = { name: s.name, keyVaultUrl: b.keyVaultUrl(s.keyVaultReference, at), identity };
    }
    app.secrets.push(secret);
  }
  const env: ContainerAppEnvVar[] = Object.entries(spec.env ?? {}).map(([name, v]) => {
    if (typeof v === 'object' && 'secretRef' in v) {
      if (!app.secrets.some((s) => s.name === v.secretRef)) b.fail(`${where}.env.${name}: no secret '${v.secretRef}'`);
      return { name, secretRef: v.secretRef };
    }
    return { name, value: b.resolveSetting(v, `${where}.env.${name}`) };
  });
  const revisionSuffix = spec.revisionSuffix ?? newRevisionSuffix();
  app.template = {
    ...(spec.revisionSuffix ? { revisionSuffix } : {}),
    containers: [
      {
        name: spec.name,
        image: spec.image ?? 'contoso.azurecr.io/claims-bot:1',
        env,
        resources: { cpu: 0.5, memory: '1Gi' },
      },
    ],
    scale: { minReplicas: 1, maxReplicas: 10 },
  };
  const rev = revisionName(spec.name, revisionSuffix);
  app.revisions[key(rev)] = {
    name: rev,
    createdAt: b.now - 24 * 3600_000,
    template: structuredClone(app.template),
    active: true,
    supportsIdentity: app.supportsIdentity,
    provisioningState: 'Provisioning',
  };
  app.latestRevisionName = rev;
  return app;
}
