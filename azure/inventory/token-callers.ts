/** Identities that call an account with tokens: holders of a role with Cognitive Services data actions on it. */
import type { AccountRef } from '../../contracts/model';
import type { AzureContext } from '../context';
import { accountResourceId, authorizationScope } from '../resources';
import { roleDefinitionReader } from '../roles';

export interface TokenCaller {
  readonly principalId: string;
  readonly principalType?: string;
  readonly role: string;
  readonly scope: string;
  readonly roleAssignmentId: string;
}

/** Every assignment on the account (inherited ones too) whose role grants data actions. Azure errors are thrown. */
export async function tokenCallers(ctx: AzureContext, account: AccountRef): Promise<TokenCaller[]> {
  const { authorization } = ctx.clients(account.subscriptionId);
  const out: TokenCaller[] = [];
  const roleOf = roleDefinitionReader();
  for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(accountResourceId(account)))) {
    const def = await roleOf(authorization, ra.roleDefinitionId ?? '');
    if (def.dataActions.some((a) => /^Microsoft\.CognitiveServices\/|^\*$/i.test(a)))
      out.push({
        principalId: ra.principalId ?? '',
        ...(ra.principalType ? { principalType: ra.principalType } : {}),
        role: def.name,
        scope: ra.scope ?? '',
        roleAssignmentId: ra.id ?? '',
      });
  }
  return out;
}
