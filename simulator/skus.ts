/** App Service plan SKUs the simulator knows, and what each allows (see simulator/arm/server-farms.ts). */
import { type ServerFarm, type Site, serverFarmId } from './model';

export interface SkuInfo {
  readonly tier: string;
  readonly family: string;
  /** Staging slots a site on this plan may have beside production. */
  readonly maxSlots: number;
  /** Workers start cold: the first request after a (re)start waits `coldStartMs`. */
  readonly coldStarts: boolean;
  /** Only function apps run here. */
  readonly functionsOnly: boolean;
  /** At most one site per plan (Flex Consumption). */
  readonly oneSite: boolean;
}

const sku = (tier: string, family: string, maxSlots: number, extra: Partial<SkuInfo> = {}): SkuInfo => ({
  tier,
  family,
  maxSlots,
  coldStarts: false,
  functionsOnly: false,
  oneSite: false,
  ...extra,
});

const serverless = { coldStarts: true, functionsOnly: true };

export const SKUS: Readonly<Record<string, SkuInfo>> = {
  F1: sku('Free', 'F', 0),
  D1: sku('Shared', 'D', 0),
  B1: sku('Basic', 'B', 0),
  B2: sku('Basic', 'B', 0),
  S1: sku('Standard', 'S', 5),
  S2: sku('Standard', 'S', 5),
  P1V2: sku('PremiumV2', 'Pv2', 20),
  P1V3: sku('PremiumV3', 'Pv3', 20),
  P2V3: sku('PremiumV3', 'Pv3', 20),
  Y1: sku('Dynamic', 'Y', 1, serverless),
  FC1: sku('FlexConsumption', 'FC', 0, { ...serverless, oneSite: true }),
  EP1: sku('ElasticPremium', 'EP', 20, { functionsOnly: true }),
  EP2: sku('ElasticPremium', 'EP', 20, { functionsOnly: true }),
  EP3: sku('ElasticPremium', 'EP', 20, { functionsOnly: true }),
};

export const SKU_NAMES = Object.keys(SKUS);

export function skuInfo(name: string): SkuInfo {
  const info = SKUS[name.toUpperCase()];
  if (!info) throw new Error(`unknown App Service plan SKU ${name}`);
  return info;
}

/** The plan a site runs on: its own, or the implicit Standard one. */
export function farmOf(state: { serverFarms?: Record<string, ServerFarm> }, site: Site): ServerFarm {
  const own = site.serverFarm ? state.serverFarms?.[site.serverFarm] : undefined;
  if (own) return own;
  const name = `${site.name}-plan`;
  return {
    id: serverFarmId(site.subscriptionId, site.resourceGroup, name),
    subscriptionId: site.subscriptionId,
    resourceGroup: site.resourceGroup,
    name,
    location: site.location,
    sku: 'S1',
    linux: (site.kind ?? 'app,linux').split(',').includes('linux'),
  };
}
