/**
 * Microsoft.Resources subscriptions as `@azure/arm-resources-subscriptions` reads them: `GET /subscriptions` and
 * `GET /subscriptions/{id}`. Like ARM, a caller sees the subscriptions of its token's tenant in which it holds a
 * role assignment at the subscription or anywhere below it: a role on one resource group is enough to see the
 * subscription (though not to list its resources at subscription scope).
 */
import { type SimResponse } from '../http';
import { type Subscription, key } from '../model';
import { effectivePrincipalIds } from '../groups';
import { scopeCovers } from '../rbac';
import { type ArmContext, type ArmRoute, SUB, authorizationFailed } from './router';

const READ = 'Microsoft.Resources/subscriptions/read';

function visible(ctx: ArmContext, sub: Subscription): boolean {
  if (sub.tenantId !== ctx.caller.tenantId) return false;
  const scope = `/subscriptions/${sub.id}`;
  const ids = effectivePrincipalIds(ctx.core.state, ctx.caller.objectId);
  return Object.values(ctx.core.state.roleAssignments).some(
    (ra) => ids.has(ra.principalId.toLowerCase()) && (scopeCovers(ra.scope, scope) || scopeCovers(scope, ra.scope)),
  );
}

function subscriptionView(sub: Subscription) {
  return {
    id: `/subscriptions/${sub.id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: (sub.managedByTenants ?? []).map((tenantId) => ({ tenantId })),
    subscriptionId: sub.id,
    tenantId: sub.tenantId,
    displayName: sub.displayName,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off',
    },
    tags: { ...(sub.tags ?? {}) },
  };
}

function listSubscriptions(ctx: ArmContext): SimResponse {
  const value = Object.values(ctx.core.state.subscriptions)
    .filter((s) => visible(ctx, s))
    .map(subscriptionView);
  return { status: 200, body: { value } };
}

function getSubscription(ctx: ArmContext): SimResponse {
  const sub = ctx.core.state.subscriptions[key(ctx.params.sub)];
  if (!visible(ctx, sub)) throw authorizationFailed(ctx.caller, READ, `/subscriptions/${sub.id}`);
  return { status: 200, body: subscriptionView(sub) };
}

export const subscriptionRoutes: ArmRoute[] = [
  { method: 'GET', template: '/subscriptions', operation: READ, action: null, handler: listSubscriptions },
  { method: 'GET', template: SUB, operation: READ, action: null, handler: getSubscription },
];
