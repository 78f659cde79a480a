/** App Service (web apps and their deployment slots) as a cutover target. */
import type { ManagedServiceIdentity, Site, SitePatchResource } from '@azure/arm-appservice';
import { targetLabel } from '../../plan/targets';
import type { SiteRef } from '../../contracts/model';

import { siteResourceId } from '../resources';
import type { AzureContext } from '../context';
import type { TargetAdapter, TargetView } from './adapter';
import { identityViewOf } from './identity-view';

function view(site: Site, ref: SiteRef): TargetView {
  const identity = identityViewOf(site.identity);
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
