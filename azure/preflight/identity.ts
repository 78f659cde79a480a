/** The user-assigned identity a plan names: it must exist, in the plan's tenant. */
import type { BeforeState } from '../../contracts/model';
import type { MigrationPlan } from '../../plan/schema';
import type { AzureContext } from '../context';
import type { Findings } from './findings';

const UAMI_ID =
  /\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i;

export async function checkUserAssignedIdentity(
  ctx: AzureContext,
  plan: MigrationPlan,
  f: Findings,
): Promise<BeforeState['userAssignedIdentity']> {
  if (plan.identity.type !== 'user-assigned' || !plan.identity.resourceId) return undefined;
  const [, sub, rg, name] = UAMI_ID.exec(plan.identity.resourceId)!;
  const found = await f.read('identity', `reading user-assigned identity ${name}`, () =>
    ctx.clients(sub).msi.userAssignedIdentities.get(rg, name),
  );
  if (!found) return undefined;
  if (found.tenantId && found.tenantId.toLowerCase() !== plan.tenantId)
    f.problem(
      'identity',
      `user-assigned identity ${name} belongs to tenant ${found.tenantId}, not the plan's tenant ${plan.tenantId}`,
    );
  return {
    resourceId: found.id ?? plan.identity.resourceId,
    principalId: found.principalId ?? '',
    clientId: found.clientId ?? '',
    tenantId: found.tenantId ?? '',
  };
}
