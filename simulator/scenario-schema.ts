/**
 * The scenario file format: the YAML (or JSON) files that describe a simulated Azure estate — tenants, service
 * principals, subscriptions with resource groups, sites and slots, user-assigned identities, OpenAI accounts and the
 * role assignments that already exist. Validated with zod (errors name the field); scenario.ts builds the state.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { APP_RUNTIMES } from './app-runtime';
import { behaviorSchema } from './behavior';
import { type Delays, PROFILES } from './knobs';
import { PRODUCTION } from './model';
import { isGuid } from './rbac';
import { SKU_NAMES } from './skus';
import { keyVaultReferenceSetting, vaultSchema, vaultScopeSchema } from './scenario-keyvault';

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
  /** The App Service plan (of the same resource group) it runs on; absent: an implicit Standard plan of its own. */
  plan: name.optional(),
  /** Resource tags of the app (its slots have none). */
  tags: z.record(z.string(), z.string()).optional(),
});

/** A container app secret: a value (any setting value: a literal, an account key …) or a Key Vault secret. */
const containerAppSecretSchema = z.union([
  z.strictObject({ name: name.regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'a secret name'), value: settingValue }),
  z.strictObject({
    name: name.regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'a secret name'),
    keyVaultReference: keyVaultReferenceSetting.shape.keyVaultReference,
    /** `system`, or the name of a user-assigned identity the app has. */
    identity: name,
  }),
]);

/** An Azure Container App in a managed environment, with one revision made of its image and env. */
const containerAppSchema = z.strictObject({
  name: name.regex(
    /^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$/,
    "lower-case letters, digits and single '-', 2 to 32 characters",
  ),
  location: z.string().optional(),
  /** The managed environment's name (not itself modelled: its id only). */
  environment: name.optional(),
  revisionsMode: z.enum(['Single', 'Multiple']).optional(),
  revisionSuffix: name.regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'a revision suffix').optional(),
  image: z.string().optional(),
  identity: identitySchema.optional(),
  supportsIdentity: z.boolean().optional(),
  secrets: z.array(containerAppSecretSchema).optional(),
  env: z.record(z.string(), z.union([settingValue, z.strictObject({ secretRef: name })])).optional(),
  ingress: z.strictObject({ external: z.boolean().optional(), targetPort: z.number().int().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

/** An Azure Machine Learning workspace with its connections and computes (scenario-ml.ts builds it). */
const mlIdentitySchema = z.strictObject({
  type: z.enum(['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned']),
  userAssigned: z.array(name).optional(),
});
const mlWorkspaceSchema = z.strictObject({
  name: name.regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/, "3 to 33 letters, digits, '-' or '_'"),
  location: z.string().optional(),
  identity: mlIdentitySchema.optional(),
  /** Name of one of its user-assigned identities. */
  primaryUserAssignedIdentity: name.optional(),
  tags: z.record(z.string(), z.string()).optional(),
  connections: z
    .array(
      z.strictObject({
        name: name.regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/, "3 to 33 letters, digits, '-' or '_'"),
        category: z.string().default('AzureOpenAI'),
        authType: z.enum(['ApiKey', 'AAD', 'None', 'PAT']),
        target: settingValue,
        /** The key of an ApiKey connection (any setting value: an account key …). */
        key: settingValue.optional(),
        metadata: z.record(z.string(), settingValue).optional(),
      }),
    )
    .optional(),
  computes: z
    .array(
      z.strictObject({
        name,
        computeType: z.string().default('ComputeInstance'),
        identity: mlIdentitySchema.optional(),
      }),
    )
    .optional(),
});

/**
 * An AI Search service: its identity, and its data plane's objects as Azure's wire JSON (api-version 2026-04-01),
 * in which `{ accountKey: x }`, `{ accountEndpoint: x }` and `{ identity: x }` (a user-assigned identity's ARM id)
 * stand for what they name. A data source's `documents` are what its container holds.
 */
const searchServiceSchema = z.strictObject({
  name: name.regex(/^[a-z0-9](?!.*--)[a-z0-9-]{0,58}[a-z0-9]$/, "lower-case letters, digits and single '-'"),
  location: z.string().optional(),
  sku: z.string().optional(),
  identity: identitySchema.optional(),
  tags: z.record(z.string(), z.string()).optional(),
  dataSources: z
    .array(
      z.strictObject({
        name,
        type: z.string().optional(),
        container: z.string().optional(),
        documents: z.array(z.record(z.string(), z.unknown())),
      }),
    )
    .optional(),
  skillsets: z.array(z.record(z.string(), z.unknown())).optional(),
  indexes: z.array(z.record(z.string(), z.unknown())).optional(),
  indexers: z.array(z.record(z.string(), z.unknown())).optional(),
});

const planSchema = z.strictObject({
  name,
  location: z.string().optional(),
  sku: z.string().refine((s) => SKU_NAMES.includes(s.toUpperCase()), { message: `one of ${SKU_NAMES.join(', ')}` }),
  /** Linux workers (the default) or Windows. */
  linux: z.boolean().optional(),
});

const deploymentSchema = z.strictObject({
  name,
  model: name,
  version: z.string().optional(),
  sku: z.string().optional(),
  capacity: z.number().int().positive().optional(),
});

const diagnosticLogSchema = z.union([
  z.strictObject({
    category: z.enum(['Audit', 'RequestResponse', 'Trace', 'AzureOpenAIRequestUsage']),
    enabled: z.boolean(),
  }),
  z.strictObject({ categoryGroup: z.enum(['allLogs', 'audit']), enabled: z.boolean() }),
]);

/** A diagnostic setting of an account: `workspace` is a workspace name of the scenario or a workspace ARM id. */
const diagnosticSettingSchema = z.strictObject({
  name: name.regex(/^[^*#&+:<>?/%\\]{1,260}$/, 'a diagnostic setting name'),
  workspace: name,
  logs: z.array(diagnosticLogSchema).min(1),
});

const workspaceSchema = z.strictObject({
  name: name.regex(/^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/, 'a workspace name: 4 to 63 letters, digits, hyphens'),
  location: z.string().optional(),
  customerId: guid.optional(),
  tags: z.record(z.string(), z.string()).optional(),
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
  diagnosticSettings: z.array(diagnosticSettingSchema).optional(),
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
  plans: z.array(planSchema).optional(),
  sites: z.array(siteSchema).optional(),
  containerApps: z.array(containerAppSchema).optional(),
  mlWorkspaces: z.array(mlWorkspaceSchema).optional(),
  searchServices: z.array(searchServiceSchema).optional(),
  userAssignedIdentities: z.array(uamiSchema).optional(),
  accounts: z.array(accountSchema).optional(),
  keyVaults: z.array(vaultSchema).optional(),
  workspaces: z.array(workspaceSchema).optional(),
});

const scopeSchema = z.union([
  z.string().min(1),
  z.strictObject({ site: name, slot: name.optional() }),
  z.strictObject({ containerApp: name }),
  z.strictObject({ account: name }),
  z.strictObject({ identity: name }),
  z.strictObject({ resourceGroup: name }),
  z.strictObject({ subscription: z.union([guid, z.literal(true)]) }),
  vaultScopeSchema,
]);

/**
 * A group member: a principal name (service principal, user-assigned identity, or a system-assigned identity as
 * `site` / `site/slot`), a group name, a user-assigned identity's ARM id, or one of the explicit forms.
 */
export const memberSchema = z.union([
  name,
  z.strictObject({ identity: name, resourceGroup: name.optional() }),
  z.strictObject({ site: name, slot: name.optional() }),
  z.strictObject({ group: name }),
  z.strictObject({ objectId: guid }),
]);

export const membersSchema = z.array(memberSchema);

const groupSchema = z.strictObject({
  name,
  tenant: name.optional(),
  objectId: guid.optional(),
  members: z.array(memberSchema).optional(),
});

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
  /** How the simulated apps run: `runtime: process` (default) or `in-process` (see simulator/README.md). */
  apps: z
    .strictObject({ runtime: z.enum(APP_RUNTIMES) })
    .partial()
    .optional(),
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
  /** Entra security groups; `roleAssignments[].principal` may name one. */
  groups: z.array(groupSchema).optional(),
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
export type ParsedScenario = z.output<typeof scenarioSchema>;
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

export type SiteSpec = z.output<typeof siteSchema>;
export type ContainerAppSpec = z.output<typeof containerAppSchema>;
export type MlWorkspaceSpec = z.output<typeof mlWorkspaceSchema>;
export type SearchServiceSpec = z.output<typeof searchServiceSchema>;
export type SettingValueSpec = z.output<typeof settingValue>;
export type IdentitySpec = z.output<typeof identitySchema>;
export type ScopeSpec = z.output<typeof scopeSchema>;
export type GroupSpec = z.output<typeof groupSchema>;
export type DiagnosticSettingSpec = z.output<typeof diagnosticSettingSchema>;
