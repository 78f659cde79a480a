/**
 * App Service's Key Vault reference status, as `@azure/arm-appservice` reads it (`webApps.listAppSettingsKeyVaultReferences`
 * / `getAppSettingKeyVaultReference` and their `…Slot` forms): `GET …/config/configreferences/appsettings[/{name}]`.
 * The status is the platform's last resolution, made when the slot's worker started (see ../keyvault-references.ts).
 */
import { SimError, type SimResponse } from '../http';
import { type ReferenceResult, referenceStatus } from '../keyvault-references';
import { PRODUCTION, type Site, slotResourceId } from '../model';
import { type ArmContext, type ArmRoute, RG } from './router';
import { findSlot } from './web';

const SITE = `${RG}/providers/Microsoft.Web/sites/{name}`;
const SUFFIX = '/config/configreferences/appsettings';

function referenceView(site: Site, slotName: string, r: ReferenceResult) {
  const isSlot = slotName !== PRODUCTION;
  return {
    id: `${slotResourceId(site, slotName)}${SUFFIX}/${r.setting}`,
    name: r.setting,
    type: isSlot ? 'Microsoft.Web/sites/slots/config/configreferences' : 'Microsoft.Web/sites/config/configreferences',
    location: site.location,
    properties: {
      reference: r.reference,
      status: r.status,
      ...(r.vaultName ? { vaultName: r.vaultName } : {}),
      ...(r.secretName ? { secretName: r.secretName } : {}),
      ...(r.secretVersion ? { secretVersion: r.secretVersion } : {}),
      identityType: r.identityType,
      details: r.details,
      source: 'KeyVault',
      ...(r.activeVersion ? { activeVersion: r.activeVersion } : {}),
    },
  };
}

function list(ctx: ArmContext): SimResponse {
  const { site, slotName } = findSlot(ctx);
  return {
    status: 200,
    body: { value: referenceStatus(ctx.core, site, slotName).map((r) => referenceView(site, slotName, r)) },
  };
}

function getOne(ctx: ArmContext): SimResponse {
  const { site, slotName } = findSlot(ctx);
  const r = referenceStatus(ctx.core, site, slotName).find((x) => x.setting === ctx.params.setting);
  if (!r) throw new SimError(404, 'NotFound', `The app setting '${ctx.params.setting}' is not a Key Vault reference.`);
  return { status: 200, body: referenceView(site, slotName, r) };
}

function routes(slot: boolean): ArmRoute[] {
  const base = slot ? `${SITE}/slots/{slot}` : SITE;
  const p = slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites';
  const scope = (q: Record<string, string>) =>
    `/subscriptions/${q.sub}/resourceGroups/${q.rg}/providers/Microsoft.Web/sites/${q.name}${q.slot ? `/slots/${q.slot}` : ''}`;
  const names = { operation: `${p}/config/configreferences/read`, action: `${p}/config/read`, scope };
  return [
    { method: 'GET', template: `${base}${SUFFIX}`, ...names, handler: list },
    { method: 'GET', template: `${base}${SUFFIX}/{setting}`, ...names, handler: getOne },
  ];
}

export const webReferenceRoutes: ArmRoute[] = [...routes(false), ...routes(true)];
