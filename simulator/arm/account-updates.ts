/**
 * How Azure answers an update of a Microsoft.CognitiveServices account, beyond the fields: synchronously (200,
 * provisioningState Succeeded — tag and custom-domain PATCHes as Azure CLI recordings show) or as an LRO (202 with
 * `Azure-AsyncOperation` at the provider's location-scoped `operationResults`, whose api-version is the provider's
 * fixed 2017-04-18 whatever the request used), and ARM's 409 for a write while the account is not in a terminal
 * provisioning state.
 */
import { type SimCore } from '../core';
import { SimError } from '../http';
import { type Account } from '../model';
import { type ArmContext } from './router';

/** The api-version Azure puts in every Cognitive Services `operationResults` URL (captured responses, 2020–2025). */
export const OPERATIONS_API_VERSION = '2017-04-18';

const NON_TERMINAL: Account['provisioningState'][] = ['Accepted', 'Updating', 'Creating'];

/** ARM refuses to modify a resource whose provisioning state is not terminal (409 `RequestConflict`). */
export function refuseWhileProvisioning(account: Account): void {
  if (!NON_TERMINAL.includes(account.provisioningState)) return;
  throw new SimError(
    409,
    'RequestConflict',
    `Cannot modify resource with id '${account.id}' because the resource entity provisioning state is not terminal. Please wait for the provisioning state to become terminal and then retry the request.`,
  );
}

/** `sync` or `async`: a matching `accountUpdateMode` fault wins over the behaviour knob; an `lroFail` needs an LRO. */
export function updateModeFor(ctx: ArmContext): 'sync' | 'async' {
  const forced = ctx.core.faults.takeAccountUpdateMode({
    method: ctx.req.method,
    path: ctx.req.path + ctx.req.url.search,
    operation: 'Microsoft.CognitiveServices/accounts/write',
  });
  if (ctx.lroFail) return 'async';
  return forced ?? ctx.core.behavior.accountUpdateMode;
}

/**
 * `…/providers/Microsoft.CognitiveServices/locations/{location}/operationResults/{id}?api-version=2017-04-18`, the
 * location spelled as the account stores it (Azure echoes the spelling the account was created with:
 * `SOUTHCENTRALUS`, `West US`, `westeurope`).
 */
export function operationResultsUrl(core: SimCore, account: Account, opId: string): string {
  return `${core.baseUrl}/subscriptions/${account.subscriptionId}/providers/Microsoft.CognitiveServices/locations/${encodeURIComponent(account.location)}/operationResults/${opId}?api-version=${OPERATIONS_API_VERSION}`;
}

/** Azure's operation times have whole seconds (`2023-07-25T04:50:15Z`). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
