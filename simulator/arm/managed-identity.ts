/**
 * The `identity` block ARM resources share (App Service sites and slots, container apps): parsing the type,
 * attaching user-assigned identities (with the linked `assign/action` check ARM makes), creating and deleting the
 * system-assigned principal, and the view a GET answers. Each provider spells the combined type its own way.
 */
import { randomUUID } from 'node:crypto';
import { SimError, isRecord } from '../http';
import { key } from '../model';
import { removeFromGroups } from '../groups';
import { type ArmContext, badRequest } from './router';

/** Whatever carries managed identities: a slot, a container app. */
export interface IdentityHolder {
  systemPrincipalId?: string;
  userAssigned: string[];
}

/** Who the identity belongs to: its resource, the name its system principal gets, the write ARM authorized. */
export interface IdentityOwner {
  resourceId: string;
  principalName: string;
  writeAction: string;
}

function parseIdentityType(raw: unknown): { system: boolean; user: boolean } {
  const parts = typeof raw === 'string' ? raw.split(',').map((s) => s.trim().toLowerCase()) : [];
  const known = new Set(['none', 'systemassigned', 'userassigned']);
  if (parts.length === 0 || parts.some((p) => !known.has(p)) || (parts.includes('none') && parts.length > 1)) {
    throw badRequest(
      `The identity type '${String(raw)}' is invalid. Allowed values are 'None', 'SystemAssigned', 'UserAssigned' and 'SystemAssigned, UserAssigned'.`,
      'InvalidIdentityType',
    );
  }
  return { system: parts.includes('systemassigned'), user: parts.includes('userassigned') };
}

/** Applies an `identity` block of a PUT or PATCH to the holder. */
export function applyIdentity(ctx: ArmContext, holder: IdentityHolder, owner: IdentityOwner, identity: unknown): void {
  if (!isRecord(identity)) throw badRequest("The 'identity' property must be an object.");
  const want = parseIdentityType(identity.type);
  const core = ctx.core;

  let userAssigned = want.user ? [...holder.userAssigned] : [];
  if (want.user) {
    const requested = identity.userAssignedIdentities;
    if (requested !== undefined && requested !== null && !isRecord(requested)) {
      throw badRequest("The 'userAssignedIdentities' property must be an object keyed by identity resource id.");
    }
    for (const [id, value] of Object.entries(requested ?? {})) {
      const existing = userAssigned.find((u) => key(u) === key(id));
      if (value === null) {
        userAssigned = userAssigned.filter((u) => key(u) !== key(id));
        continue;
      }
      if (existing) continue;
      const uami = core.state.identities[key(id)];
      if (!uami)
        throw badRequest(`The user assigned identity '${id}' could not be found.`, 'InvalidUserAssignedIdentity');
      const assign = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';
      if (!ctx.can(assign, uami.id)) {
        throw new SimError(
          403,
          'LinkedAuthorizationFailed',
          `The client '${ctx.caller.appId}' with object id '${ctx.caller.objectId}' has permission to perform action '${owner.writeAction}' on scope '${owner.resourceId}'; however, it does not have permission to perform action(s) '${assign}' on the linked scope(s) '${uami.id}' (respectively) or the linked scope(s) are invalid.`,
        );
      }
      userAssigned.push(uami.id);
    }
    if (userAssigned.length === 0) {
      throw badRequest(
        "The 'userAssignedIdentities' property must name at least one identity when the type includes 'UserAssigned'.",
      );
    }
  }

  if (want.system && !holder.systemPrincipalId) {
    const objectId = randomUUID();
    core.state.principals[objectId] = {
      objectId,
      clientId: randomUUID(),
      tenantId: ctx.subscription!.tenantId,
      name: owner.principalName,
      kind: 'ManagedIdentity',
      createdAt: core.now(),
      resourceId: owner.resourceId,
    };
    holder.systemPrincipalId = objectId;
  } else if (!want.system && holder.systemPrincipalId) {
    // Disabling the system identity deletes its service principal (and so its group memberships); its role
    // assignments dangle.
    removeFromGroups(core.state, holder.systemPrincipalId);
    delete core.state.principals[holder.systemPrincipalId];
    delete holder.systemPrincipalId;
  }
  holder.userAssigned = userAssigned;
}

/** The `identity` of a GET; `separator` joins the combined type (`, ` for App Service, `,` for Container Apps). */
export function identityView(ctx: ArmContext, holder: IdentityHolder, separator = ', ') {
  const types = [
    holder.systemPrincipalId ? 'SystemAssigned' : '',
    holder.userAssigned.length ? 'UserAssigned' : '',
  ].filter(Boolean);
  if (types.length === 0) return undefined;
  const system = holder.systemPrincipalId ? ctx.core.principal(holder.systemPrincipalId) : undefined;
  return {
    type: types.join(separator),
    ...(system ? { tenantId: system.tenantId, principalId: system.objectId } : {}),
    ...(holder.userAssigned.length
      ? {
          userAssignedIdentities: Object.fromEntries(
            holder.userAssigned.map((id) => {
              const u = ctx.core.state.identities[key(id)];
              return [u?.id ?? id, u ? { principalId: u.principalId, clientId: u.clientId } : {}];
            }),
          ),
        }
      : {}),
  };
}
