/** App Service (web apps and their deployment slots) as a cutover target. */
import type { ManagedServiceIdentity, Site, SitePatchResource } from '@azure/arm-appservice';
import { targetLabel } from '../../plan/targets';
import type { SiteRef } from '../../contracts/model';

import { siteResourceId } from '../resources';
import type { AzureContext } from '../context';
import type { IdentityView, TargetAdapter, TargetView } from './adapter';

function view(site: Site, ref: SiteRef): TargetView {
  const id = site.identity;
  const userAssigned = Object.fromEntries(
    Object.entries(id?.userAssignedIdentities ?? {}).map(([k, v]) => [
      k,
      { ...(v.principalId ? { principalId: v.principalId } : {}), ...(v.clientId ? { clientId: v.clientId } : {}) },
    ]),
  );
  const identity: IdentityView = {
    type: id?.type ?? 'None',
    ...(id?.principalId ? { principalId: id.principalId } : {}),
    ...(id?.tenantId ? { tenantId: id.tenantId } : {}),
    userAssignedIdentityIds: Object.keys(userAssigned).map((k) => k.toLowerCase()),
    userAssigned,
  };
  return {
    id: site.id ?? siteResourceId(ref),
    identity,
    defaultUrl: `https://${site.defaultHostName ?? ''}`,
    ...(site.kind ? { resourceKind: site.kind } : {}),
    ...(site.serverFarmId ? { planId: site.serverFarmId } : {}),
  };
}

/** `functionapp`, `functionapp,linux`, `functionapp,workflowapp`, …: a site the Functions host runs. */
export const isFunctionAppKind = (resourceKind: string) =>
  resourceKind.toLowerCase().split(',').includes('functionapp');

export const appService: TargetAdapter = {
  kind: 'app-service',

  isKind: (resourceKind) => !isFunctionAppKind(resourceKind),

  describe: targetLabel,

  resourceId: siteResourceId,

  async read(ctx: AzureContext, ref) {
    const { webApps } = ctx.clients(ref.subscriptionId).web;
    return view(
      ref.slot
        ? await webApps.getSlot(ref.resourceGroup, ref.name, ref.slot)
        : await webApps.get(ref.resourceGroup, ref.name),
      ref,
    );
  },

  async patchIdentity(ctx, ref, identity) {
    const { webApps } = ctx.clients(ref.subscriptionId).web;
    // null removes an identity in an ARM PATCH; the SDK's types do not say so.
    const envelope: SitePatchResource = { identity: identity as ManagedServiceIdentity };
    return view(
      ref.slot
        ? await webApps.updateSlot(ref.resourceGroup, ref.name, ref.slot, envelope)
        : await webApps.update(ref.resourceGroup, ref.name, envelope),
      ref,
    );
  },

  async readSettings(ctx, ref) {
    const { webApps } = ctx.clients(ref.subscriptionId).web;
    const dict = ref.slot
      ? await webApps.listApplicationSettingsSlot(ref.resourceGroup, ref.name, ref.slot)
      : await webApps.listApplicationSettings(ref.resourceGroup, ref.name);
    return { ...(dict.properties ?? {}) };
  },

  async writeSettings(ctx, ref, settings) {
    const { webApps } = ctx.clients(ref.subscriptionId).web;
    const properties = { ...settings };
    if (ref.slot) await webApps.updateApplicationSettingsSlot(ref.resourceGroup, ref.name, ref.slot, { properties });
    else await webApps.updateApplicationSettings(ref.resourceGroup, ref.name, { properties });
  },

  async stickySettingNames(ctx, ref) {
    const names = await ctx
      .clients(ref.subscriptionId)
      .web.webApps.listSlotConfigurationNames(ref.resourceGroup, ref.name);
    return names.appSettingNames ?? [];
  },

  async swap(ctx, ref, slot) {
    await ctx
      .clients(ref.subscriptionId)
      .web.webApps.swapSlot(
        ref.resourceGroup,
        ref.name,
        slot,
        { targetSlot: 'production', preserveVnet: true },
        { updateIntervalInMs: ctx.lroIntervalMs, abortSignal: ctx.signal() },
      )
      .pollUntilDone();
  },

  requiredActions: (strategy) => [
    'Microsoft.Web/sites/read',
    'Microsoft.Web/sites/write',
    'Microsoft.Web/sites/config/list/action',
    'Microsoft.Web/sites/config/write',
    ...(strategy.type === 'slot-swap'
      ? [
          'Microsoft.Web/sites/slots/read',
          'Microsoft.Web/sites/slots/write',
          'Microsoft.Web/sites/slots/slotsswap/action',
        ]
      : []),
  ],
};
