/** What makes a site a function app in the simulator: its kind, its host keys, its cold starts. */
import { randomBytes } from 'node:crypto';
import type { HostKeys, ServerFarm, Site } from './model';
import { farmOf, skuInfo } from './skus';

export { farmOf } from './skus';

export const isFunctionApp = (site: Site) => (site.kind ?? '').split(',').includes('functionapp');

/** Host keys as the Functions host generates them: base64 (url-safe, 56 characters), a secret each. */
export function newHostKeys(): HostKeys {
  const k = () => randomBytes(42).toString('base64url');
  return { masterKey: k(), functionKeys: { default: k() }, systemKeys: {} };
}

/** How long the first request after a (re)start of this site's worker waits: only on plans that start cold. */
export function coldStartMsOf(
  state: { serverFarms?: Record<string, ServerFarm> },
  site: Site,
  coldStartMs: number,
): number {
  return skuInfo(farmOf(state, site).sku).coldStarts ? coldStartMs : 0;
}
