/** A scenario resource's managed identities (container apps, ML workspaces and computes): built the same way. */
import { randomUUID } from 'node:crypto';
import type { SettingValueSpec } from './scenario-schema';

export interface IdentityBuild {
  /** A user-assigned identity's ARM id by name. */
  uami: (name: string, where: string) => string;
  addPrincipal: (objectId: string, name: string, resourceId: string) => void;
  fail: (msg: string) => never;
}

/** Gives `holder` the system-assigned identity (a new principal named `owner.name`) and the user-assigned ones. */
export function buildIdentities(
  holder: { systemPrincipalId?: string; userAssigned: string[] },
  spec: { readonly type: string; readonly userAssigned?: readonly string[] } | undefined,
  owner: { name: string; id: string; where: string },
  b: IdentityBuild,
): void {
  const type = spec?.type ?? 'None';
  if (type.includes('SystemAssigned')) {
    holder.systemPrincipalId = randomUUID();
    b.addPrincipal(holder.systemPrincipalId, owner.name, owner.id);
  }
  if (type.includes('UserAssigned')) {
    holder.userAssigned = (spec?.userAssigned ?? []).map((u) => b.uami(u, `${owner.where}.identity`));
    if (holder.userAssigned.length === 0) b.fail(`${owner.where}.identity: UserAssigned needs userAssigned`);
  }
}

/** What a scenario's resource builder gets besides identities: the load's time and the setting resolver. */
export interface ResourceBuild extends IdentityBuild {
  now: number;
  resolveSetting: (v: SettingValueSpec, where: string) => string;
}

/** Where a scenario resource sits: the fields every built resource starts with (no identities yet). */
export function placed(
  p: { spec: { name: string; location?: string }; subscriptionId: string; resourceGroup: string; location: string },
  id: string,
) {
  return {
    id,
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    name: p.spec.name,
    location: p.spec.location ?? p.location,
    userAssigned: [] as string[],
  };
}
