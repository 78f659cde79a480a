/**
 * The simulator's state: plain JSON (no Maps, no classes) so it can be snapshotted for `reset`, persisted to a
 * state file, and handed out whole by the control API. Resources are keyed by lower-cased ARM id, like ARM.
 */
import type { MlWorkspace } from './ml-model';
import type { SearchService } from './search-model';

export interface Tenant {
  id: string;
  name: string;
}

export interface Principal {
  objectId: string;
  /** appId. */
  clientId: string;
  tenantId: string;
  /** Scenario name (service principals, UAMIs) or the owning resource's name (system-assigned identities). */
  name: string;
  kind: 'Application' | 'ManagedIdentity';
  /** Client secret of an application's service principal. */
  secret?: string;
  /** Epoch ms; a principal younger than `principalReplicationMs` is not yet visible to role assignment writes. */
  createdAt: number;
  /** Managed identities: ARM id of the site/slot (system-assigned) or of the UAMI. */
  resourceId?: string;
}

/**
 * A Microsoft Entra security group. Role assignments to it apply to its members, transitively (a member group's
 * members too), evaluated at request time.
 */
export interface Group {
  objectId: string;
  tenantId: string;
  /** displayName (scenario name). */
  name: string;
  /** objectIds of the direct members: service principals, managed identities or other groups. */
  members: string[];
  createdAt: number;
}

export interface ResourceGroup {
  name: string;
  location: string;
}

export interface Subscription {
  id: string;
  tenantId: string;
  displayName: string;
  resourceGroups: Record<string, ResourceGroup>;
  /** Tenant ids of Azure Lighthouse managing tenants (`managedByTenants` of the subscription). */
  managedByTenants?: string[];
  tags?: Record<string, string>;
}

export interface SlotState {
  /** `production` or the slot name. */
  name: string;
  settings: Record<string, string>;
  /** objectId of the system-assigned identity, if enabled. */
  systemPrincipalId?: string;
  /** ARM ids of attached user-assigned identities, as the caller spelled them. */
  userAssigned: string[];
  /** A property of the deployed code: moves with the content on a swap. */
  supportsIdentity: boolean;
  lastModified: number;
  /** Identity App Service resolves Key Vault references with: `SystemAssigned` (absent) or a UAMI's ARM id. */
  keyVaultReferenceIdentity?: string;
  /** A function app's host keys (`host/default/listkeys`): secrets, untouched by settings changes and swaps. */
  hostKeys?: HostKeys;
}

/** The keys of a Functions host, as `listHostKeys` answers them. */
export interface HostKeys {
  masterKey: string;
  functionKeys: Record<string, string>;
  systemKeys: Record<string, string>;
}

/** What every ARM resource of the state knows of where it is. */
export interface ArmResource {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
}

/** An App Service plan (`Microsoft.Web/serverfarms`): where its sites run and what its SKU allows. */
export interface ServerFarm extends ArmResource {
  /** `S1`, `P1v3`, `Y1`, `FC1`, `EP1`, … (simulator/arm/server-farms.ts knows each). */
  sku: string;
  /** Linux (`reserved`) or Windows workers. */
  linux: boolean;
}

export interface Site {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** Slot-sticky app setting names (config/slotConfigNames). */
  stickySettingNames: string[];
  connectionStringNames: string[];
  slots: Record<string, SlotState>;
  /** `app`, `app,linux` (default), `functionapp`, `functionapp,linux`, … */
  kind?: string;
  /** Lower-cased ARM id of its plan in `serverFarms`; absent: an implicit Standard plan of its own. */
  serverFarm?: string;
  /** Resource tags of the app (production); its slots have none. */
  tags?: Record<string, string>;
}

/** A secret of a container app: a value, or a Key Vault reference read with one of the app's identities. */
export interface ContainerAppSecret {
  name: string;
  value?: string;
  keyVaultUrl?: string;
  /** `system` or a user-assigned identity's ARM id (Key Vault references only). */
  identity?: string;
}

/** An environment variable of a container: a literal or a reference to one of the app's secrets. */
export interface ContainerAppEnvVar {
  name: string;
  value?: string;
  secretRef?: string;
}

/** A container of a template: the fields the simulator reads, and whatever else the caller gave, kept as given. */
export interface ContainerAppContainer {
  name: string;
  image: string;
  env?: ContainerAppEnvVar[];
  [field: string]: unknown;
}

/** `properties.template`: what a revision is made of (any change to it makes a new revision). */
export interface ContainerAppTemplate {
  revisionSuffix?: string;
  containers: ContainerAppContainer[];
  [field: string]: unknown;
}

export interface ContainerAppRevision {
  /** `{app}--{suffix}`. */
  name: string;
  createdAt: number;
  template: ContainerAppTemplate;
  active: boolean;
  /** A property of the image it runs: whether that code can use a managed identity. */
  supportsIdentity: boolean;
  provisioningState: 'Provisioning' | 'Provisioned' | 'Failed';
  /** Why it failed to provision (a secret it could not fetch), when it did. */
  provisioningError?: string;
}

/** One `ingress.traffic` entry, as the caller wrote it. */
export interface TrafficWeight {
  revisionName?: string;
  latestRevision?: boolean;
  weight: number;
  label?: string;
}

/** `properties.configuration.ingress` as the simulator reads it (other fields kept as given). */
export interface ContainerAppIngress {
  external?: boolean;
  targetPort?: number;
  traffic: TrafficWeight[];
  [field: string]: unknown;
}

/** `properties.configuration` without its secrets (their values never leave `secrets`). */
export interface ContainerAppConfiguration {
  activeRevisionsMode: 'Single' | 'Multiple';
  ingress?: ContainerAppIngress;
  [field: string]: unknown;
}

/** An Azure Container App (Microsoft.App/containerApps) with its revisions. */
export interface ContainerApp {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** objectId of the system-assigned identity, if enabled. */
  systemPrincipalId?: string;
  /** ARM ids of attached user-assigned identities. */
  userAssigned: string[];
  secrets: ContainerAppSecret[];
  configuration: ContainerAppConfiguration;
  template: ContainerAppTemplate;
  /** Other `properties` the caller gave (environmentId, workloadProfileName, …), kept as given. */
  properties: Record<string, unknown>;
  /** By lower-cased revision name, oldest first. */
  revisions: Record<string, ContainerAppRevision>;
  latestRevisionName: string;
  /** Whether the code of the image the template names can use a managed identity (copied into new revisions). */
  supportsIdentity: boolean;
  tags: Record<string, string>;
  provisioningState: 'Succeeded' | 'InProgress' | 'Failed';
}

export interface UserAssignedIdentity {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  principalId: string;
  clientId: string;
  tenantId: string;
  tags: Record<string, string>;
}

export interface Deployment {
  name: string;
  model: string;
  version: string;
  sku: string;
  capacity: number;
}

export interface Account {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  customSubDomainName?: string;
  /** The ARM view: changes as soon as the PATCH is accepted. */
  disableLocalAuth: boolean;
  /** The data plane follows `disableLocalAuth` only `localAuthSwitchMs` after the change. */
  localAuthChange?: { previous: boolean; at: number };
  provisioningState: 'Succeeded' | 'Accepted' | 'Updating' | 'Creating' | 'Failed';
  publicNetworkAccess: 'Enabled' | 'Disabled';
  key1: string;
  key2: string;
  deployments: Record<string, Deployment>;
  tags: Record<string, string>;
  createdAt: number;
  /** `OpenAI` (default), `AIServices` (Foundry: serves Azure OpenAI too) or `CognitiveServices` (multi-service). */
  kind?: AccountKind;
}

export interface SecretVersion {
  /** 32 lower-case hex digits, like Key Vault's. */
  version: string;
  value: string;
  enabled: boolean;
  contentType?: string;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface VaultSecret {
  name: string;
  /** Oldest first: the last one is the current version. */
  versions: SecretVersion[];
}

/** A Key Vault in the RBAC permission model (access policies are not modelled). */
export interface KeyVault {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tenantId: string;
  tags: Record<string, string>;
  createdAt: number;
  /** Keyed by lower-cased secret name (Key Vault names are case-insensitive). */
  secrets: Record<string, VaultSecret>;
}
export type AccountKind = 'OpenAI' | 'AIServices' | 'CognitiveServices';

export interface RoleAssignment {
  id: string;
  name: string;
  scope: string;
  /** Role definition GUID. */
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  createdOn: number;
  updatedOn: number;
  createdBy: string | null;
  updatedBy: string | null;
  description: string | null;
  /** Set when deleted: the data plane keeps honouring it for `propagationMs`. */
  deletedOn?: number;
}

export interface Operation {
  id: string;
  kind: 'slotSwap' | 'accountUpdate' | 'containerAppUpdate';
  resourceId: string;
  /** Principal that started it (only it may poll). */
  principalId: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startedAt: number;
  endedAt?: number;
  error?: { code: string; message: string; status?: number };
  /** Slot swaps: the target slot. */
  target?: string;
}

/** A Log Analytics workspace (Microsoft.OperationalInsights/workspaces). Its rows live in the telemetry store. */
export interface Workspace {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** The workspace id the query API takes (`properties.customerId`). */
  customerId: string;
  createdAt: number;
  tags: Record<string, string>;
}

/** One `logs` / `metrics` entry of a diagnostic setting, as the caller sent it. */
export interface DiagnosticCategorySetting {
  category?: string;
  categoryGroup?: string;
  timeGrain?: string;
  enabled: boolean;
  retentionPolicy?: { enabled: boolean; days: number };
}

/** A Microsoft.Insights/diagnosticSettings extension resource on an account. */
export interface DiagnosticSetting {
  /** ARM id of the resource the setting extends (an account), as stored (the account's id). */
  resourceId: string;
  name: string;
  /** The destination properties as given (strings; `workspaceId` names an existing workspace when not empty). */
  properties: {
    workspaceId?: string;
    storageAccountId?: string;
    serviceBusRuleId?: string;
    eventHubAuthorizationRuleId?: string;
    eventHubName?: string;
    marketplacePartnerId?: string;
    logAnalyticsDestinationType?: string;
    logs: DiagnosticCategorySetting[];
    metrics: DiagnosticCategorySetting[];
  };
}

export interface SimState {
  tenants: Record<string, Tenant>;
  principals: Record<string, Principal>;
  /** Entra security groups by objectId (absent in older state files). */
  groups: Record<string, Group>;
  subscriptions: Record<string, Subscription>;
  sites: Record<string, Site>;
  /** App Service plans by lower-cased ARM id (absent in older state files). */
  serverFarms?: Record<string, ServerFarm>;
  identities: Record<string, UserAssignedIdentity>;
  /** Container apps by lower-cased ARM id (absent in older state files). */
  containerApps?: Record<string, ContainerApp>;
  /** Azure Machine Learning workspaces by lower-cased ARM id (absent in older state files). */
  mlWorkspaces?: Record<string, MlWorkspace>;
  /** AI Search services by lower-cased ARM id (absent in older state files). */
  searchServices?: Record<string, SearchService>;
  accounts: Record<string, Account>;
  /** Key vaults by lower-cased ARM id (absent in state files written before vaults existed). */
  vaults: Record<string, KeyVault>;
  /** Log Analytics workspaces by lower-cased ARM id (absent in older state files). */
  workspaces: Record<string, Workspace>;
  /** Diagnostic settings by lower-cased `{resourceId}/providers/microsoft.insights/diagnosticsettings/{name}`. */
  diagnosticSettings: Record<string, DiagnosticSetting>;
  roleAssignments: Record<string, RoleAssignment>;
  /** Deleted assignments still propagating out of the data plane's cache. */
  revokedAssignments: RoleAssignment[];
  operations: Record<string, Operation>;
}

export const PRODUCTION = 'production';

export const key = (id: string) => id.toLowerCase();

export function siteId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Web/sites/${name}`;
}

export function containerAppId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.App/containerApps/${name}`;
}

export function serverFarmId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Web/serverfarms/${name}`;
}

export function slotResourceId(site: Site, slot: string): string {
  return slot === PRODUCTION ? site.id : `${site.id}/slots/${slot}`;
}

export function identityId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

export function accountId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.CognitiveServices/accounts/${name}`;
}

export function vaultId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
}

export function workspaceId(subscriptionId: string, rg: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.OperationalInsights/workspaces/${name}`;
}

export function diagnosticSettingKey(resourceId: string, name: string): string {
  return key(`${resourceId}/providers/Microsoft.Insights/diagnosticSettings/${name}`);
}

export function emptyState(): SimState {
  return {
    tenants: {},
    principals: {},
    groups: {},
    subscriptions: {},
    sites: {},
    identities: {},
    accounts: {},
    vaults: {},
    workspaces: {},
    diagnosticSettings: {},
    roleAssignments: {},
    revokedAssignments: [],
    operations: {},
  };
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}
