/** Identities that call an account with tokens: holders of a role with Cognitive Services data actions on it. */
import type { AccountRef } from '../../contracts/model';
import type { AzureContext } from '../context';
import { accountResourceId, authorizationScope } from '../resources';

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
  const roles = new Map<string, { name: string; data: boolean }>();
  for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(accountResourceId(account)))) {
    const defId = ra.roleDefinitionId ?? '';
    if (!roles.has(defId)) {
      const def = await authorization.roleDefinitions.getById(authorizationScope(defId));
      const data = (def.permissions ?? []).some((p) =>
        (p.dataActions ?? []).some((a) => /^Microsoft\.CognitiveServices\/|^\*$/i.test(a)),
      );
      roles.set(defId, { name: def.roleName ?? defId, data });
    }
    const role = roles.get(defId)!;
    if (role.data)
      out.push({
        principalId: ra.principalId ?? '',
        ...(ra.principalType ? { principalType: ra.principalType } : {}),
        role: role.name,
        scope: ra.scope ?? '',
        roleAssignmentId: ra.id ?? '',
      });
  }
  return out;
}
