/** An ARM `identity` block as cutover views it, for providers that spell the combined type without a space. */
import type { IdentityView } from './adapter';

/** The `identity` of a site, container app, search service or Machine Learning workspace, as Azure answers it. */
export interface ArmIdentity {
  readonly type?: string;
  readonly principalId?: string;
  readonly tenantId?: string;
  readonly userAssignedIdentities?: Readonly<Record<string, { principalId?: string; clientId?: string }>>;
}

export function identityViewOf(id: ArmIdentity | undefined): IdentityView {
  const userAssigned = Object.fromEntries(
    Object.entries(id?.userAssignedIdentities ?? {}).map(([k, v]) => [
      k,
      { ...(v.principalId ? { principalId: v.principalId } : {}), ...(v.clientId ? { clientId: v.clientId } : {}) },
    ]),
  );
  return {
    // `SystemAssigned,UserAssigned` here; cutover compares App Service's spelling.
    type: (id?.type ?? 'None')
      .split(',')
      .map((t) => t.trim())
      .join(', '),
    ...(id?.principalId ? { principalId: id.principalId } : {}),
    ...(id?.tenantId ? { tenantId: id.tenantId } : {}),
    userAssignedIdentityIds: Object.keys(userAssigned).map((k) => k.toLowerCase()),
    userAssigned,
  };
}
