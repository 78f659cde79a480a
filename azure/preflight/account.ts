/** The account, its deployment, the role to grant and the role assignments already on the account. */
import type { Account } from '@azure/arm-cognitiveservices';
import type { RoleDefinition } from '@azure/arm-authorization';
import type { AccountRef, RoleAssignmentSnapshot } from '../../contracts/model';
import type { MigrationPlan } from '../../plan/schema';
import type { AzureContext } from '../context';
import { roleDefinitionsNamed } from '../role-definitions';
import { accountResourceId, allows, authorizationScope, CHAT_COMPLETIONS_DATA_ACTION } from '../resources';
import type { Findings } from './findings';

export function readAccount(ctx: AzureContext, account: AccountRef, f: Findings): Promise<Account | undefined> {
  return f.read('account', `reading Azure OpenAI account ${account.name}`, () =>
    ctx.clients(account.subscriptionId).cognitive.accounts.get(account.resourceGroup, account.name),
  );
}

/** It must be an OpenAI account that accepts Entra tokens, and the deployment must exist. */
export async function checkAccount(ctx: AzureContext, plan: MigrationPlan, acct: Account, f: Findings): Promise<void> {
  const account = plan.account;
  if (acct.kind && !['OpenAI', 'AIServices'].includes(acct.kind))
    f.problem('account', `account ${account.name} is of kind ${acct.kind}, not an Azure OpenAI account`);
  if (!acct.properties?.customSubDomainName)
    f.problem(
      'account',
      `account ${account.name} has no custom subdomain, so it cannot accept Entra ID tokens`,
      'set a custom subdomain on the account first (it changes its endpoint)',
    );
  await f.read('deployment', `reading deployment ${account.deployment} of ${account.name}`, () =>
    ctx
      .clients(account.subscriptionId)
      .cognitive.deployments.get(account.resourceGroup, account.name, account.deployment),
  );
  if (acct.properties?.disableLocalAuth) f.warn(`local (key) auth is already disabled on ${account.name}`);
}

/** The role must exist at the account's scope and grant inference. */
export async function checkRole(
  ctx: AzureContext,
  plan: MigrationPlan,
  f: Findings,
): Promise<RoleDefinition | undefined> {
  const { authorization } = ctx.clients(plan.account.subscriptionId);
  const scope = authorizationScope(accountResourceId(plan.account));
  const defs = await f.read('role', `looking up role "${plan.role}"`, () =>
    roleDefinitionsNamed(authorization, scope, plan.role),
  );
  const def = defs?.[0];
  if (defs && !def)
    f.problem(
      'role',
      `no role named "${plan.role}" exists at the account's scope`,
      'use "Cognitive Services OpenAI User"',
    );
  if (def && !allows(def.permissions ?? [], CHAT_COMPLETIONS_DATA_ACTION, true))
    f.problem(
      'role',
      `role "${plan.role}" does not grant chat completions on Azure OpenAI (data action ${CHAT_COMPLETIONS_DATA_ACTION})`,
    );
  return def;
}

/** Role assignments that exist already on the account (inherited ones included): rollback never deletes them. */
export async function existingAssignments(
  ctx: AzureContext,
  account: AccountRef,
  f: Findings,
): Promise<RoleAssignmentSnapshot[]> {
  const out: RoleAssignmentSnapshot[] = [];
  const { authorization } = ctx.clients(account.subscriptionId);
  await f.read('role', `listing role assignments on ${account.name}`, async () => {
    for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(accountResourceId(account))))
      out.push({
        id: ra.id ?? '',
        name: ra.name ?? '',
        principalId: ra.principalId ?? '',
        roleDefinitionId: ra.roleDefinitionId ?? '',
        scope: ra.scope ?? '',
      });
  });
  return out;
}
