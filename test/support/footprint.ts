/**
 * What every migration may change beside its caller, for the field-by-field footprints of the integration tests:
 * the account's key auth, the role assignments and the principals — and what a successful system-assigned
 * migration adds to them.
 */
import assert from 'node:assert/strict';
import type { Simulator } from '../../simulator';
import { SUB } from './estate';

/** Cognitive Services OpenAI User, the plan's default role. */
export const OPENAI_USER = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd';

export function accessFootprint(state: ReturnType<Simulator['control']['state']>, accountName: string) {
  const account = Object.values(state.accounts).find((a) => a.name === accountName)!;
  const roleAssignments = Object.values(state.roleAssignments)
    .map((ra) => `${ra.name}|${ra.principalId}|${ra.roleDefinitionId}|${ra.scope.toLowerCase()}`)
    .sort();
  return {
    disableLocalAuth: account.disableLocalAuth,
    roleAssignments,
    principals: Object.keys(state.principals).sort(),
  };
}

type Access = ReturnType<typeof accessFootprint>;

/**
 * The access part of a successful migration's after-state: one new role assignment (checked: the default role, for
 * `principal`, on the account in `resourceGroup`), the new principal, key auth off.
 */
export function accessAfter(
  before: Access,
  actual: Access,
  principal: string,
  resourceGroup: string,
  account: string,
): Access {
  const assignments = actual.roleAssignments.filter((ra) => !before.roleAssignments.includes(ra));
  assert.equal(assignments.length, 1, 'one new role assignment');
  const [, principalId, roleDefinitionId, scope] = assignments[0].split('|');
  assert.equal(principalId, principal);
  assert.match(roleDefinitionId, new RegExp(`${OPENAI_USER}$`));
  assert.equal(
    scope,
    `/subscriptions/${SUB}/resourceGroups/${resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account}`.toLowerCase(),
  );
  return {
    disableLocalAuth: true,
    roleAssignments: [...before.roleAssignments, ...assignments].sort(),
    principals: [...before.principals, principal].sort(),
  };
}
