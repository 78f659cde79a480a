/**
 * Microsoft.Web/serverfarms (App Service plans) as far as their sites need them: the SKU decides how many
 * deployment slots a site may have, whether its workers start cold after a restart (Consumption, Flex Consumption)
 * and which kinds of site it hosts. A site without a plan of its own in the scenario runs on an implicit Standard
 * plan named `<site>-plan`, as every site did before plans existed.
 *
 * Slot limits (staging slots beside production), as Azure documents them: Free, Shared and Basic none; Standard 5;
 * Premium 20; Elastic Premium (Functions Premium) 20 like Premium; Consumption (`Y1`, `Dynamic`) one staging slot;
 * Flex Consumption (`FC1`) none. Exceeding the limit answers 409 Conflict "Cannot complete the operation because the
 * site will exceed the number of slots allowed for the '<tier>' SKU.", Azure's wording (simulator/README.md).
 */
import { type ServerFarm, type Site, key, serverFarmId } from '../model';
import { type SimResponse, SimError } from '../http';
import { type ArmContext, type ArmRoute, RG, resourceGroupOf, resourceNotFound } from './router';
import { pageOf } from './paging';
import { farmOf, skuInfo } from '../skus';

export { SKUS, SKU_NAMES, farmOf, skuInfo, type SkuInfo } from '../skus';

/** 409 when a site would have more staging slots than its plan's SKU allows. */
export function checkSlotLimit(state: { serverFarms?: Record<string, ServerFarm> }, site: Site, slots: number): void {
  const info = skuInfo(farmOf(state, site).sku);
  if (slots > info.maxSlots)
    throw new SimError(
      409,
      'Conflict',
      `Cannot complete the operation because the site will exceed the number of slots allowed for the '${info.tier}' SKU.`,
    );
}

function sitesOn(ctx: ArmContext, farm: ServerFarm): Site[] {
  return Object.values(ctx.core.state.sites).filter((s) => key(farmOf(ctx.core.state, s).id) === key(farm.id));
}

/** A plan in the shape of GetAppServicePlan.json (azure-rest-api-specs), plus the roots real plans carry. */
export function farmView(ctx: ArmContext, farm: ServerFarm) {
  const info = skuInfo(farm.sku);
  const sites = sitesOn(ctx, farm);
  return {
    id: farm.id,
    name: farm.name,
    type: 'Microsoft.Web/serverfarms',
    kind: info.functionsOnly ? (info.coldStarts ? 'functionapp' : 'elastic') : farm.linux ? 'linux' : 'app',
    location: farm.location,
    tags: {},
    sku: {
      name: farm.sku.toUpperCase(),
      tier: info.tier,
      size: farm.sku.toUpperCase(),
      family: info.family,
      capacity: 1,
    },
    properties: {
      status: 'Ready',
      serverFarmId: 0,
      subscription: farm.subscriptionId,
      maximumNumberOfWorkers: info.coldStarts ? 200 : 30,
      geoRegion: farm.location,
      numberOfSites: sites.length,
      numberOfWorkers: 1,
      provisioningState: 'Succeeded',
      isSpot: false,
      reserved: farm.linux,
      isXenon: false,
      hyperV: false,
      targetWorkerCount: 0,
      targetWorkerSizeId: 0,
      perSiteScaling: false,
      elasticScaleEnabled: info.tier === 'ElasticPremium',
      maximumElasticWorkerCount: info.tier === 'ElasticPremium' ? 20 : 1,
      zoneRedundant: false,
      resourceGroup: farm.resourceGroup,
    },
  };
}

function getFarm(ctx: ArmContext): SimResponse {
  const rg = resourceGroupOf(ctx);
  const id = serverFarmId(ctx.subscription!.id, rg.name, ctx.params.name);
  const own = ctx.core.state.serverFarms?.[key(id)];
  // Implicit plans answer too, as long as their site exists.
  const implicit = Object.values(ctx.core.state.sites)
    .map((s) => farmOf(ctx.core.state, s))
    .find((f) => key(f.id) === key(id));
  const farm = own ?? implicit;
  if (!farm) throw resourceNotFound('Microsoft.Web/serverfarms', ctx.params.name, ctx.params.rg);
  return { status: 200, body: farmView(ctx, farm) };
}

function listFarms(ctx: ArmContext): SimResponse {
  const rg = resourceGroupOf(ctx);
  const seen = new Map<string, ServerFarm>();
  for (const f of Object.values(ctx.core.state.serverFarms ?? {})) seen.set(key(f.id), f);
  for (const s of Object.values(ctx.core.state.sites)) {
    const f = farmOf(ctx.core.state, s);
    if (!seen.has(key(f.id))) seen.set(key(f.id), f);
  }
  const value = [...seen.values()]
    .filter((f) => key(f.resourceGroup) === key(rg.name) && key(f.subscriptionId) === key(ctx.subscription!.id))
    .map((f) => farmView(ctx, f));
  return { status: 200, body: pageOf(ctx, value) };
}

const READ = 'Microsoft.Web/serverfarms/read';
const read = (template: string, scope: ArmRoute['scope'], handler: ArmRoute['handler']): ArmRoute => ({
  method: 'GET',
  template,
  operation: READ,
  action: READ,
  scope,
  handler,
});

export const serverFarmRoutes: ArmRoute[] = [
  read(`${RG}/providers/Microsoft.Web/serverfarms/{name}`, (p) => serverFarmId(p.sub, p.rg, p.name), getFarm),
  read(`${RG}/providers/Microsoft.Web/serverfarms`, (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`, listFarms),
];
