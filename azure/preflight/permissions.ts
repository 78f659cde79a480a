/**
 * The worker's own permissions: its role assignments on each resource it will change (inherited ones included) and
 * their definitions, so a missing role fails here and not halfway through the migration.
 */
import { type MigrationPlan, targetOf } from '../../plan/schema';
import type { AzureContext } from '../context';
import { roleDefinitionById } from '../role-definitions';
import { azureErrorInfo, isTransient, toFailure } from '../errors';
import { accountResourceId, allows, authorizationScope, type PermissionLike, subscriptionOf } from '../resources';
import type { TargetAdapter } from '../targets';
import type { Findings } from './findings';

interface Need {
  readonly resource: string;
  readonly scope: string;
  readonly actions: readonly string[];
}

/** What the plan will do, as ARM actions per resource. */
export function requiredPermissions(plan: MigrationPlan, adapter: TargetAdapter): Need[] {
  const target = targetOf(plan);
  const needs: Need[] = [
    {
      resource: `app ${target.name}`,
      scope: adapter.resourceId({
        subscriptionId: plan.subscriptionId,
        resourceGroup: target.resourceGroup,
        name: target.name,
      }),
      actions: adapter.requiredActions(plan.strategy),
    },
    {
      resource: `account ${plan.account.name}`,
      scope: accountResourceId(plan.account),
      actions: [
        'Microsoft.CognitiveServices/accounts/read',
        'Microsoft.CognitiveServices/accounts/listKeys/action',
        'Microsoft.Authorization/roleAssignments/write',
        'Microsoft.Authorization/roleAssignments/delete',
        ...(plan.localAuth.disable ? ['Microsoft.CognitiveServices/accounts/write'] : []),
      ],
    },
  ];
  if (plan.identity.type === 'user-assigned' && plan.identity.resourceId)
    needs.push({
      resource: `identity ${plan.identity.resourceId.split('/').pop()}`,
      scope: plan.identity.resourceId,
      actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'],
    });
  return needs;
}

export async function checkPermissions(
  ctx: AzureContext,
  needs: readonly Need[],
  objectId: string | undefined,
  f: Findings,
): Promise<void> {
  if (!objectId) {
    f.warn('could not tell which principal the worker signs in as: its permissions were not checked');
    return;
  }
  const definitions = new Map<string, PermissionLike[]>();
  for (const need of needs) {
    const { authorization } = ctx.clients(subscriptionOf(need.scope));
    const permissions: PermissionLike[] = [];
    try {
      for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(need.scope), {
        filter: `assignedTo('${objectId}')`,
      })) {
        const defId = ra.roleDefinitionId ?? '';
        if (!definitions.has(defId))
          definitions.set(defId, (await roleDefinitionById(authorization, defId)).permissions ?? []);
        permissions.push(...definitions.get(defId)!);
      }
    } catch (err) {
      const info = azureErrorInfo(err);
      if (isTransient(info)) throw toFailure(`reading the worker's roles on ${need.resource}`, err);
      if (info.statusCode === 403)
        f.problem(
          'permissions',
          `the worker may not even read its role assignments on ${need.resource}`,
          'grant the worker the roles listed in the README',
        );
      else
        f.warn(
          `could not check the worker's permissions on ${need.resource} (${info.statusCode} ${info.code ?? ''})`.trim(),
        );
      continue;
    }
    const missing = need.actions.filter((a) => !allows(permissions, a));
    if (missing.length > 0)
      f.problem(
        'permissions',
        `the worker may not ${missing.join(', ')} on ${need.resource}`,
        'grant the worker the roles listed in the README (Website Contributor on the app, Cognitive Services Contributor and Role Based Access Control Administrator on the account, Managed Identity Operator on a user-assigned identity)',
      );
  }
}
