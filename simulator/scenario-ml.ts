/**
 * Builds a scenario's Machine Learning workspace: its identities (system- and user-assigned, the primary one), its
 * connections (target, key and metadata resolved like app settings) and its computes with identities of their own.
 */
import { key } from './model';
import { type MlCompute, type MlWorkspace, mlWorkspaceId } from './ml-model';
import type { MlWorkspaceSpec } from './scenario-schema';
import { type ResourceBuild, buildIdentities, placed } from './scenario-identities';

export type MlWorkspaceBuild = ResourceBuild;

export function buildMlWorkspace(
  p: { spec: MlWorkspaceSpec; subscriptionId: string; resourceGroup: string; location: string },
  b: MlWorkspaceBuild,
): MlWorkspace {
  const { spec } = p;
  const id = mlWorkspaceId(p.subscriptionId, p.resourceGroup, spec.name);
  const where = `ML workspace ${spec.name}`;
  const ws: MlWorkspace = {
    ...placed(p, id),
    connections: {},
    computes: {},
    tags: spec.tags ?? {},
  };
  buildIdentities(ws, spec.identity, { name: spec.name, id, where }, b);
  if (spec.primaryUserAssignedIdentity) {
    const primary = b.uami(spec.primaryUserAssignedIdentity, `${where}.primaryUserAssignedIdentity`);
    if (!ws.userAssigned.includes(primary))
      b.fail(`${where}.primaryUserAssignedIdentity: not one of the workspace's user-assigned identities`);
    ws.primaryUserAssignedIdentity = primary;
  }
  for (const c of spec.connections ?? []) {
    const at = `${where}.connections.${c.name}`;
    if (ws.connections[key(c.name)]) b.fail(`${at}: the name is used twice`);
    if ((c.authType === 'ApiKey') !== (c.key !== undefined))
      b.fail(`${at}: a key goes with authType ApiKey, and only there`);
    ws.connections[key(c.name)] = {
      name: c.name,
      authType: c.authType,
      category: c.category,
      target: b.resolveSetting(c.target, `${at}.target`),
      ...(c.key !== undefined ? { credentials: { key: b.resolveSetting(c.key, `${at}.key`) } } : {}),
      metadata: Object.fromEntries(
        Object.entries(c.metadata ?? {}).map(([k, v]) => [k, b.resolveSetting(v, `${at}.metadata.${k}`)]),
      ),
      extra: {},
      createdAt: b.now,
      modifiedAt: b.now,
    };
  }
  for (const c of spec.computes ?? []) {
    const compute: MlCompute = { name: c.name, computeType: c.computeType, userAssigned: [] };
    buildIdentities(
      compute,
      c.identity,
      { name: `${spec.name}/computes/${c.name}`, id: `${id}/computes/${c.name}`, where: `${where}.computes.${c.name}` },
      b,
    );
    ws.computes[key(c.name)] = compute;
  }
  return ws;
}
