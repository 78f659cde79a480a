/** Who the worker signs in as, and in which tenant: read from its own ARM token, never logged. */
import type { MigrationPlan } from '../../plan/schema';
import { ARM_SCOPE } from '../clients';
import type { AzureContext } from '../context';
import { azureCall } from '../errors';
import type { Findings } from './findings';

export interface SignedIn {
  readonly tenantId?: string;
  readonly objectId?: string;
}

export async function checkTenant(ctx: AzureContext, plan: MigrationPlan, f: Findings): Promise<SignedIn> {
  const token = await azureCall('signing in to Azure', () => ctx.credential().getToken(ARM_SCOPE));
  const claims = token ? decodeJwtClaims(token.token) : {};
  const tenantId = typeof claims.tid === 'string' ? claims.tid : undefined;
  if (tenantId && tenantId.toLowerCase() !== plan.tenantId.toLowerCase())
    f.problem(
      'tenant',
      `the worker is signed in to tenant ${tenantId}, but the plan names tenant ${plan.tenantId}`,
      'run the worker with credentials of the plan’s tenant, or fix tenantId',
    );
  return {
    ...(tenantId ? { tenantId } : {}),
    ...(typeof claims.oid === 'string' ? { objectId: claims.oid } : {}),
  };
}

/** Reads the claims of a JWT without verifying it. */
function decodeJwtClaims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
