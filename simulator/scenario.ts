/**
 * Turns a validated scenario (scenario-schema.ts) into a fresh `SimState`, with every secret generated at load
 * time so that no secret is ever written in a scenario file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Delays, type Profile, type Throttling } from './knobs';
import { type BehaviorInput } from './behavior';
import { type AppRuntime } from './app-runtime';
import {
  type Account,
  type Principal,
  type SimState,
  type Site,
  type SlotState,
  type Subscription,
  PRODUCTION,
  accountId,
  emptyState,
  identityId,
  key,
  serverFarmId,
  siteId,
  workspaceId,
  diagnosticSettingKey,
} from './model';
import { findRole } from './rbac';
import { farmOf, isFunctionApp, newHostKeys } from './functions';
import { skuInfo } from './skus';
import { resolveMember, setMembers } from './groups';
import { type PendingVault, buildVaults, renderReference, vaultScope } from './scenario-keyvault';
import { buildContainerApp } from './scenario-container-apps';
import { buildMlWorkspace } from './scenario-ml';
import { buildSearchService } from './scenario-search';
import {
  type IdentitySpec,
  type ParsedScenario,
  ScenarioError,
  type ScopeSpec,
  type SettingValueSpec,
  type SiteSpec,
  type ContainerAppSpec,
  type MlWorkspaceSpec,
  type SearchServiceSpec,
  type DiagnosticSettingSpec,
} from './scenario-schema';

export const generate = {
  accountKey: () => randomBytes(16).toString('hex'),
  clientSecret: () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~';
    const bytes = randomBytes(37);
    const tail = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
    return `${randomBytes(2).toString('hex').slice(0, 3)}8Q~${tail}`;
  },
};

export interface BuiltScenario {
  state: SimState;
  profile?: Profile;
  delays: Partial<Delays>;
  throttling: Partial<Throttling>;
  behavior: BehaviorInput;
  paging: { pageSize?: number };
  appRuntime?: AppRuntime;
  /** Principal names (service principals) with their credentials, for `credentials()`. */
  servicePrincipals: string[];
}

export interface BuildContext {
  /** `https://127.0.0.1:PORT` — account endpoints and site host names derive from it. */
  baseUrl: string;
  now: number;
  /** A vault's URI (`https://127.0.0.1:VAULTPORT/`), for settings that reference it by `SecretUri`. */
  vaultUri?: (vaultName: string) => string;
}

export function accountEndpoint(baseUrl: string, account: Pick<Account, 'customSubDomainName' | 'location'>): string {
  return account.customSubDomainName
    ? `${baseUrl}/aoai/${account.customSubDomainName}/`
    : `${baseUrl}/aoai-regional/${account.location.replace(/\s+/g, '').toLowerCase()}/`;
}

/** Builds a fresh state from a validated scenario: ids and secrets are generated unless the scenario fixes them. */
export function buildState(scenario: ParsedScenario, ctx: BuildContext): BuiltScenario {
  const state = emptyState();
  const longAgo = ctx.now - 24 * 3600_000;
  const fail = (msg: string): never => {
    throw new ScenarioError(`invalid scenario: ${msg}`);
  };
  /** The plan a site names, checked against what its SKU hosts. */
  const planOf = (plan: string, site: string, kind: string | undefined, sub: string, rg: string): string => {
    const farm =
      state.serverFarms?.[key(serverFarmId(sub, rg, plan))] ??
      fail(`site ${site}: plan '${plan}' is not a plan of resource group ${rg}`);
    const info = skuInfo(farm.sku);
    if (info.functionsOnly && !(kind ?? '').split(',').includes('functionapp'))
      fail(`site ${site}: plan ${plan} (${info.tier}) hosts function apps only: give the site kind functionapp`);
    if (info.oneSite && Object.values(state.sites).some((s) => s.serverFarm === key(farm.id)))
      fail(`site ${site}: there can only be one site per Flex Consumption plan (${plan})`);
    return key(farm.id);
  };

  const tenantByName = new Map<string, string>();
  for (const t of scenario.tenants) {
    const id = t.id ?? randomUUID();
    state.tenants[id] = { id, name: t.name };
    tenantByName.set(t.name.toLowerCase(), id);
  }
  const defaultTenant = Object.keys(state.tenants)[0];
  const tenantOf = (n: string | undefined, where: string) =>
    n === undefined ? defaultTenant : (tenantByName.get(n.toLowerCase()) ?? fail(`${where}: unknown tenant '${n}'`));

  /** Principal names → objectId, for role assignments and setting references. */
  const principalByName = new Map<string, string>();
  const addPrincipal = (p: Principal) => {
    state.principals[p.objectId] = p;
    const k = p.name.toLowerCase();
    if (principalByName.has(k)) fail(`principal name '${p.name}' is used twice`);
    principalByName.set(k, p.objectId);
  };
  const servicePrincipals: string[] = [];
  for (const p of scenario.principals ?? []) {
    addPrincipal({
      objectId: p.objectId ?? randomUUID(),
      clientId: p.clientId ?? randomUUID(),
      tenantId: tenantOf(p.tenant, `principals.${p.name}.tenant`),
      name: p.name,
      kind: 'Application',
      secret: p.secret ?? generate.clientSecret(),
      createdAt: longAgo,
    });
    servicePrincipals.push(p.name);
  }

  // Groups exist before their members are resolved (members may be groups named later, or identities of sites).
  const groupByName = new Map<string, string>();
  for (const [gi, g] of (scenario.groups ?? []).entries()) {
    const objectId = g.objectId ?? randomUUID();
    const k = g.name.toLowerCase();
    if (groupByName.has(k)) fail(`groups.${gi}: group name '${g.name}' is used twice`);
    if (state.principals[objectId] || state.groups[objectId]) fail(`groups.${gi}: objectId ${objectId} is taken`);
    state.groups[objectId] = {
      objectId,
      tenantId: tenantOf(g.tenant, `groups.${gi}.tenant`),
      name: g.name,
      members: [],
      createdAt: longAgo,
    };
    groupByName.set(k, objectId);
  }

  const accountsByName = new Map<string, Account>();
  const uamiByName = new Map<string, string>();
  const scopeByName = { site: new Map<string, string>(), rg: new Map<string, string>() };
  const pendingSites: { site: Site; spec: SiteSpec; tenantId: string }[] = [];
  const pendingApps: {
    spec: ContainerAppSpec;
    subscriptionId: string;
    resourceGroup: string;
    location: string;
    tenantId: string;
  }[] = [];
  const pendingSearch: {
    spec: SearchServiceSpec;
    subscriptionId: string;
    resourceGroup: string;
    location: string;
    tenantId: string;
  }[] = [];
  const pendingVaults: PendingVault[] = [];
  const pendingMl: {
    spec: MlWorkspaceSpec;
    subscriptionId: string;
    resourceGroup: string;
    location: string;
    tenantId: string;
  }[] = [];
  const workspaceByName = new Map<string, string>();
  const pendingSettings: { account: Account; settings: DiagnosticSettingSpec[] }[] = [];

  for (const [si, s] of scenario.subscriptions.entries()) {
    const subId = s.id ?? randomUUID();
    const tenantId = tenantOf(s.tenant, `subscriptions.${si}.tenant`);
    const sub: Subscription = { id: subId, tenantId, displayName: s.name ?? `subscription-${si}`, resourceGroups: {} };
    if (s.managedByTenants)
      sub.managedByTenants = s.managedByTenants.map((t, i) => tenantOf(t, `subscriptions.${si}.managedByTenants.${i}`));
    if (s.tags) sub.tags = s.tags;
    state.subscriptions[key(subId)] = sub;
    for (const rg of s.resourceGroups ?? []) {
      const location = rg.location ?? 'eastus';
      sub.resourceGroups[key(rg.name)] = { name: rg.name, location };
      scopeByName.rg.set(rg.name.toLowerCase(), `/subscriptions/${subId}/resourceGroups/${rg.name}`);
      for (const u of rg.userAssignedIdentities ?? []) {
        const id = identityId(subId, rg.name, u.name);
        const principalId = u.principalId ?? randomUUID();
        const clientId = u.clientId ?? randomUUID();
        state.identities[key(id)] = {
          id,
          subscriptionId: subId,
          resourceGroup: rg.name,
          name: u.name,
          location: u.location ?? location,
          principalId,
          clientId,
          tenantId,
          tags: u.tags ?? {},
        };
        addPrincipal({
          objectId: principalId,
          clientId,
          tenantId,
          name: u.name,
          kind: 'ManagedIdentity',
          createdAt: longAgo,
          resourceId: id,
        });
        uamiByName.set(u.name.toLowerCase(), id);
      }
      for (const w of rg.workspaces ?? []) {
        const id = workspaceId(subId, rg.name, w.name);
        if (workspaceByName.has(w.name.toLowerCase())) fail(`workspace name '${w.name}' is used twice`);
        state.workspaces[key(id)] = {
          id,
          subscriptionId: subId,
          resourceGroup: rg.name,
          name: w.name,
          location: w.location ?? location,
          customerId: w.customerId ?? randomUUID(),
          createdAt: longAgo,
          tags: w.tags ?? {},
        };
        workspaceByName.set(w.name.toLowerCase(), id);
      }
      for (const a of rg.accounts ?? []) {
        const id = accountId(subId, rg.name, a.name);
        if (accountsByName.has(a.name.toLowerCase())) fail(`account name '${a.name}' is used twice`);
        const account: Account = {
          id,
          subscriptionId: subId,
          resourceGroup: rg.name,
          name: a.name,
          location: a.location ?? location,
          ...(a.customSubDomainName ? { customSubDomainName: a.customSubDomainName } : {}),
          disableLocalAuth: a.disableLocalAuth ?? false,
          provisioningState: 'Succeeded',
          publicNetworkAccess: 'Enabled',
          key1: generate.accountKey(),
          key2: generate.accountKey(),
          deployments: Object.fromEntries(
            (a.deployments ?? []).map((d) => [
              key(d.name),
              {
                name: d.name,
                model: d.model,
                version: d.version ?? '1',
                sku: d.sku ?? 'Standard',
                capacity: d.capacity ?? 10,
              },
            ]),
          ),
          tags: a.tags ?? {},
          createdAt: longAgo,
          ...(a.kind ? { kind: a.kind } : {}),
        };
        state.accounts[key(id)] = account;
        accountsByName.set(a.name.toLowerCase(), account);
        if (a.diagnosticSettings?.length) pendingSettings.push({ account, settings: a.diagnosticSettings });
      }
      for (const spec of rg.keyVaults ?? [])
        pendingVaults.push({ spec, subscriptionId: subId, resourceGroup: rg.name, location, tenantId });
      for (const plan of rg.plans ?? []) {
        const id = serverFarmId(subId, rg.name, plan.name);
        if (state.serverFarms?.[key(id)]) fail(`plan '${plan.name}' is named twice in resource group ${rg.name}`);
        (state.serverFarms ??= {})[key(id)] = {
          id,
          subscriptionId: subId,
          resourceGroup: rg.name,
          name: plan.name,
          location: plan.location ?? location,
          sku: plan.sku.toUpperCase(),
          linux: plan.linux ?? true,
        };
      }
      for (const spec of rg.containerApps ?? [])
        pendingApps.push({ spec, subscriptionId: subId, resourceGroup: rg.name, location, tenantId });
      for (const spec of rg.mlWorkspaces ?? [])
        pendingMl.push({ spec, subscriptionId: subId, resourceGroup: rg.name, location, tenantId });
      for (const spec of rg.searchServices ?? [])
        pendingSearch.push({ spec, subscriptionId: subId, resourceGroup: rg.name, location, tenantId });
      for (const site of rg.sites ?? []) {
        const id = siteId(subId, rg.name, site.name);
        if (scopeByName.site.has(site.name.toLowerCase()))
          fail(`site name '${site.name}' is used twice (site names are global)`);
        scopeByName.site.set(site.name.toLowerCase(), id);
        const built: Site = {
          id,
          subscriptionId: subId,
          resourceGroup: rg.name,
          name: site.name,
          location: site.location ?? location,
          stickySettingNames: site.stickySettings ?? [],
          connectionStringNames: [],
          slots: {},
          ...(site.kind ? { kind: site.kind } : {}),
          ...(site.tags ? { tags: { ...site.tags } } : {}),
          ...(site.plan ? { serverFarm: planOf(site.plan, site.name, site.kind, subId, rg.name) } : {}),
        };
        state.sites[key(id)] = built;
        pendingSites.push({ site: built, spec: site, tenantId });
      }
    }
  }

  // Diagnostic settings once every workspace of every resource group exists.
  for (const { account, settings } of pendingSettings) {
    for (const ds of settings) {
      const where = `account ${account.name}.diagnosticSettings.${ds.name}`;
      const ws = ds.workspace.startsWith('/')
        ? (state.workspaces[key(ds.workspace)]?.id ?? fail(`${where}: unknown workspace '${ds.workspace}'`))
        : (workspaceByName.get(ds.workspace.toLowerCase()) ?? fail(`${where}: unknown workspace '${ds.workspace}'`));
      const k = diagnosticSettingKey(account.id, ds.name);
      if (state.diagnosticSettings[k]) fail(`${where}: the name is used twice`);
      state.diagnosticSettings[k] = {
        resourceId: account.id,
        name: ds.name,
        properties: { workspaceId: ws, logs: ds.logs.map((l) => ({ ...l })), metrics: [] },
      };
    }
  }

  // Vaults once every account exists (a secret may hold any account's key); sites last: their settings may
  // reference accounts, identities and vault secrets of any resource group.
  buildVaults(state, pendingVaults, accountsByName, longAgo, fail);
  const resolveSetting = (v: SettingValueSpec, where: string): string => {
    if (typeof v === 'string') return v;
    if ('accountKey' in v) {
      const a = accountsByName.get(v.accountKey.toLowerCase()) ?? fail(`${where}: unknown account '${v.accountKey}'`);
      return v.key === 2 ? a.key2 : a.key1;
    }
    if ('accountEndpoint' in v) {
      const a =
        accountsByName.get(v.accountEndpoint.toLowerCase()) ?? fail(`${where}: unknown account '${v.accountEndpoint}'`);
      return accountEndpoint(ctx.baseUrl, a);
    }
    if ('keyVaultReference' in v)
      return renderReference(
        v.keyVaultReference,
        state,
        ctx.vaultUri ?? (() => fail(`${where}: no vault URIs (SecretUri references need a running simulator)`)),
        where,
        fail,
      );
    const u =
      uamiByName.get(v.identityClientId.toLowerCase()) ?? fail(`${where}: unknown identity '${v.identityClientId}'`);
    return state.identities[key(u)].clientId;
  };
  for (const { site, spec, tenantId } of pendingSites) {
    const makeSlot = (
      slotName: string,
      s: {
        settings?: Record<string, SettingValueSpec>;
        identity?: IdentitySpec;
        supportsIdentity?: boolean;
        keyVaultReferenceIdentity?: string;
      },
    ): SlotState => {
      const where = `site ${site.name}${slotName === PRODUCTION ? '' : `/${slotName}`}`;
      const slot: SlotState = {
        name: slotName,
        settings: Object.fromEntries(
          Object.entries(s.settings ?? {}).map(([k, v]) => [k, resolveSetting(v, `${where}.settings.${k}`)]),
        ),
        userAssigned: [],
        supportsIdentity: s.supportsIdentity ?? spec.supportsIdentity ?? true,
        lastModified: ctx.now,
      };
      const type = s.identity?.type ?? 'None';
      if (type.includes('SystemAssigned')) {
        const objectId = randomUUID();
        const resourceId = slotName === PRODUCTION ? site.id : `${site.id}/slots/${slotName}`;
        addPrincipal({
          objectId,
          clientId: randomUUID(),
          tenantId,
          name: slotName === PRODUCTION ? site.name : `${site.name}/${slotName}`,
          kind: 'ManagedIdentity',
          createdAt: longAgo,
          resourceId,
        });
        slot.systemPrincipalId = objectId;
      }
      if (type.includes('UserAssigned')) {
        for (const u of s.identity?.userAssigned ?? []) {
          slot.userAssigned.push(uamiByName.get(u.toLowerCase()) ?? fail(`${where}.identity: unknown identity '${u}'`));
        }
        if (slot.userAssigned.length === 0) fail(`${where}.identity: UserAssigned needs userAssigned`);
      }
      const kvIdentity = s.keyVaultReferenceIdentity;
      if (kvIdentity && kvIdentity.toLowerCase() !== 'systemassigned') {
        slot.keyVaultReferenceIdentity =
          uamiByName.get(kvIdentity.toLowerCase()) ??
          fail(`${where}.keyVaultReferenceIdentity: unknown identity '${kvIdentity}'`);
      } else if (kvIdentity) slot.keyVaultReferenceIdentity = 'SystemAssigned';
      return slot;
    };
    site.slots[PRODUCTION] = makeSlot(PRODUCTION, spec);
    for (const slot of spec.slots ?? []) site.slots[slot.name.toLowerCase()] = makeSlot(slot.name, slot);
    const farm = farmOf(state, site);
    const staging = (spec.slots ?? []).length;
    if (staging > skuInfo(farm.sku).maxSlots)
      fail(
        `site ${site.name}: ${staging} slot(s), but its plan ${farm.name} (${farm.sku}, ${skuInfo(farm.sku).tier}) allows ${skuInfo(farm.sku).maxSlots}`,
      );
    if (isFunctionApp(site)) for (const slot of Object.values(site.slots)) slot.hostKeys = newHostKeys();
  }

  /** What building a resource with managed identities of `tenantId` needs. */
  const identityBuild = (tenantId: string) => ({
    now: ctx.now,
    resolveSetting,
    uami: (n: string, where: string) => uamiByName.get(n.toLowerCase()) ?? fail(`${where}: unknown identity '${n}'`),
    addPrincipal: (objectId: string, name: string, resourceId: string) =>
      addPrincipal({
        objectId,
        clientId: randomUUID(),
        tenantId,
        name,
        kind: 'ManagedIdentity',
        createdAt: longAgo,
        resourceId,
      }),
    fail,
  });
  for (const p of pendingApps) {
    const app = buildContainerApp(p, {
      ...identityBuild(p.tenantId),
      keyVaultUrl: (ref, where) =>
        renderReference(
          { ...ref, form: 'uri' },
          state,
          ctx.vaultUri ?? (() => fail(`${where}: no vault URIs (Key Vault secrets need a running simulator)`)),
          where,
          fail,
        ).replace(/^@Microsoft\.KeyVault\(SecretUri=(.*?)\/?\)$/, '$1'),
      fail,
    });
    if (scopeByName.site.has(`app:${app.name}`)) fail(`container app name '${app.name}' is used twice`);
    scopeByName.site.set(`app:${app.name}`, app.id);
    (state.containerApps ??= {})[key(app.id)] = app;
  }

  for (const p of pendingMl) {
    const ws = buildMlWorkspace(p, identityBuild(p.tenantId));
    if (state.mlWorkspaces?.[key(ws.id)]) fail(`ML workspace '${ws.name}' is named twice`);
    (state.mlWorkspaces ??= {})[key(ws.id)] = ws;
  }
  for (const p of pendingSearch) {
    const service = buildSearchService(p, identityBuild(p.tenantId));
    if (state.searchServices?.[key(service.id)]) fail(`search service name '${service.name}' is used twice`);
    (state.searchServices ??= {})[key(service.id)] = service;
  }

  // Group members once every principal (system-assigned identities included) exists.
  for (const [gi, g] of (scenario.groups ?? []).entries()) {
    const where = `groups.${gi} (${g.name})`;
    const fromGroup = (m: string): never => fail(`${where}: ${m}`);
    if (principalByName.has(g.name.toLowerCase())) fail(`${where}: '${g.name}' is also a principal's name`);
    const group = state.groups[groupByName.get(g.name.toLowerCase()) as string];
    const members = (g.members ?? []).map((m, mi) =>
      resolveMember(state, m, (msg) => fail(`${where}.members.${mi}: ${msg}`)),
    );
    setMembers(state, group, members, fromGroup);
  }

  const firstSub = Object.keys(state.subscriptions)[0];
  const resolveScope = (scope: ScopeSpec, where: string): string => {
    if (typeof scope === 'string') {
      if (scope.startsWith('/')) return scope.replace(/\/+$/, '');
      return `/subscriptions/${firstSub}/${scope.replace(/^\/+|\/+$/g, '')}`;
    }
    if ('site' in scope) {
      const id = scopeByName.site.get(scope.site.toLowerCase()) ?? fail(`${where}: unknown site '${scope.site}'`);
      return scope.slot ? `${id}/slots/${scope.slot}` : id;
    }
    if ('containerApp' in scope)
      return (
        scopeByName.site.get(`app:${scope.containerApp.toLowerCase()}`) ??
        fail(`${where}: unknown container app '${scope.containerApp}'`)
      );
    if ('account' in scope)
      return (accountsByName.get(scope.account.toLowerCase()) ?? fail(`${where}: unknown account '${scope.account}'`))
        .id;
    if ('identity' in scope)
      return uamiByName.get(scope.identity.toLowerCase()) ?? fail(`${where}: unknown identity '${scope.identity}'`);
    if ('resourceGroup' in scope)
      return (
        scopeByName.rg.get(scope.resourceGroup.toLowerCase()) ??
        fail(`${where}: unknown resource group '${scope.resourceGroup}'`)
      );
    if ('vault' in scope) return vaultScope(scope, state, where, fail);
    return `/subscriptions/${scope.subscription === true ? firstSub : scope.subscription}`;
  };
  for (const [i, ra] of (scenario.roleAssignments ?? []).entries()) {
    const where = `roleAssignments.${i}`;
    const groupId = groupByName.get(ra.principal.toLowerCase());
    const principalId =
      principalByName.get(ra.principal.toLowerCase()) ??
      groupId ??
      fail(`${where}.principal: unknown principal or group '${ra.principal}'`);
    const role = findRole(ra.role) ?? fail(`${where}.role: unknown role '${ra.role}'`);
    const scope = resolveScope(ra.scope, `${where}.scope`);
    const name = ra.name ?? randomUUID();
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    state.roleAssignments[key(id)] = {
      id,
      name,
      scope,
      roleDefinitionId: role.id,
      principalId,
      principalType: groupId ? 'Group' : 'ServicePrincipal',
      createdOn: longAgo,
      updatedOn: longAgo,
      createdBy: null,
      updatedBy: null,
      description: ra.description ?? null,
    };
  }

  return {
    state,
    ...(scenario.profile ? { profile: scenario.profile } : {}),
    delays: scenario.delays ?? {},
    throttling: scenario.throttling ?? {},
    behavior: scenario.behavior ?? {},
    paging: scenario.paging ?? {},
    ...(scenario.apps?.runtime ? { appRuntime: scenario.apps.runtime } : {}),
    servicePrincipals,
  };
}
