/**
 * Role assignments on the account: created under a deterministic name (so a retry never makes a second one), an
 * existing equivalent assignment found from Azure's own listing, and deleted only when this migration created it.
 */
import type { AuthorizationManagementClient } from '@azure/arm-authorization';
import type { RoleAssignmentResult } from '../contracts/model';
import type { AzureContext } from './context';
import { codeOf, statusOf, toFailure } from './errors';
import { roleDefinitionById } from './role-definitions';
import { authorizationScope, roleAssignmentName, subscriptionOf } from './resources';

const ROLE_ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments/';

function lastSegment(id: string | undefined): string {
  return (id ?? '').split('/').pop()?.toLowerCase() ?? '';
}

export interface RoleGrant {
  readonly scope: string;
  readonly principalId: string;
  readonly roleDefinitionId: string;
}

export async function assignRole(ctx: AzureContext, input: RoleGrant): Promise<RoleAssignmentResult> {
  const scope = authorizationScope(input.scope);
  const name = roleAssignmentName(input.scope, input.principalId, input.roleDefinitionId);
  const { authorization } = ctx.clients(subscriptionOf(input.scope));
  const result = (id: string, ours: boolean): RoleAssignmentResult => ({
    roleAssignmentId: id,
    name: lastSegment(id),
    scope: input.scope,
    principalId: input.principalId,
    ours,
  });
  try {
    const ra = await authorization.roleAssignments.create(scope, name, {
      roleDefinitionId: input.roleDefinitionId,
      principalId: input.principalId,
      principalType: 'ServicePrincipal',
      description: 'cutover: managed identity access to Azure OpenAI',
    });
    return result(ra.id ?? `${input.scope}${ROLE_ASSIGNMENTS}${name}`, true);
  } catch (err) {
    if (statusOf(err) !== 409 || codeOf(err) !== 'RoleAssignmentExists')
      throw toFailure(`assigning the role to principal ${input.principalId}`, err);
  }
  // The same grant exists under another name: find it in Azure's listing (not in the error's text).
  const existing = await findAssignment(ctx, input).catch((err: unknown) => {
    throw toFailure(`finding the existing role assignment of principal ${input.principalId}`, err);
  });
  return result(existing ?? `${input.scope}${ROLE_ASSIGNMENTS}unknown`, false);
}

/** The id of the assignment of this role to this principal made at exactly this scope, if any. */
async function findAssignment(ctx: AzureContext, grant: RoleGrant): Promise<string | undefined> {
  const { authorization } = ctx.clients(subscriptionOf(grant.scope));
  const role = lastSegment(grant.roleDefinitionId);
  for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(grant.scope), {
    filter: `assignedTo('${grant.principalId}')`,
  })) {
    if (
      lastSegment(ra.roleDefinitionId) === role &&
      authorizationScope(ra.scope ?? '').toLowerCase() === authorizationScope(grant.scope).toLowerCase() &&
      ra.id
    )
      return ra.id;
  }
  return undefined;
}

/** Compensation: delete the assignment this migration created (its deterministic name), never another. */
export async function deleteRoleAssignment(
  ctx: AzureContext,
  input: RoleGrant & { readonly preExistingNames: readonly string[] },
): Promise<{ deleted: boolean }> {
  const name = roleAssignmentName(input.scope, input.principalId, input.roleDefinitionId);
  if (input.preExistingNames.map((n) => n.toLowerCase()).includes(name)) return { deleted: false };
  const { authorization } = ctx.clients(subscriptionOf(input.scope));
  try {
    const res = await authorization.roleAssignments.delete(authorizationScope(input.scope), name);
    return { deleted: !!res?.id };
  } catch (err) {
    if (statusOf(err) === 404) return { deleted: false };
    throw toFailure(`deleting role assignment ${name}`, err);
  }
}

/** A role definition as the access checks read it: its name and its data actions. */
export interface RoleDataActions {
  readonly name: string;
  readonly dataActions: readonly string[];
}

/** Reads role definitions by id, each once per reader (assignments of one role repeat across scopes). */
export function roleDefinitionReader(): (
  authorization: AuthorizationManagementClient,
  roleDefinitionId: string,
) => Promise<RoleDataActions> {
  const cache = new Map<string, Promise<RoleDataActions>>();
  return (authorization, id) => {
    let role = cache.get(id.toLowerCase());
    if (!role) {
      role = roleDefinitionById(authorization, id).then((def) => ({
        name: def.roleName ?? id,
        dataActions: (def.permissions ?? []).flatMap((p) => p.dataActions ?? []),
      }));
      cache.set(id.toLowerCase(), role);
    }
    return role;
  };
}
