/**
 * Microsoft.KeyVault/vaults as `@azure/arm-keyvault` reads them: get, list by subscription and by resource group.
 * Only RBAC-mode vaults are modelled (`enableRbacAuthorization: true`, no access policies); `vaultUri` is the
 * vault's own HTTPS port on 127.0.0.1 (see ../vault-hosts.ts).
 */
import { type SimResponse } from '../http';
import { type KeyVault, key, vaultId } from '../model';
import { type ArmContext, type ArmRoute, RG, SUB, resourceGroupOf, resourceNotFound } from './router';

const VAULTS = 'providers/Microsoft.KeyVault/vaults';
const READ = 'Microsoft.KeyVault/vaults/read';

function vaultView(ctx: ArmContext, v: KeyVault) {
  return {
    id: v.id,
    name: v.name,
    type: 'Microsoft.KeyVault/vaults',
    location: v.location,
    tags: { ...v.tags },
    properties: {
      sku: { family: 'A', name: 'standard' },
      tenantId: v.tenantId,
      accessPolicies: [],
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      enableRbacAuthorization: true,
      vaultUri: ctx.core.vaultUri(v.name),
      provisioningState: 'Succeeded',
      publicNetworkAccess: 'Enabled',
    },
  };
}

function getVault(ctx: ArmContext): SimResponse {
  const rg = resourceGroupOf(ctx);
  const v = ctx.core.state.vaults[key(vaultId(ctx.subscription!.id, rg.name, ctx.params.vault))];
  if (!v) throw resourceNotFound('Microsoft.KeyVault/vaults', ctx.params.vault, ctx.params.rg);
  return { status: 200, body: vaultView(ctx, v) };
}

function listVaults(ctx: ArmContext): SimResponse {
  const rg = ctx.params.rg === undefined ? undefined : resourceGroupOf(ctx).name;
  const top = Number(ctx.req.url.searchParams.get('$top') ?? Infinity);
  const value = Object.values(ctx.core.state.vaults)
    .filter((v) => key(v.subscriptionId) === key(ctx.subscription!.id) && (!rg || key(v.resourceGroup) === key(rg)))
    .slice(0, Number.isFinite(top) && top > 0 ? top : undefined)
    .map((v) => vaultView(ctx, v));
  return { status: 200, body: { value } };
}

export const keyVaultRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: `${RG}/${VAULTS}/{vault}`,
    operation: READ,
    action: READ,
    scope: (p) => vaultId(p.sub, p.rg, p.vault),
    handler: getVault,
  },
  {
    method: 'GET',
    template: `${SUB}/${VAULTS}`,
    operation: READ,
    action: READ,
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listVaults,
  },
  {
    method: 'GET',
    template: `${RG}/${VAULTS}`,
    operation: READ,
    action: READ,
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listVaults,
  },
];
