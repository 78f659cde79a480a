/** A caller's `identity` block as ARM answers it (sites, container apps, search services alike), as cutover reads it. */
import type { IdentityView } from './adapter';

export interface ArmIdentity {
  readonly type?: string;
  readonly principalId?: string;
  readonly tenantId?: string;
  readonly userAssignedIdentities?: Readonly<
    Record<string, { readonly principalId?: string; readonly clientId?: string }>
  >;
}

/** `type` in App Service's spelling ("SystemAssigned, UserAssigned"): a provider that spells it otherwise says so. */
export function identityViewOf(id: ArmIdentity | undefined, type = id?.type ?? 'None'): IdentityView {
  const userAssigned = Object.fromEntries(
    Object.entries(id?.userAssignedIdentities ?? {}).map(([k, v]) => [
      k,
      { ...(v.principalId ? { principalId: v.principalId } : {}), ...(v.clientId ? { clientId: v.clientId } : {}) },
    ]),
  );
  return {
    type,
    ...(id?.principalId ? { principalId: id.principalId } : {}),
    ...(id?.tenantId ? { tenantId: id.tenantId } : {}),
    userAssignedIdentityIds: Object.keys(userAssigned).map((k) => k.toLowerCase()),
    userAssigned,
  };
}
