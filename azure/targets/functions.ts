/**
 * Azure Functions (sites of kind `functionapp…`) as a cutover target: the App Service adapter, since Functions is
 * the same provider with the same identity, settings and slot operations, plus what the hosting plan decides —
 * whether there are deployment slots at all (not on Flex Consumption, nor Free, Shared or Basic), and whether the
 * restart after the settings change is a cold start (Consumption, Flex Consumption). Host keys are not touched: the
 * settings write replaces app settings only.
 */
import type { MigrationPlan } from '../../plan/schema';
import type { AzureContext } from '../context';
import type { HostingFinding, TargetAdapter, TargetView } from './adapter';
import { appService, isFunctionAppKind } from './app-service';

/** Plan tiers without deployment slots. */
const NO_SLOTS = new Set(['free', 'shared', 'basic', 'flexconsumption']);
/** Plan tiers whose workers start cold after a restart. */
const COLD_STARTS = new Set(['dynamic', 'flexconsumption']);

const TIER_NAMES: Readonly<Record<string, string>> = {
  dynamic: 'Consumption',
  flexconsumption: 'Flex Consumption',
  elasticpremium: 'Elastic Premium',
};

function parsePlanId(id: string): { resourceGroup: string; name: string } | undefined {
  const m = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/serverfarms\/([^/]+)$/i.exec(id);
  return m ? { resourceGroup: m[1], name: m[2] } : undefined;
}

async function checkHosting(
  ctx: AzureContext,
  view: TargetView,
  plan: MigrationPlan,
): Promise<readonly HostingFinding[]> {
  const where = view.planId ? parsePlanId(view.planId) : undefined;
  if (!where) return [{ warning: `cannot tell the hosting plan of ${view.id}: its slots and cold starts are unknown` }];
  const farm = await ctx.clients(plan.subscriptionId).web.appServicePlans.get(where.resourceGroup, where.name);
  const tier = (farm.sku?.tier ?? '').toLowerCase();
  const label = `plan ${where.name} (${farm.sku?.name ?? '?'}, ${TIER_NAMES[tier] ?? farm.sku?.tier ?? 'unknown tier'})`;
  const findings: HostingFinding[] = [];
  if (plan.strategy.type === 'slot-swap' && NO_SLOTS.has(tier))
    findings.push({
      problem: `${label} has no deployment slots: a slot swap cannot run on it`,
      hint: 'use strategy in-place (the downtime budget then covers the restart), or move the app to a plan with slots (Elastic Premium, Standard or above)',
    });
  if (COLD_STARTS.has(tier))
    findings.push({
      warning: `${label} starts cold: the first request after the settings change waits for the Functions host, within the downtime budget`,
    });
  return findings;
}

export const functionApp: TargetAdapter = {
  ...appService,
  kind: 'function-app',
  isKind: isFunctionAppKind,
  checkHosting,
};
