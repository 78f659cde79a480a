/**
 * Microsoft Entra security groups as Azure RBAC sees them: a role assignment to a group applies to every member,
 * transitively (members of member groups too), with membership read at request time. Members are service
 * principals, managed identities (user-assigned or a site/slot's system-assigned one) or other groups of the same
 * tenant; a group cannot contain itself, directly or through other groups.
 */
import { type Group, type Principal, type SimState, PRODUCTION, key } from './model';

/** How a scenario (or `control.setGroupMembers`) names a member. */
export type MemberSpec =
  | string
  | { identity: string; resourceGroup?: string }
  | { site: string; slot?: string }
  | { group: string }
  | { objectId: string };

export function groupByName(state: SimState, name: string): Group | undefined {
  const n = name.toLowerCase();
  return Object.values(state.groups ?? {}).find((g) => g.name.toLowerCase() === n);
}

export function groupById(state: SimState, objectId: string): Group | undefined {
  const id = objectId.toLowerCase();
  return Object.values(state.groups ?? {}).find((g) => g.objectId.toLowerCase() === id);
}

/** A group by objectId or display name. */
export function findGroup(state: SimState, nameOrId: string): Group | undefined {
  return groupById(state, nameOrId) ?? groupByName(state, nameOrId);
}

function principalByName(state: SimState, name: string): Principal | undefined {
  const n = name.toLowerCase();
  return Object.values(state.principals).find((p) => p.name.toLowerCase() === n);
}

function uamiPrincipal(
  state: SimState,
  nameOrId: string,
  resourceGroup: string | undefined,
  fail: (m: string) => never,
) {
  const found = nameOrId.startsWith('/')
    ? state.identities[key(nameOrId.replace(/\/+$/, ''))]
    : Object.values(state.identities).find(
        (u) =>
          u.name.toLowerCase() === nameOrId.toLowerCase() &&
          (resourceGroup === undefined || u.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()),
      );
  if (!found)
    return fail(
      `unknown user-assigned identity '${nameOrId}'${resourceGroup !== undefined ? ` in resource group '${resourceGroup}'` : ''}`,
    );
  return found.principalId;
}

/** The objectId a member spec names (a principal or a group); `fail` throws. */
export function resolveMember(state: SimState, spec: MemberSpec, fail: (m: string) => never): string {
  if (typeof spec === 'string') {
    if (spec.startsWith('/')) return uamiPrincipal(state, spec, undefined, fail);
    const p = principalByName(state, spec);
    const g = groupByName(state, spec);
    if (p && g) return fail(`'${spec}' names both a principal and a group`);
    if (p) return p.objectId;
    if (g) return g.objectId;
    return fail(`unknown principal or group '${spec}'`);
  }
  if ('identity' in spec) return uamiPrincipal(state, spec.identity, spec.resourceGroup, fail);
  if ('site' in spec) {
    const site = Object.values(state.sites).find((s) => s.name.toLowerCase() === spec.site.toLowerCase());
    if (!site) return fail(`unknown site '${spec.site}'`);
    const slotName = (spec.slot ?? PRODUCTION).toLowerCase();
    const slot = site.slots[slotName];
    if (!slot) return fail(`site '${site.name}' has no slot '${spec.slot ?? PRODUCTION}'`);
    if (!slot.systemPrincipalId)
      return fail(
        `site '${site.name}'${slotName === PRODUCTION ? '' : ` slot '${slotName}'`} has no system-assigned identity`,
      );
    return slot.systemPrincipalId;
  }
  if ('group' in spec) return (groupByName(state, spec.group) ?? fail(`unknown group '${spec.group}'`)).objectId;
  const id = spec.objectId.toLowerCase();
  const hit =
    Object.values(state.principals).find((p) => p.objectId.toLowerCase() === id) ??
    Object.values(state.groups ?? {}).find((g) => g.objectId.toLowerCase() === id);
  return (hit ?? fail(`no principal or group with objectId '${spec.objectId}'`)).objectId;
}

/** The tenant of a principal or group, by objectId. */
function tenantOf(state: SimState, objectId: string): string | undefined {
  return state.principals[objectId]?.tenantId ?? state.groups?.[objectId]?.tenantId;
}

/**
 * Replaces a group's members (objectIds): every member must exist in the group's tenant, and the group must not
 * end up containing itself. Leaves the group untouched when it fails.
 */
export function setMembers(state: SimState, group: Group, members: string[], fail: (m: string) => never): void {
  const unique = [...new Set(members)];
  for (const m of unique) {
    const tenant = tenantOf(state, m);
    if (tenant === undefined) fail(`group '${group.name}': no principal or group '${m}'`);
    if (tenant !== group.tenantId)
      fail(`group '${group.name}': member '${nameOf(state, m)}' belongs to another tenant (${tenant})`);
    if (m === group.objectId) fail(`group '${group.name}' cannot be a member of itself`);
  }
  const previous = group.members;
  group.members = unique;
  if (groupsOf(state, group.objectId).has(group.objectId)) {
    group.members = previous;
    fail(`group '${group.name}': the membership would make it a member of itself (a cycle)`);
  }
}

/** A principal's or group's name, for messages. */
export function nameOf(state: SimState, objectId: string): string {
  return state.principals[objectId]?.name ?? state.groups?.[objectId]?.name ?? objectId;
}

/** The groups `objectId` is a member of, directly or through other groups (objectIds). */
export function groupsOf(state: SimState, objectId: string): Set<string> {
  const groups = Object.values(state.groups ?? {});
  const out = new Set<string>();
  const queue = [objectId.toLowerCase()];
  while (queue.length) {
    const current = queue.shift() as string;
    for (const g of groups) {
      if (out.has(g.objectId) || !g.members.some((m) => m.toLowerCase() === current)) continue;
      out.add(g.objectId);
      queue.push(g.objectId.toLowerCase());
    }
  }
  return out;
}

/**
 * Every objectId whose role assignments apply to `objectId` now: itself and its groups (transitively), lower-cased.
 */
export function effectivePrincipalIds(state: SimState, objectId: string): Set<string> {
  return new Set([objectId.toLowerCase(), ...[...groupsOf(state, objectId)].map((g) => g.toLowerCase())]);
}

/** Removes a principal (being deleted, e.g. a system-assigned identity switched off) from every group. */
export function removeFromGroups(state: SimState, objectId: string): void {
  for (const g of Object.values(state.groups ?? {})) g.members = g.members.filter((m) => m !== objectId);
}
