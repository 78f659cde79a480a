/**
 * Every side effect of a migration. Each activity is idempotent: run twice (a retry after a timeout, a worker that
 * died mid-call), it ends in the same Azure state and returns the same answer. Secrets (keys, tokens) are read
 * here when needed and never returned: results carry names, ids and fingerprints only.
 */
import type { Site, SitePatchResource } from '@azure/arm-appservice';
import type { TokenCredential } from '@azure/core-auth';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../workflows/failures';
import type {
  AccountRef,
  BeforeState,
  EnableIdentityResult,
  Evidence,
  IdentitySnapshot,
  KeyHolderScan,
  PreflightProblem,
  ProbeResult,
  RoleAssignmentResult,
  RoleAssignmentSnapshot,
  SettingSnapshot,
  SiteRef,
  SiteSnapshot,
  SwapMarker,
} from '../workflows/types';
import type { MigrationPlan } from '../plan/schema';
import {
  ARM_SCOPE,
  type AzureClients,
  type AzureEndpoints,
  createAzureClients,
  type CredentialSource,
  currentCredential,
} from './azure-clients';
import { cancellationSignal, heartbeat, pause } from './context';
import { azureCall, azureErrorInfo, codeOf, statusOf, toActivityFailure } from './errors';
import { writeEvidenceFile } from './evidence';
import { httpRequest } from './http';
import { describeScan } from '../workflows/key-holders';
import { localAuthActivities } from './local-auth';
import { plannedMoves } from '../plan/moves';
import {
  accountResourceId,
  allows,
  authorizationScope,
  CHAT_COMPLETIONS_DATA_ACTION,
  type PermissionLike,
  describeSite,
  fingerprint,
  roleAssignmentName,
  siteResourceId,
  snapshotSetting,
} from './resources';

export interface ActivityDeps {
  /** Asked at every use: see `CredentialSource`. */
  readonly credential: CredentialSource;
  readonly endpoints: AzureEndpoints;
  /** Folder where evidence records are written. */
  readonly evidenceDir: string;
  /** Poll interval for Azure long-running operations. */
  readonly lroPollIntervalMs?: number;
  /** The worker's Temporal client, for the per-account key-switch lock. */
  readonly temporal?: { readonly client: Client };
}

/** Provisioning states of an account whose update has not finished. */
const TRANSITIONAL_STATES = new Set(['Accepted', 'Creating', 'Updating', 'Deleting', 'Moving']);

/** Data-plane API version for the key-refusal check. */
const OPENAI_API_VERSION = '2024-10-21';

export function createActivities(deps: ActivityDeps) {
  const clientCache = new Map<string, AzureClients>();
  let clientsOf: TokenCredential | undefined;
  const credential = () => currentCredential(deps.credential);
  const clients = (subscriptionId: string): AzureClients => {
    // A new credential (another principal) needs new clients: their pipelines cache the old one's tokens.
    if (credential() !== clientsOf) {
      clientCache.clear();
      clientsOf = credential();
    }
    let c = clientCache.get(subscriptionId);
    if (!c) {
      c = createAzureClients(clientsOf, subscriptionId, deps.endpoints);
      clientCache.set(subscriptionId, c);
    }
    return c;
  };
  const lro = { updateIntervalInMs: deps.lroPollIntervalMs ?? 2000 };
  const localAuth = localAuthActivities({
    credential,
    endpoints: deps.endpoints,
    clients,
    ...(deps.temporal ? { temporal: deps.temporal } : {}),
  });
  const ca = deps.endpoints.caCert;

  async function getSite(site: SiteRef): Promise<Site> {
    const { web } = clients(site.subscriptionId);
    return site.slot
      ? web.webApps.getSlot(site.resourceGroup, site.name, site.slot)
      : web.webApps.get(site.resourceGroup, site.name);
  }

  async function patchIdentity(site: SiteRef, envelope: SitePatchResource): Promise<Site> {
    const { web } = clients(site.subscriptionId);
    return site.slot
      ? web.webApps.updateSlot(site.resourceGroup, site.name, site.slot, envelope)
      : web.webApps.update(site.resourceGroup, site.name, envelope);
  }

  async function readSettings(site: SiteRef): Promise<Record<string, string>> {
    const { web } = clients(site.subscriptionId);
    const dict = site.slot
      ? await web.webApps.listApplicationSettingsSlot(site.resourceGroup, site.name, site.slot)
      : await web.webApps.listApplicationSettings(site.resourceGroup, site.name);
    return { ...(dict.properties ?? {}) };
  }

  async function writeSettings(site: SiteRef, properties: Record<string, string>): Promise<void> {
    const { web } = clients(site.subscriptionId);
    if (site.slot)
      await web.webApps.updateApplicationSettingsSlot(site.resourceGroup, site.name, site.slot, { properties });
    else await web.webApps.updateApplicationSettings(site.resourceGroup, site.name, { properties });
  }

  async function accountKeys(account: AccountRef): Promise<{ key1?: string; key2?: string }> {
    const keys = await clients(account.subscriptionId).cognitive.accounts.listKeys(account.resourceGroup, account.name);
    return { key1: keys.key1, key2: keys.key2 };
  }

  /** Runs a promise while heartbeating, so a worker that dies mid-operation is noticed quickly. */
  async function withHeartbeat<T>(what: string, work: Promise<T>): Promise<T> {
    // Repeats whatever the activity last reported (its progress, for a successor to resume from), else its name.
    heartbeat({ waitingFor: what });
    const timer = setInterval(() => heartbeat(), 2000);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  function snapshotIdentity(site: Site): IdentitySnapshot {
    const id = site.identity;
    return {
      type: id?.type ?? 'None',
      ...(id?.principalId ? { principalId: id.principalId } : {}),
      userAssignedIdentityIds: Object.keys(id?.userAssignedIdentities ?? {}).map((k) => k.toLowerCase()),
    };
  }

  function baseUrlOf(site: Site, plan: MigrationPlan, isTarget: boolean): string {
    if (isTarget && plan.smokeTest.baseUrl) return plan.smokeTest.baseUrl.replace(/\/$/, '');
    return `https://${site.defaultHostName ?? ''}`;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Preflight: read-only. Collects every problem it can, then fails once with all of them.

  async function preflight(input: { plan: MigrationPlan }): Promise<BeforeState> {
    const { plan } = input;
    const problems: PreflightProblem[] = [];
    const warnings: string[] = [];
    const problem = (check: string, message: string, hint?: string) =>
      problems.push({ check, message, ...(hint ? { hint } : {}) });
    const fail = () =>
      ApplicationFailure.create({
        type: FailureType.PreflightFailed,
        message: `preflight found ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
          .map((p) => p.message)
          .join('; ')}`,
        nonRetryable: true,
        details: problems,
      });
    /** A read that may fail for a reason the user must fix (404, 403, 401); transient errors are retried. */
    async function read<T>(check: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
      try {
        return await fn();
      } catch (err) {
        const info = azureErrorInfo(err);
        if (info.statusCode === undefined || info.statusCode === 429 || info.statusCode >= 500)
          throw toActivityFailure(what, err);
        const hint =
          info.statusCode === 404
            ? 'check the name, resource group and subscription in the plan'
            : info.statusCode === 403
              ? 'grant the worker the roles listed in the README (least privilege)'
              : info.code !== 'InvalidAuthenticationTokenTenant'
                ? undefined
                : check === 'identity'
                  ? 'a managed identity must belong to the plan’s tenant: name a user-assigned identity of that tenant'
                  : 'the worker signs in to another tenant than the subscription’s: check tenantId';
        const otherTenant =
          info.code === 'InvalidAuthenticationTokenTenant' ? ' (it belongs to another tenant than the worker’s)' : '';
        // Azure names the action refused ("… to perform action 'Microsoft.Web/sites/read' over scope …").
        const action = info.statusCode === 403 ? /perform action '([^']+)'/.exec(info.message)?.[1] : undefined;
        const denied = action ? ` (the worker may not ${action})` : '';
        problem(check, `${what}: ${info.statusCode}${info.code ? ` ${info.code}` : ''}${otherTenant}${denied}`, hint);
        return undefined;
      }
    }

    // Who the worker is, and in which tenant it signed in.
    const token = await azureCall('signing in to Azure', () => credential().getToken(ARM_SCOPE));
    const claims = token ? decodeJwtClaims(token.token) : {};
    if (typeof claims.tid === 'string' && claims.tid.toLowerCase() !== plan.tenantId.toLowerCase()) {
      problem(
        'tenant',
        `the worker is signed in to tenant ${claims.tid}, but the plan names tenant ${plan.tenantId}`,
        'run the worker with credentials of the plan’s tenant, or fix tenantId',
      );
    }

    const target: SiteRef = {
      subscriptionId: plan.subscriptionId,
      resourceGroup: plan.app.resourceGroup,
      name: plan.app.name,
      ...(plan.app.slot ? { slot: plan.app.slot } : {}),
    };
    const siteRefs: SiteRef[] = [target];
    if (plan.strategy.type === 'slot-swap' && plan.strategy.stagingSlot)
      siteRefs.push({ ...target, slot: plan.strategy.stagingSlot });
    const account: AccountRef = plan.account;
    const accountId = accountResourceId(account);

    const sites = await Promise.all(
      siteRefs.map((ref) => read('app', `reading app ${describeSite(ref)}`, () => getSite(ref))),
    );
    const acct = await read('account', `reading Azure OpenAI account ${account.name}`, () =>
      clients(account.subscriptionId).cognitive.accounts.get(account.resourceGroup, account.name),
    );
    if (problems.some((p) => p.check === 'tenant' || /InvalidAuthenticationToken/.test(p.message))) throw fail();

    if (acct) {
      if (acct.kind && !['OpenAI', 'AIServices'].includes(acct.kind))
        problem('account', `account ${account.name} is of kind ${acct.kind}, not an Azure OpenAI account`);
      if (!acct.properties?.customSubDomainName)
        problem(
          'account',
          `account ${account.name} has no custom subdomain, so it cannot accept Entra ID tokens`,
          'set a custom subdomain on the account first (it changes its endpoint)',
        );
      await read('deployment', `reading deployment ${plan.account.deployment} of ${account.name}`, () =>
        clients(account.subscriptionId).cognitive.deployments.get(
          account.resourceGroup,
          account.name,
          plan.account.deployment,
        ),
      );
      if (acct.properties?.disableLocalAuth) warnings.push(`local (key) auth is already disabled on ${account.name}`);
    }

    // The role: it must exist and grant inference.
    const { authorization } = clients(account.subscriptionId);
    const roleDefs = acct
      ? await read('role', `looking up role "${plan.role}"`, async () => {
          const out = [];
          for await (const d of authorization.roleDefinitions.list(authorizationScope(accountId), {
            filter: `roleName eq '${plan.role.replace(/'/g, "''")}'`,
          }))
            out.push(d);
          return out;
        })
      : undefined;
    const roleDef = roleDefs?.[0];
    if (roleDefs && !roleDef)
      problem(
        'role',
        `no role named "${plan.role}" exists at the account's scope`,
        'use "Cognitive Services OpenAI User"',
      );
    if (roleDef && !allows(roleDef.permissions ?? [], CHAT_COMPLETIONS_DATA_ACTION, true))
      problem(
        'role',
        `role "${plan.role}" does not grant chat completions on Azure OpenAI (data action ${CHAT_COMPLETIONS_DATA_ACTION})`,
      );

    // The worker's own permissions, so a missing role fails here and not halfway through.
    if (acct)
      await checkCallerPermissions(plan, typeof claims.oid === 'string' ? claims.oid : undefined, problem, (w) =>
        warnings.push(w),
      );

    // The user-assigned identity.
    let uami: BeforeState['userAssignedIdentity'];
    if (plan.identity.type === 'user-assigned' && plan.identity.resourceId) {
      const m =
        /\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i.exec(
          plan.identity.resourceId,
        )!;
      const found = await read('identity', `reading user-assigned identity ${m[3]}`, () =>
        clients(m[1]).msi.userAssignedIdentities.get(m[2], m[3]),
      );
      if (found) {
        if (found.tenantId && found.tenantId.toLowerCase() !== plan.tenantId)
          problem(
            'identity',
            `user-assigned identity ${m[3]} belongs to tenant ${found.tenantId}, not the plan's tenant ${plan.tenantId}`,
          );
        uami = {
          resourceId: found.id ?? plan.identity.resourceId,
          principalId: found.principalId ?? '',
          clientId: found.clientId ?? '',
          tenantId: found.tenantId ?? '',
        };
      }
    }

    // Settings: the key setting must be there; every touched setting must be restorable.
    let keys: { key1?: string; key2?: string } = {};
    if (acct && !acct.properties?.disableLocalAuth) {
      keys =
        (await read('account', `reading the keys of ${account.name} (to recognise them in settings)`, () =>
          accountKeys(account),
        )) ?? {};
    }
    const slotConfig = sites[0]
      ? await read('app', `reading slot-sticky settings of ${plan.app.name}`, () =>
          clients(target.subscriptionId).web.webApps.listSlotConfigurationNames(target.resourceGroup, target.name),
        )
      : undefined;
    const stickyNames = slotConfig?.appSettingNames ?? [];
    const touched = [...plan.settings.remove, ...Object.keys(plan.settings.set)];
    if (plan.identity.type === 'user-assigned') touched.push('AZURE_CLIENT_ID');

    const snapshots: SiteSnapshot[] = [];
    for (let i = 0; i < siteRefs.length; i++) {
      const ref = siteRefs[i];
      const site = sites[i];
      if (!site) continue;
      const settings = await read('settings', `reading app settings of ${describeSite(ref)}`, () => readSettings(ref));
      if (!settings) continue;
      const isTarget = i === 0;
      const touchedSettings: Record<string, SettingSnapshot> = {};
      for (const name of touched) touchedSettings[name] = snapshotSetting(name, settings[name], keys);
      // For slot-swap the change is made on the staging slot; production is reached by the swap.
      const changedHere = plan.strategy.type === 'in-place' ? isTarget : !isTarget;
      if (changedHere) {
        for (const name of plan.settings.remove) {
          if (!(name in settings))
            problem(
              'settings',
              `app ${describeSite(ref)} has no setting ${name} to remove`,
              'check settings.remove against the app’s settings',
            );
          else if (touchedSettings[name].kind !== 'account-key' && keys.key1)
            warnings.push(`setting ${name} of ${describeSite(ref)} does not hold a key of ${account.name}`);
        }
        for (const [name, snap] of Object.entries(touchedSettings)) {
          if (snap.kind === 'secret')
            problem(
              'settings',
              `setting ${name} of ${describeSite(ref)} looks secret and is not a key of ${account.name}: cutover could not restore it on rollback`,
              'move it to a Key Vault reference, or leave it out of the plan',
            );
        }
      }
      if (plan.strategy.type === 'slot-swap') {
        for (const name of touched)
          if (stickyNames.includes(name))
            problem(
              'settings',
              `setting ${name} is slot-sticky, so a swap would not carry the change to production`,
              'use the in-place strategy, or make it non-sticky',
            );
      }
      snapshots.push({
        site: ref,
        resourceId: site.id ?? siteResourceId(ref),
        baseUrl: baseUrlOf(site, plan, isTarget),
        identity: snapshotIdentity(site),
        settingNames: Object.keys(settings).sort(),
        touchedSettings,
        slotConfigNames: stickyNames,
      });
      if (site.identity?.tenantId && site.identity.tenantId.toLowerCase() !== plan.tenantId)
        problem(
          'tenant',
          `app ${describeSite(ref)} has an identity in tenant ${site.identity.tenantId}, not ${plan.tenantId}`,
        );
    }

    // Role assignments that exist already on the account (inherited ones included).
    const existing: RoleAssignmentSnapshot[] = [];
    if (acct) {
      await read('role', `listing role assignments on ${account.name}`, async () => {
        for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(accountId)))
          existing.push({
            id: ra.id ?? '',
            name: ra.name ?? '',
            principalId: ra.principalId ?? '',
            roleDefinitionId: ra.roleDefinitionId ?? '',
            scope: ra.scope ?? '',
          });
      });
    }

    // Key auth is a switch of the account: who else holds its key decides what the last stage will do.
    let keyHolders: KeyHolderScan | undefined;
    if (acct && plan.localAuth.disable && !acct.properties?.disableLocalAuth && problems.length === 0) {
      keyHolders = await localAuth.findKeyHolders({ account, exclude: plannedMoves(plan) });
      if (keyHolders.verdict !== 'clear') {
        if (plan.localAuth.ifOtherCallers === 'fail')
          problem(
            'key-holders',
            `${describeScan(keyHolders)}; with localAuth.ifOtherCallers: fail the migration would end there`,
            'move those callers off the key first, or set localAuth.ifOtherCallers to skip or wait',
          );
        else
          warnings.push(
            `${describeScan(keyHolders)}: local auth will ${plan.localAuth.ifOtherCallers === 'wait' ? 'wait for them' : 'stay enabled'} (localAuth.ifOtherCallers: ${plan.localAuth.ifOtherCallers})`,
          );
      }
    }

    if (problems.length > 0 || !acct || !roleDef || snapshots.length !== siteRefs.length) {
      if (problems.length === 0) problem('preflight', 'some resources could not be read');
      throw fail();
    }
    return {
      capturedAt: new Date().toISOString(),
      sites: snapshots,
      account: {
        ref: account,
        resourceId: acct.id ?? accountId,
        endpoint: acct.properties?.endpoint ?? '',
        ...(acct.properties?.customSubDomainName ? { customSubDomainName: acct.properties.customSubDomainName } : {}),
        disableLocalAuth: acct.properties?.disableLocalAuth === true,
        keyFingerprints: [keys.key1, keys.key2].filter((k): k is string => !!k).map(fingerprint),
      },
      role: { name: roleDef.roleName ?? plan.role, definitionId: roleDef.id ?? '' },
      ...(uami ? { userAssignedIdentity: uami } : {}),
      roleAssignments: existing,
      ...(keyHolders ? { keyHolders } : {}),
      warnings,
    };
  }

  /**
   * Works out which actions the worker may perform on each resource (its role assignments there, inherited ones
   * included, and their role definitions) and names each one missing, so a missing role fails here and not halfway.
   */
  async function checkCallerPermissions(
    plan: MigrationPlan,
    callerObjectId: string | undefined,
    problem: (check: string, message: string, hint?: string) => void,
    warn: (message: string) => void,
  ): Promise<void> {
    if (!callerObjectId) {
      warn('could not tell which principal the worker signs in as: its permissions were not checked');
      return;
    }
    const accountId = accountResourceId(plan.account);
    const needs: { resource: string; sub: string; scope: string; actions: string[] }[] = [
      {
        resource: `app ${plan.app.name}`,
        sub: plan.subscriptionId,
        scope: siteResourceId({
          subscriptionId: plan.subscriptionId,
          resourceGroup: plan.app.resourceGroup,
          name: plan.app.name,
        }),
        actions: [
          'Microsoft.Web/sites/read',
          'Microsoft.Web/sites/write',
          'Microsoft.Web/sites/config/list/action',
          'Microsoft.Web/sites/config/write',
        ].concat(
          plan.strategy.type === 'slot-swap'
            ? [
                'Microsoft.Web/sites/slots/read',
                'Microsoft.Web/sites/slots/write',
                'Microsoft.Web/sites/slots/slotsswap/action',
              ]
            : [],
        ),
      },
      {
        resource: `account ${plan.account.name}`,
        sub: plan.account.subscriptionId,
        scope: accountId,
        actions: [
          'Microsoft.CognitiveServices/accounts/read',
          'Microsoft.CognitiveServices/accounts/listKeys/action',
          'Microsoft.Authorization/roleAssignments/write',
          'Microsoft.Authorization/roleAssignments/delete',
        ].concat(plan.localAuth.disable ? ['Microsoft.CognitiveServices/accounts/write'] : []),
      },
    ];
    if (plan.identity.type === 'user-assigned' && plan.identity.resourceId) {
      needs.push({
        resource: `identity ${plan.identity.resourceId.split('/').pop()}`,
        sub: subscriptionOf(plan.identity.resourceId),
        scope: plan.identity.resourceId,
        actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'],
      });
    }
    const definitions = new Map<string, PermissionLike[]>();
    for (const need of needs) {
      const { authorization } = clients(need.sub);
      const permissions: PermissionLike[] = [];
      try {
        for await (const ra of authorization.roleAssignments.listForScope(authorizationScope(need.scope), {
          filter: `assignedTo('${callerObjectId}')`,
        })) {
          const defId = ra.roleDefinitionId ?? '';
          if (!definitions.has(defId))
            definitions.set(
              defId,
              (await authorization.roleDefinitions.getById(authorizationScope(defId))).permissions ?? [],
            );
          permissions.push(...definitions.get(defId)!);
        }
      } catch (err) {
        const info = azureErrorInfo(err);
        if (info.statusCode === undefined || info.statusCode === 429 || info.statusCode >= 500)
          throw toActivityFailure(`reading the worker's roles on ${need.resource}`, err);
        if (info.statusCode === 403) {
          problem(
            'permissions',
            `the worker may not even read its role assignments on ${need.resource}`,
            'grant the worker the roles listed in the README',
          );
          continue;
        }
        warn(
          `could not check the worker's permissions on ${need.resource} (${info.statusCode} ${info.code ?? ''})`.trim(),
        );
        continue;
      }
      const missing = need.actions.filter((a) => !allows(permissions, a));
      if (missing.length > 0)
        problem(
          'permissions',
          `the worker may not ${missing.join(', ')} on ${need.resource}`,
          'grant the worker the roles listed in the README (Website Contributor on the app, Cognitive Services Contributor and Role Based Access Control Administrator on the account, Managed Identity Operator on a user-assigned identity)',
        );
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stage 1: identity.

  async function enableIdentity(input: {
    site: SiteRef;
    identity: MigrationPlan['identity'];
  }): Promise<EnableIdentityResult> {
    const { site, identity } = input;
    const current = await azureCall(`reading app ${describeSite(site)}`, () => getSite(site));
    const type = current.identity?.type ?? 'None';
    const hasSystem = type.includes('SystemAssigned');
    const uamis = Object.keys(current.identity?.userAssignedIdentities ?? {});
    if (identity.type === 'system-assigned') {
      if (hasSystem && current.identity?.principalId)
        return { principalId: current.identity.principalId, changed: false };
      const updated = await azureCall(`enabling the system-assigned identity of ${describeSite(site)}`, () =>
        patchIdentity(site, {
          identity: uamis.length
            ? {
                type: 'SystemAssigned, UserAssigned',
                userAssignedIdentities: Object.fromEntries(uamis.map((u) => [u, {}])),
              }
            : { type: 'SystemAssigned' },
        }),
      );
      const principalId = updated.identity?.principalId;
      if (!principalId)
        throw ApplicationFailure.retryable(
          `Azure returned no principalId for ${describeSite(site)}`,
          FailureType.AzureUnavailable,
        );
      return { principalId, changed: true };
    }
    const wanted = identity.resourceId!;
    const attached = uamis.find((u) => u.toLowerCase() === wanted.toLowerCase());
    let result = current;
    if (!attached) {
      result = await azureCall(`attaching identity ${wanted.split('/').pop()} to ${describeSite(site)}`, () =>
        patchIdentity(site, {
          identity: {
            type: hasSystem ? 'SystemAssigned, UserAssigned' : 'UserAssigned',
            userAssignedIdentities: Object.fromEntries([...uamis, wanted].map((u) => [u, {}])),
          },
        }),
      );
    }
    const entry = Object.entries(result.identity?.userAssignedIdentities ?? {}).find(
      ([k]) => k.toLowerCase() === wanted.toLowerCase(),
    );
    const principalId = entry?.[1]?.principalId;
    if (!principalId)
      throw ApplicationFailure.retryable(`Azure returned no principalId for ${wanted}`, FailureType.AzureUnavailable);
    return { principalId, ...(entry[1].clientId ? { clientId: entry[1].clientId } : {}), changed: !attached };
  }

  /** Compensation: put the identity block back as it was, removing only what this migration added. */
  async function restoreIdentity(input: { site: SiteRef; before: IdentitySnapshot }): Promise<{ changed: boolean }> {
    const { site, before } = input;
    const current = await azureCall(`reading app ${describeSite(site)}`, () => getSite(site));
    const now = snapshotIdentity(current);
    const added = now.userAssignedIdentityIds.filter((u) => !before.userAssignedIdentityIds.includes(u));
    const systemAdded = now.type.includes('SystemAssigned') && !before.type.includes('SystemAssigned');
    if (added.length === 0 && !systemAdded) return { changed: false };
    const keepSystem = before.type.includes('SystemAssigned');
    const remaining = Object.keys(current.identity?.userAssignedIdentities ?? {}).filter(
      (u) => !added.includes(u.toLowerCase()),
    );
    const type = keepSystem
      ? remaining.length
        ? 'SystemAssigned, UserAssigned'
        : 'SystemAssigned'
      : remaining.length
        ? 'UserAssigned'
        : 'None';
    const userAssignedIdentities: Record<string, object | null> = {};
    for (const u of Object.keys(current.identity?.userAssignedIdentities ?? {}))
      userAssignedIdentities[u] = added.includes(u.toLowerCase()) ? null : {};
    await azureCall(`restoring the identity of ${describeSite(site)}`, () =>
      patchIdentity(site, {
        identity:
          type === 'None' || Object.keys(userAssignedIdentities).length === 0
            ? { type }
            : // null removes an identity in an ARM PATCH; the SDK's types do not say so.
              { type, userAssignedIdentities: userAssignedIdentities as Record<string, object> },
      }),
    );
    return { changed: true };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stage 2: role assignment.

  async function assignRole(input: {
    scope: string;
    principalId: string;
    roleDefinitionId: string;
  }): Promise<RoleAssignmentResult> {
    const scope = authorizationScope(input.scope);
    const name = roleAssignmentName(input.scope, input.principalId, input.roleDefinitionId);
    const { authorization } = clients(subscriptionOf(input.scope));
    try {
      const ra = await authorization.roleAssignments.create(scope, name, {
        roleDefinitionId: input.roleDefinitionId,
        principalId: input.principalId,
        principalType: 'ServicePrincipal',
        description: 'cutover: managed identity access to Azure OpenAI',
      });
      return {
        roleAssignmentId: ra.id ?? `${input.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
        name,
        scope: input.scope,
        principalId: input.principalId,
        ours: true,
      };
    } catch (err) {
      if (statusOf(err) === 409 && codeOf(err) === 'RoleAssignmentExists') {
        const existingName = /([0-9a-f]{32})\.?\s*$/i.exec(azureErrorInfo(err).message)?.[1];
        const guid = existingName
          ? `${existingName.slice(0, 8)}-${existingName.slice(8, 12)}-${existingName.slice(12, 16)}-${existingName.slice(16, 20)}-${existingName.slice(20)}`
          : 'unknown';
        return {
          roleAssignmentId: `${input.scope}/providers/Microsoft.Authorization/roleAssignments/${guid}`,
          name: guid,
          scope: input.scope,
          principalId: input.principalId,
          ours: false,
        };
      }
      throw toActivityFailure(`assigning the role to principal ${input.principalId}`, err);
    }
  }

  /** Compensation: delete the assignment this migration created (its deterministic name), never another. */
  async function deleteRoleAssignment(input: {
    scope: string;
    principalId: string;
    roleDefinitionId: string;
    preExistingNames: readonly string[];
  }): Promise<{ deleted: boolean }> {
    const name = roleAssignmentName(input.scope, input.principalId, input.roleDefinitionId);
    if (input.preExistingNames.map((n) => n.toLowerCase()).includes(name)) return { deleted: false };
    const { authorization } = clients(subscriptionOf(input.scope));
    try {
      const res = await authorization.roleAssignments.delete(authorizationScope(input.scope), name);
      return { deleted: !!res?.id };
    } catch (err) {
      if (statusOf(err) === 404) return { deleted: false };
      throw toActivityFailure(`deleting role assignment ${name}`, err);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Probes: the app's identity probe (propagation) and its health endpoint (smoke test).

  async function probeApp(input: {
    url: string;
    expectStatus: number;
    expectJson: Readonly<Record<string, string | number | boolean>>;
    timeoutMs: number;
  }): Promise<ProbeResult> {
    const at = new Date().toISOString();
    try {
      const res = await httpRequest(input.url, {
        timeoutMs: input.timeoutMs,
        ca,
        signal: cancellationSignal(),
      });
      const body = res.json<Record<string, unknown>>() ?? {};
      const error = (body.error ?? {}) as { code?: unknown; message?: unknown };
      const requestId = str(body.requestId) ?? str(res.headers['x-request-id']) ?? str(res.headers['apim-request-id']);
      const mismatched = Object.entries(input.expectJson).filter(([k, v]) => body[k] !== v);
      const ok = res.status === input.expectStatus && mismatched.length === 0;
      return {
        ok,
        status: res.status,
        ...(str(body.authMode) ? { authMode: str(body.authMode) } : {}),
        ...(requestId ? { requestId } : {}),
        ...(str(error.code) ? { errorCode: str(error.code) } : {}),
        ...(ok
          ? {}
          : {
              message:
                res.status !== input.expectStatus
                  ? `HTTP ${res.status}${str(error.message) ? `: ${str(error.message)}` : ''}`
                  : `expected ${mismatched.map(([k, v]) => `${k}=${String(v)}`).join(', ')}, got ${mismatched.map(([k]) => `${k}=${String(body[k])}`).join(', ')}`,
            }),
        at,
      };
    } catch (err) {
      return { ok: false, errorCode: 'Unreachable', message: (err as Error).message, at };
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stage 5: settings.

  /**
   * Reads the app's settings, applies `desired` (a value sets, `undefined` removes; a function sees the current
   * settings and may say `keep`) and writes the whole dictionary back only if something changed — so a retried
   * call neither restarts the app again nor loses a setting. Returns the names changed.
   */
  async function applySettings(
    site: SiteRef,
    what: string,
    desired: (current: Readonly<Record<string, string>>) => Promise<Record<string, string | undefined>>,
  ): Promise<{ changed: string[] }> {
    const settings = await azureCall(`reading app settings of ${describeSite(site)}`, () => readSettings(site));
    const changed: string[] = [];
    for (const [name, value] of Object.entries(await desired(settings))) {
      if (value === undefined ? !(name in settings) : settings[name] === value) continue;
      if (value === undefined) delete settings[name];
      else settings[name] = value;
      changed.push(name);
    }
    if (changed.length > 0)
      await azureCall(`${what} app settings of ${describeSite(site)}`, () => writeSettings(site, settings));
    return { changed };
  }

  async function updateSettings(input: {
    site: SiteRef;
    remove: readonly string[];
    set: Readonly<Record<string, string>>;
  }): Promise<{ changed: string[] }> {
    return applySettings(input.site, 'writing', async () => ({
      ...Object.fromEntries(input.remove.map((name) => [name, undefined])),
      ...input.set,
    }));
  }

  /** Compensation: bring touched settings back, reading account keys again from Azure when needed. */
  async function restoreSettings(input: {
    site: SiteRef;
    before: Readonly<Record<string, SettingSnapshot>>;
    account: AccountRef;
  }): Promise<{ changed: string[] }> {
    return applySettings(input.site, 'restoring', async (current) => {
      const desired: Record<string, string | undefined> = {};
      let keys: { key1?: string; key2?: string } | undefined;
      for (const [name, snap] of Object.entries(input.before)) {
        switch (snap.kind) {
          case 'absent':
            desired[name] = undefined;
            break;
          case 'plain':
          case 'key-vault-reference':
            desired[name] = snap.value;
            break;
          case 'account-key':
            try {
              keys ??= await accountKeys(input.account);
            } catch (err) {
              if (statusOf(err) !== 400) throw toActivityFailure(`reading the keys of ${input.account.name}`, err);
              // Azure refuses listKeys once local auth is off; this run did not switch it (it would have switched
              // it back first), so the key cannot come back: an operator decides.
              throw ApplicationFailure.create({
                type: FailureType.CannotRestoreSetting,
                message: `cannot restore ${name}: ${input.account.name} no longer accepts keys (local auth was disabled by another change), so the app stays on its identity — skip this step to accept that`,
                nonRetryable: true,
              });
            }
            desired[name] = keys[snap.keyName];
            if (desired[name] === undefined)
              throw ApplicationFailure.create({
                type: FailureType.CannotRestoreSetting,
                message: `cannot restore ${name}: ${input.account.name} returned no ${snap.keyName}`,
                nonRetryable: true,
              });
            break;
          case 'secret':
            // Still the same secret: nothing to restore. Anything else cannot be brought back.
            if (current[name] !== undefined && fingerprint(current[name]) === snap.fingerprint) break;
            throw ApplicationFailure.create({
              type: FailureType.CannotRestoreSetting,
              message: `cannot restore ${name}: its earlier value was a secret that cutover does not keep`,
              nonRetryable: true,
            });
        }
      }
      return desired;
    });
  }

  /**
   * Swaps a slot into production (`forward`) or back out of it (`back`, the compensation). Idempotent: production's
   * settings tell whether it already runs the migrated configuration, so a retried swap never swaps twice.
   */
  async function swapSlots(input: {
    site: SiteRef;
    slot: string;
    direction: 'forward' | 'back';
    marker: SwapMarker;
  }): Promise<{ swapped: boolean }> {
    const { site, slot, marker } = input;
    const production: SiteRef = {
      subscriptionId: site.subscriptionId,
      resourceGroup: site.resourceGroup,
      name: site.name,
    };
    const settings = await azureCall(`reading app settings of ${site.name}`, () => readSettings(production));
    const migrated =
      marker.remove.every((n) => !(n in settings)) && Object.entries(marker.set).every(([n, v]) => settings[n] === v);
    if ((input.direction === 'forward') === migrated) return { swapped: false };
    const { web } = clients(site.subscriptionId);
    await azureCall(
      `swapping slot ${slot} of ${site.name} ${input.direction === 'forward' ? 'into' : 'back out of'} production`,
      () =>
        web.webApps
          .swapSlot(
            site.resourceGroup,
            site.name,
            slot,
            { targetSlot: 'production', preserveVnet: true },
            { ...lro, abortSignal: cancellationSignal() },
          )
          .pollUntilDone(),
    );
    return { swapped: true };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stage 6: local auth.

  async function setLocalAuth(input: { account: AccountRef; disabled: boolean }): Promise<{ changed: boolean }> {
    const { account } = input;
    const { cognitive } = clients(account.subscriptionId);
    let current = await azureCall(`reading account ${account.name}`, () =>
      cognitive.accounts.get(account.resourceGroup, account.name),
    );
    // Another update of the account is under way (Azure would refuse ours with 409): wait for it to settle.
    while (TRANSITIONAL_STATES.has(current.properties?.provisioningState ?? '')) {
      heartbeat({ waitingFor: `an update of ${account.name} in progress (${current.properties?.provisioningState})` });
      await pause(lro.updateIntervalInMs);
      current = await azureCall(`reading account ${account.name}`, () =>
        cognitive.accounts.get(account.resourceGroup, account.name),
      );
    }
    if ((current.properties?.disableLocalAuth === true) === input.disabled) return { changed: false };
    const action = `${input.disabled ? 'disabling' : 're-enabling'} local auth on ${account.name}`;
    let result: Awaited<ReturnType<typeof cognitive.accounts.beginUpdateAndWait>>;
    try {
      // The activity wrapper heartbeats while this long-running operation is polled.
      result = await cognitive.accounts.beginUpdateAndWait(
        account.resourceGroup,
        account.name,
        { properties: { disableLocalAuth: input.disabled } },
        { ...lro, abortSignal: cancellationSignal() },
      );
    } catch (err) {
      // An operation that ends Failed (a policy denial, say) throws a plain Error, which would read as "Azure
      // unreachable" and be retried. The account tells: Failed is Azure's final answer, not a transient error.
      if (statusOf(err) === undefined) {
        const after = await cognitive.accounts.get(account.resourceGroup, account.name).catch(() => undefined);
        if (after?.properties?.provisioningState === 'Failed')
          throw ApplicationFailure.create({
            type: FailureType.AzureOperationFailed,
            message: `${action} failed: ${azureErrorInfo(err).message}`,
            nonRetryable: true,
          });
      }
      throw toActivityFailure(action, err);
    }
    if (result.properties?.provisioningState && result.properties.provisioningState !== 'Succeeded')
      throw ApplicationFailure.create({
        type: FailureType.AzureOperationFailed,
        message: `updating ${account.name} ended ${result.properties.provisioningState}`,
        nonRetryable: true,
      });
    return { changed: true };
  }

  /**
   * Proves keys are refused: a key call to the data plane must answer 403 AuthenticationTypeDisabled, `confirmations`
   * times in a row (Azure's front ends follow a switch at different moments, so one refusal proves little). Polls,
   * since the switch takes minutes in Azure. Uses a well-formed dummy key: the type of auth is refused before the
   * key is looked at.
   */
  async function verifyKeysRefused(input: {
    endpoint: string;
    deployment: string;
    timeoutMs: number;
    intervalMs: number;
    confirmations?: number;
  }): Promise<{ code: string; attempts: number }> {
    const needed = Math.max(1, input.confirmations ?? 1);
    const deadline = Date.now() + input.timeoutMs;
    const url = `${input.endpoint.replace(/\/$/, '')}/openai/deployments/${encodeURIComponent(input.deployment)}/chat/completions?api-version=${OPENAI_API_VERSION}`;
    const dummyKey = '0'.repeat(32);
    let attempts = 0;
    let inARow = 0;
    let last = '';
    for (;;) {
      attempts++;
      heartbeat({ attempts, inARow, last });
      try {
        const res = await httpRequest(url, {
          method: 'POST',
          headers: { 'api-key': dummyKey },
          body: { messages: [{ role: 'user', content: 'cutover key check' }], max_tokens: 1 },
          timeoutMs: 15_000,
          ca,
          signal: cancellationSignal(),
        });
        const code = str(res.json<{ error?: { code?: string } }>()?.error?.code) ?? '';
        if (res.status === 403 && code === 'AuthenticationTypeDisabled') {
          inARow++;
          if (inARow >= needed) return { code, attempts };
        } else inARow = 0;
        last = `${res.status} ${code}`;
      } catch (err) {
        inARow = 0;
        last = (err as Error).message;
      }
      if (Date.now() + input.intervalMs > deadline)
        throw ApplicationFailure.create({
          type: FailureType.LocalAuthNotEffective,
          message: `keys are still not refused ${needed > 1 ? `${needed} times in a row ` : ''}after ${attempts} attempts (last answer: ${last})`,
          nonRetryable: true,
        });
      await pause(input.intervalMs);
    }
  }

  async function writeEvidence(evidence: Evidence): Promise<{ path: string }> {
    return { path: await writeEvidenceFile(deps.evidenceDir, evidence) };
  }

  // Every activity heartbeats while it runs, short ARM calls too: a worker killed mid-call is then noticed within
  // the profile's heartbeatTimeout instead of its startToCloseTimeout (minutes), and another worker takes over.
  return heartbeating(
    {
      preflight,
      enableIdentity,
      restoreIdentity,
      assignRole,
      deleteRoleAssignment,
      probeApp,
      updateSettings,
      restoreSettings,
      swapSlots,
      ...localAuth,
      setLocalAuth,
      verifyKeysRefused,
      writeEvidence,
    },
    withHeartbeat,
  );
}

/** Wraps each activity so that it heartbeats for as long as it runs. */
function heartbeating<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
  withHeartbeat: <R>(what: string, work: Promise<R>) => Promise<R>,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities))
    wrapped[name] = (...args: never[]) => withHeartbeat(name, fn(...args));
  return wrapped as T;
}

export type MigrationActivities = ReturnType<typeof createActivities>;

function str(v: unknown): string | undefined {
  if (Array.isArray(v)) return str(v[0]);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function subscriptionOf(resourceId: string): string {
  const m = /subscriptions\/([^/]+)/i.exec(resourceId);
  if (!m)
    throw ApplicationFailure.nonRetryable(
      `not a subscription-scoped id: ${resourceId}`,
      FailureType.AzureRequestRejected,
    );
  return m[1];
}

/** Reads the claims of a JWT without verifying it (the tenant the worker signed in to). Never logs the token. */
function decodeJwtClaims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
