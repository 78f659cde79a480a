/**
 * Scenarios: the YAML (or JSON) files that describe a simulated Azure estate — tenants, service principals,
 * subscriptions with resource groups, sites and slots, user-assigned identities, OpenAI accounts and the role
 * assignments that already exist. Validated with zod (errors name the field), then turned into a fresh `SimState`
 * with every secret generated at load time so that no secret is ever written in a scenario file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Delays, PROFILES, type Profile, type Throttling } from './knobs';
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
  siteId,
} from './model';
import { findRole, isGuid } from './rbac';
import { type BehaviorInput, behaviorSchema } from './behavior';
import {
  type PendingVault,
  buildVaults,
  keyVaultReferenceSetting,
  renderReference,
  vaultSchema,
  vaultScope,
  vaultScopeSchema,
} from './scenario-keyvault';

const guid = z.string().refine(isGuid, { message: 'must be a GUID' });
const name = z.string().min(1);

/** An app setting: a literal, or a reference to a value the simulator generates. */
const settingValue = z.union([
  z.string(),
  z.number().transform(String),
  z.boolean().transform(String),
  z.strictObject({ accountKey: name, key: z.union([z.literal(1), z.literal(2)]).optional() }),
  z.strictObject({ accountEndpoint: name }),
  z.strictObject({ identityClientId: name }),
  keyVaultReferenceSetting,
]);

const identitySchema = z.strictObject({
  type: z.enum(['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned']),
  userAssigned: z.array(name).optional(),
});

const slotSchema = z.strictObject({
  name: name.refine((n) => n.toLowerCase() !== PRODUCTION, { message: '"production" is the site itself' }),
  settings: z.record(z.string(), settingValue).optional(),
  identity: identitySchema.optional(),
  supportsIdentity: z.boolean().optional(),
  keyVaultReferenceIdentity: z.string().optional(),
});

const siteSchema = z.strictObject({
  name: name.regex(/^[a-zA-Z0-9-]{2,60}$/, 'letters, digits and hyphens, 2 to 60 characters'),
  location: z.string().optional(),
  settings: z.record(z.string(), settingValue).optional(),
  stickySettings: z.array(z.string()).optional(),
  identity: identitySchema.optional(),
  supportsIdentity: z.boolean().optional(),
  keyVaultReferenceIdentity: z.string().optional(),
  slots: z.array(slotSchema).optional(),
  kind: z
    .string()
    .regex(/^(app|functionapp|api)(,[a-z]+)*$/, "App Service kinds: 'app', 'app,linux', 'functionapp,linux', …")
    .optional(),
});

const deploymentSchema = z.strictObject({
  name,
  model: name,
  version: z.string().optional(),
  sku: z.string().optional(),
  capacity: z.number().int().positive().optional(),
});

const accountSchema = z.strictObject({
  name: name.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$/, 'an account name'),
  location: z.string().optional(),
  /** Custom subdomain; omit or null for a regional endpoint (which refuses Entra tokens). */
  customSubDomainName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits, hyphens')
    .nullable()
    .optional(),
  disableLocalAuth: z.boolean().optional(),
  kind: z.enum(['OpenAI', 'AIServices', 'CognitiveServices']).optional(),
  deployments: z.array(deploymentSchema).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

const uamiSchema = z.strictObject({
  name,
  location: z.string().optional(),
  clientId: guid.optional(),
  principalId: guid.optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

const resourceGroupSchema = z.strictObject({
  name,
  location: z.string().optional(),
  sites: z.array(siteSchema).optional(),
  userAssignedIdentities: z.array(uamiSchema).optional(),
  accounts: z.array(accountSchema).optional(),
  keyVaults: z.array(vaultSchema).optional(),
});

const scopeSchema = z.union([
  z.string().min(1),
  z.strictObject({ site: name, slot: name.optional() }),
  z.strictObject({ account: name }),
  z.strictObject({ identity: name }),
  z.strictObject({ resourceGroup: name }),
  z.strictObject({ subscription: z.union([guid, z.literal(true)]) }),
  vaultScopeSchema,
]);

/** Every delay of `Delays`, in milliseconds; the profile's keys are the single source of truth. */
const delayKeys = Object.keys(PROFILES.fast) as (keyof Delays)[];
const delaysSchema = z
  .strictObject(
    Object.fromEntries(delayKeys.map((k) => [k, z.number().nonnegative()])) as Record<keyof Delays, z.ZodNumber>,
  )
  .partial();

const bucketSchema = z.strictObject({ capacity: z.number().positive(), refillPerSec: z.number().positive() });

export const throttlingSchema = z
  .strictObject({ enabled: z.boolean(), reads: bucketSchema, writes: bucketSchema, deletes: bucketSchema })
  .partial();

export const scenarioSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  profile: z.enum(['fast', 'realistic']).optional(),
  delays: delaysSchema.optional(),
  throttling: throttlingSchema.optional(),
  behavior: behaviorSchema.optional(),
  paging: z.strictObject({ pageSize: z.number().int().positive() }).partial().optional(),
  tenants: z.array(z.strictObject({ name, id: guid.optional() })).min(1),
  principals: z
    .array(
      z.strictObject({
        name,
        tenant: name.optional(),
        clientId: guid.optional(),
        objectId: guid.optional(),
        secret: z.string().min(8).optional(),
      }),
    )
    .optional(),
  subscriptions: z
    .array(
      z.strictObject({
        id: guid.optional(),
        name: z.string().optional(),
        tenant: name.optional(),
        managedByTenants: z.array(name).optional(),
        tags: z.record(z.string(), z.string()).optional(),
        resourceGroups: z.array(resourceGroupSchema).optional(),
      }),
    )
    .min(1),
  roleAssignments: z
    .array(
      z.strictObject({
        principal: name,
        role: name,
        scope: scopeSchema,
        name: guid.optional(),
        description: z.string().optional(),
      }),
    )
    .optional(),
});

export type Scenario = z.input<typeof scenarioSchema>;
type ParsedScenario = z.output<typeof scenarioSchema>;
export type DelaysInput = z.input<typeof delaysSchema>;
export type ThrottlingInput = z.input<typeof throttlingSchema>;

export class ScenarioError extends Error {}

function formatIssues(err: z.ZodError, source: string): string {
  const lines = err.issues.map((i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `invalid scenario ${source}:\n${lines.join('\n')}`;
}

/** Parses and validates a scenario given as an object, YAML/JSON text, `'demo'` or a file path. */
export function parseScenario(input: unknown, source = 'scenario'): ParsedScenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) throw new ScenarioError(formatIssues(result.error, source));
  return result.data;
}

export function parseScenarioText(text: string, source = 'scenario'): ParsedScenario {
  let doc: unknown;
  try {
    doc = parseYaml(text) as unknown; // YAML is a superset of JSON
  } catch (err) {
    throw new ScenarioError(`invalid scenario ${source}: ${(err as Error).message}`);
  }
  return parseScenario(doc, source);
}

/** `'demo'` → the shipped demo scenario (found from source or from dist). */
export function scenarioPath(nameOrPath: string): string {
  if (nameOrPath !== 'demo') return path.resolve(nameOrPath);
  const candidates = [
    path.join(__dirname, 'scenarios', 'demo.yaml'),
    path.join(__dirname, '..', '..', 'simulator', 'scenarios', 'demo.yaml'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new ScenarioError(`demo scenario not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function loadScenario(input: string | Scenario): ParsedScenario {
  if (typeof input !== 'string') return parseScenario(input);
  const file = scenarioPath(input);
  return parseScenarioText(readFileSync(file, 'utf8'), file);
}

// ---------------------------------------------------------------------------------------------------------------

/** Random secrets in the shapes Azure uses, so leak scans can look for realistic material. */
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

  const accountsByName = new Map<string, Account>();
  const uamiByName = new Map<string, string>();
  const scopeByName = { site: new Map<string, string>(), rg: new Map<string, string>() };
  const pendingSites: { site: Site; spec: z.output<typeof siteSchema>; tenantId: string }[] = [];
  const pendingVaults: PendingVault[] = [];

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
      }
      for (const spec of rg.keyVaults ?? [])
        pendingVaults.push({ spec, subscriptionId: subId, resourceGroup: rg.name, location, tenantId });
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
        };
        state.sites[key(id)] = built;
        pendingSites.push({ site: built, spec: site, tenantId });
      }
    }
  }

  // Vaults once every account exists (a secret may hold any account's key); sites last: their settings may
  // reference accounts, identities and vault secrets of any resource group.
  buildVaults(state, pendingVaults, accountsByName, longAgo, fail);
  const resolveSetting = (v: z.output<typeof settingValue>, where: string): string => {
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
        settings?: Record<string, z.output<typeof settingValue>>;
        identity?: z.output<typeof identitySchema>;
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
  }

  const firstSub = Object.keys(state.subscriptions)[0];
  const resolveScope = (scope: z.output<typeof scopeSchema>, where: string): string => {
    if (typeof scope === 'string') {
      if (scope.startsWith('/')) return scope.replace(/\/+$/, '');
      return `/subscriptions/${firstSub}/${scope.replace(/^\/+|\/+$/g, '')}`;
    }
    if ('site' in scope) {
      const id = scopeByName.site.get(scope.site.toLowerCase()) ?? fail(`${where}: unknown site '${scope.site}'`);
      return scope.slot ? `${id}/slots/${scope.slot}` : id;
    }
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
    const principalId =
      principalByName.get(ra.principal.toLowerCase()) ??
      fail(`${where}.principal: unknown principal '${ra.principal}'`);
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
      principalType: 'ServicePrincipal',
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
    servicePrincipals,
  };
}
