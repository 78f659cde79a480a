/**
 * Microsoft.CognitiveServices accounts (kinds OpenAI, AIServices, CognitiveServices; shapes in cognitive-views.ts),
 * listed by subscription and resource group (paged), and Microsoft.ManagedIdentity user-assigned identities.
 * Account PATCH is an LRO (202 + Azure-AsyncOperation; provisioningState Accepted → Updating → Succeeded) and a
 * `disableLocalAuth` change reaches the data plane only `localAuthSwitchMs` later, both ways.
 */
import { type SimResponse, SimError, isRecord, jsonBody } from '../http';
import { type Account, accountId, identityId, key } from '../model';
import { generate } from '../scenario';
import { accountEtag, accountView } from './cognitive-views';
import { pageOf } from './paging';
import {
  type ArmContext,
  type ArmRoute,
  RG,
  SUB,
  badRequest,
  resourceGroupOf,
  resourceNotFound,
  retryAfter,
} from './router';
import { isoSeconds, operationResultsUrl, refuseWhileProvisioning, updateModeFor } from './account-updates';

const ACCOUNT = `${RG}/providers/Microsoft.CognitiveServices/accounts/{account}`;
const accountScope = (p: Record<string, string>) => accountId(p.sub, p.rg, p.account);

function findAccount(ctx: ArmContext): Account {
  const rg = resourceGroupOf(ctx);
  const account = ctx.core.state.accounts[key(accountId(ctx.subscription!.id, rg.name, ctx.params.account))];
  if (!account) throw resourceNotFound('Microsoft.CognitiveServices/accounts', ctx.params.account, ctx.params.rg);
  return account;
}

/** Whether the data plane refuses keys right now (follows the ARM value after the switch delay). */
export function localAuthDisabledNow(account: Account, switchMs: number, now: number): boolean {
  if (account.localAuthChange && now - account.localAuthChange.at < switchMs) return account.localAuthChange.previous;
  return account.disableLocalAuth;
}

function operationUrl(ctx: ArmContext, account: Account, opId: string): string {
  return operationResultsUrl(ctx.core, account, opId);
}

function patchAccount(ctx: ArmContext): SimResponse {
  const account = findAccount(ctx);
  refuseWhileProvisioning(account);
  const body = jsonBody(ctx.req);
  if (!isRecord(body)) throw badRequest('The request body must be an account object.', 'InvalidRequestContent');
  const props = body.properties;
  if (props !== undefined && !isRecord(props))
    throw badRequest("'properties' must be an object.", 'InvalidRequestContent');
  const core = ctx.core;
  const now = core.now();
  const before = {
    disableLocalAuth: account.disableLocalAuth,
    localAuthChange: account.localAuthChange,
    publicNetworkAccess: account.publicNetworkAccess,
    tags: account.tags,
  };

  if (props?.disableLocalAuth !== undefined) {
    if (typeof props.disableLocalAuth !== 'boolean')
      throw badRequest("'properties.disableLocalAuth' must be a boolean.", 'InvalidRequestContent');
    if (props.disableLocalAuth !== account.disableLocalAuth) {
      account.localAuthChange = {
        previous: localAuthDisabledNow(account, core.delays.localAuthSwitchMs, now),
        at: now,
      };
      account.disableLocalAuth = props.disableLocalAuth;
    }
  }
  if (props?.publicNetworkAccess !== undefined) {
    if (props.publicNetworkAccess !== 'Enabled' && props.publicNetworkAccess !== 'Disabled') {
      throw badRequest("'properties.publicNetworkAccess' must be 'Enabled' or 'Disabled'.", 'InvalidRequestContent');
    }
    account.publicNetworkAccess = props.publicNetworkAccess;
  }
  if (isRecord(body.tags)) account.tags = Object.fromEntries(Object.entries(body.tags).map(([k, v]) => [k, String(v)]));

  if (updateModeFor(ctx) === 'sync') {
    account.provisioningState = 'Succeeded';
    core.persist();
    return { status: 200, body: accountView(ctx, account) };
  }
  account.provisioningState = 'Accepted';
  const accepted = accountView(ctx, account);
  account.provisioningState = 'Updating';
  const op = core.startOperation(
    { kind: 'accountUpdate', resourceId: account.id, principalId: ctx.caller.objectId },
    async () => {
      await core.wait(core.delays.lroMs);
      if (!ctx.lroFail) account.provisioningState = 'Succeeded';
    },
    () => {
      // A failed update leaves the account as it was, marked Failed.
      Object.assign(account, before);
      if (!before.localAuthChange) delete account.localAuthChange;
      account.provisioningState = 'Failed';
    },
    ctx.lroFail,
  );
  core.persist();
  return {
    status: 202,
    headers: { 'azure-asyncoperation': operationUrl(ctx, account, op.id), ...retryAfter(core.delays.lroMs) },
    body: accepted,
  };
}

function operationStatus(ctx: ArmContext): SimResponse {
  const op = ctx.core.state.operations[ctx.params.operationId];
  // ARM authorizes an operation status read by the operation's owner, not by a role at the subscription.
  if (!op || op.kind !== 'accountUpdate' || op.principalId !== ctx.caller.objectId) {
    throw new SimError(404, 'NotFound', `The operation '${ctx.params.operationId}' could not be found.`);
  }
  const status = op.status === 'InProgress' ? 'Running' : op.status;
  return {
    status: 200,
    headers: op.status === 'InProgress' ? retryAfter(op.startedAt + ctx.core.delays.lroMs - ctx.core.now()) : {},
    body: {
      id: decodeURIComponent(ctx.req.path),
      name: op.id,
      status,
      startTime: isoSeconds(op.startedAt),
      ...(op.endedAt ? { endTime: isoSeconds(op.endedAt) } : {}),
      ...(op.error ? { error: { code: op.error.code, message: op.error.message } } : {}),
    },
  };
}

function keysOf(account: Account) {
  return { key1: account.key1, key2: account.key2 };
}

function refuseWhenLocalAuthDisabled(account: Account, verb: string): void {
  if (account.disableLocalAuth) throw badRequest(`Failed to ${verb} key. disableLocalAuth is set to be true`);
}

function regenerateKey(ctx: ArmContext): SimResponse {
  const account = findAccount(ctx);
  refuseWhenLocalAuthDisabled(account, 'regenerate');
  const body = jsonBody(ctx.req);
  const name = isRecord(body) && typeof body.keyName === 'string' ? body.keyName.toLowerCase() : '';
  if (name !== 'key1' && name !== 'key2')
    throw badRequest("'keyName' must be 'Key1' or 'Key2'.", 'InvalidRequestContent');
  ctx.core.retiredSecrets.add(account[name]);
  account[name] = generate.accountKey();
  ctx.core.persist();
  return { status: 200, body: keysOf(account) };
}

function deploymentView(account: Account, d: Account['deployments'][string]) {
  return {
    id: `${account.id}/deployments/${d.name}`,
    name: d.name,
    type: 'Microsoft.CognitiveServices/accounts/deployments',
    sku: { name: d.sku, capacity: d.capacity },
    properties: { model: { format: 'OpenAI', name: d.model, version: d.version }, provisioningState: 'Succeeded' },
  };
}

function getDeployment(ctx: ArmContext): SimResponse {
  const account = findAccount(ctx);
  const d = account.deployments[key(ctx.params.deployment)];
  if (!d)
    throw resourceNotFound(
      'Microsoft.CognitiveServices/accounts/deployments',
      `${account.name}/${ctx.params.deployment}`,
      account.resourceGroup,
    );
  return { status: 200, body: deploymentView(account, d) };
}

/** `GET …/providers/Microsoft.CognitiveServices/accounts` at a subscription or resource group (Accounts_List[ByResourceGroup]). */
function listAccounts(ctx: ArmContext): SimResponse {
  if (ctx.params.rg) resourceGroupOf(ctx);
  const sub = ctx.params.sub.toLowerCase();
  const rg = ctx.params.rg?.toLowerCase();
  const value = Object.values(ctx.core.state.accounts)
    .filter((a) => a.subscriptionId.toLowerCase() === sub && (!rg || a.resourceGroup.toLowerCase() === rg))
    .map((a) => accountView(ctx, a));
  return { status: 200, body: pageOf(ctx, value) };
}

const IDENTITY = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{identity}`;

function getIdentity(ctx: ArmContext): SimResponse {
  const rg = resourceGroupOf(ctx);
  const u = ctx.core.state.identities[key(identityId(ctx.subscription!.id, rg.name, ctx.params.identity))];
  if (!u)
    throw resourceNotFound('Microsoft.ManagedIdentity/userAssignedIdentities', ctx.params.identity, ctx.params.rg);
  return { status: 200, body: identityView(u) };
}

type IdentityState = ArmContext['core']['state']['identities'][string];

function identityView(u: IdentityState) {
  return {
    id: u.id,
    name: u.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    location: u.location,
    tags: { ...u.tags },
    properties: { tenantId: u.tenantId, principalId: u.principalId, clientId: u.clientId, isolationScope: 'None' },
  };
}

/** `GET …/providers/Microsoft.ManagedIdentity/userAssignedIdentities` at a subscription or resource group (paged). */
function listIdentities(ctx: ArmContext): SimResponse {
  if (ctx.params.rg) resourceGroupOf(ctx);
  const prefix =
    `/subscriptions/${ctx.params.sub}/${ctx.params.rg ? `resourcegroups/${ctx.params.rg}/` : ''}`.toLowerCase();
  const value = Object.values(ctx.core.state.identities)
    .filter((u) => u.id.toLowerCase().startsWith(prefix))
    .map(identityView);
  return { status: 200, body: pageOf(ctx, value) };
}

const ops = (name: string) => ({
  operation: `Microsoft.CognitiveServices/accounts/${name}`,
  action: `Microsoft.CognitiveServices/accounts/${name}`,
});

export const cognitiveRoutes: ArmRoute[] = [
  {
    method: 'GET',
    template: ACCOUNT,
    ...ops('read'),
    scope: accountScope,
    handler: (ctx) => {
      const account = findAccount(ctx);
      return { status: 200, headers: { etag: accountEtag(account) }, body: accountView(ctx, account) };
    },
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.CognitiveServices/accounts`,
    ...ops('read'),
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listAccounts,
  },
  {
    method: 'GET',
    template: `${RG}/providers/Microsoft.CognitiveServices/accounts`,
    ...ops('read'),
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listAccounts,
  },
  { method: 'PATCH', template: ACCOUNT, ...ops('write'), scope: accountScope, handler: patchAccount },
  {
    method: 'POST',
    template: `${ACCOUNT}/listKeys`,
    ...ops('listKeys/action'),
    scope: accountScope,
    handler: (ctx) => {
      const account = findAccount(ctx);
      refuseWhenLocalAuthDisabled(account, 'list');
      return { status: 200, body: keysOf(account) };
    },
  },
  {
    method: 'POST',
    template: `${ACCOUNT}/regenerateKey`,
    ...ops('regenerateKey/action'),
    scope: accountScope,
    handler: regenerateKey,
  },
  {
    method: 'GET',
    template: `${ACCOUNT}/deployments`,
    ...ops('deployments/read'),
    scope: accountScope,
    handler: (ctx) => {
      const account = findAccount(ctx);
      return {
        status: 200,
        body: pageOf(
          ctx,
          Object.values(account.deployments).map((d) => deploymentView(account, d)),
        ),
      };
    },
  },
  {
    method: 'GET',
    template: `${ACCOUNT}/deployments/{deployment}`,
    ...ops('deployments/read'),
    scope: accountScope,
    handler: getDeployment,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.CognitiveServices/locations/{location}/operationResults/{operationId}`,
    operation: 'Microsoft.CognitiveServices/locations/operationresults/read',
    action: null,
    handler: operationStatus,
  },
  {
    method: 'GET',
    template: IDENTITY,
    operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
    action: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
    scope: (p) => identityId(p.sub, p.rg, p.identity),
    handler: getIdentity,
  },
  {
    method: 'GET',
    template: `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`,
    operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
    action: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
    scope: (p) => `/subscriptions/${p.sub}`,
    handler: listIdentities,
  },
  {
    method: 'GET',
    template: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`,
    operation: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
    action: 'Microsoft.ManagedIdentity/userAssignedIdentities/read',
    scope: (p) => `/subscriptions/${p.sub}/resourceGroups/${p.rg}`,
    handler: listIdentities,
  },
];
