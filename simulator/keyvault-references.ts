/**
 * App Service Key Vault references: an app setting `@Microsoft.KeyVault(SecretUri=…)` or
 * `@Microsoft.KeyVault(VaultName=…;SecretName=…[;SecretVersion=…])` is resolved by the platform when a worker
 * starts, with the slot's `keyVaultReferenceIdentity` (its system identity unless a user-assigned one is named).
 * The worker gets the secret's value; when the platform cannot read it (no identity, no role yet, no such
 * vault/secret) the worker gets the reference text itself, as App Service does. Each resolution is remembered per
 * worker for the reference status API (`config/configreferences/appsettings`).
 */
import { type SimCore } from './core';
import { type SecretRead, findVault, readSecret, SECRET_ACTIONS } from './keyvault';
import { type KeyVault, type Site, type SlotState, key } from './model';

/** App Service's `ResolveStatus` (as @azure/arm-appservice 19 declares it). */
export type ResolveStatus =
  | 'Initialized'
  | 'Resolved'
  | 'InvalidSyntax'
  | 'MSINotEnabled'
  | 'VaultNotFound'
  | 'SecretNotFound'
  | 'SecretVersionNotFound'
  | 'AccessToKeyVaultDenied'
  | 'OtherReasons'
  | 'FetchTimedOut'
  | 'UnauthorizedClient';

export interface ReferenceResult {
  setting: string;
  reference: string;
  status: ResolveStatus;
  vaultName?: string;
  secretName?: string;
  secretVersion?: string;
  identityType: 'SystemAssigned' | 'UserAssigned';
  details: string;
  /** The version the value came from. */
  activeVersion?: string;
}

interface ParsedReference {
  vaultName?: string;
  /** `https://host:port/` of a `SecretUri` reference. */
  vaultUri?: string;
  secretName: string;
  secretVersion?: string;
}

const REFERENCE = /^\s*@Microsoft\.KeyVault\s*\(([\s\S]*)\)\s*$/i;

/** undefined: not a reference; `invalid`: the reference syntax with unusable content (status InvalidSyntax). */
export function parseReference(value: string): ParsedReference | 'invalid' | undefined {
  const m = REFERENCE.exec(value);
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[1].split(';')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq < 1) return 'invalid';
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const uri = fields.get('secreturi');
  if (uri !== undefined) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return 'invalid';
    }
    const segs = url.pathname.split('/').filter(Boolean);
    if (fields.size !== 1 || segs.length < 2 || segs.length > 3 || segs[0].toLowerCase() !== 'secrets')
      return 'invalid';
    return {
      vaultUri: `${url.protocol}//${url.host}/`,
      secretName: decodeURIComponent(segs[1]),
      ...(segs[2] ? { secretVersion: segs[2] } : {}),
    };
  }
  const vaultName = fields.get('vaultname');
  const secretName = fields.get('secretname');
  const known = ['vaultname', 'secretname', 'secretversion'];
  if (!vaultName || !secretName || [...fields.keys()].some((k) => !known.includes(k))) return 'invalid';
  const secretVersion = fields.get('secretversion');
  return { vaultName, secretName, ...(secretVersion ? { secretVersion } : {}) };
}

const DETAILS: Record<ResolveStatus, string> = {
  Initialized: 'Reference has not been resolved yet.',
  Resolved: 'Reference has been successfully resolved.',
  InvalidSyntax: 'Key Vault reference has invalid syntax.',
  MSINotEnabled:
    'Key Vault reference was not able to be resolved because the app does not have the managed identity it uses for Key Vault references.',
  VaultNotFound: 'Key Vault reference was not able to be resolved because the vault could not be found.',
  SecretNotFound: 'Key Vault reference was not able to be resolved because the secret could not be found.',
  SecretVersionNotFound:
    'Key Vault reference was not able to be resolved because the secret version could not be found.',
  AccessToKeyVaultDenied:
    "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault.",
  OtherReasons: 'Key Vault reference was not able to be resolved because the secret is disabled.',
  FetchTimedOut: 'Key Vault reference was not able to be resolved because fetching the secret timed out.',
  UnauthorizedClient: 'Key Vault reference was not able to be resolved because the client is not authorized.',
};

const READ_STATUS: Record<Exclude<SecretRead, { ok: true }>['reason'], ResolveStatus> = {
  denied: 'AccessToKeyVaultDenied',
  secretNotFound: 'SecretNotFound',
  versionNotFound: 'SecretVersionNotFound',
  disabled: 'OtherReasons',
};

/** The principal App Service reads references with, and how it reports it. */
function referenceIdentity(core: SimCore, slot: SlotState) {
  const configured = slot.keyVaultReferenceIdentity;
  if (!configured || key(configured) === 'systemassigned') {
    const p = slot.systemPrincipalId ? core.principal(slot.systemPrincipalId) : undefined;
    return { identityType: 'SystemAssigned' as const, principal: p };
  }
  const attached = slot.userAssigned.some((u) => key(u) === key(configured));
  const uami = core.state.identities[key(configured)];
  return {
    identityType: 'UserAssigned' as const,
    principal: attached && uami ? core.principal(uami.principalId) : undefined,
  };
}

function vaultOf(core: SimCore, ref: ParsedReference): KeyVault | undefined {
  if (ref.vaultName) return findVault(core, ref.vaultName);
  const entry = Object.entries(core.vaultUris).find(([, u]) => key(u) === key(ref.vaultUri ?? ''));
  return entry ? findVault(core, entry[0]) : undefined;
}

function resolveOne(
  core: SimCore,
  slot: SlotState,
  setting: string,
  reference: string,
): { result: ReferenceResult; value?: string } {
  const parsed = parseReference(reference)!;
  const { identityType, principal } = referenceIdentity(core, slot);
  const result = (status: ResolveStatus, extra: Partial<ReferenceResult> = {}): ReferenceResult => ({
    setting,
    reference,
    status,
    identityType,
    details: DETAILS[status],
    ...extra,
  });
  if (parsed === 'invalid') return { result: result('InvalidSyntax') };
  const vault = vaultOf(core, parsed);
  const names = {
    ...((vault?.name ?? parsed.vaultName) ? { vaultName: vault?.name ?? parsed.vaultName } : {}),
    secretName: parsed.secretName,
    ...(parsed.secretVersion ? { secretVersion: parsed.secretVersion } : {}),
  };
  if (!principal) return { result: result('MSINotEnabled', names) };
  if (!vault) return { result: result('VaultNotFound', names) };
  const read: SecretRead =
    principal.tenantId === vault.tenantId
      ? readSecret(core, vault, principal.objectId, parsed.secretName, parsed.secretVersion)
      : { ok: false, reason: 'denied' };
  // Key Vault sees the platform's read like any other: it is in the request log under the identity's object id.
  core.record({
    surface: 'keyvault',
    method: 'GET',
    path: `/${vault.name}/secrets/${parsed.secretName}/${parsed.secretVersion ?? ''}`,
    operation: SECRET_ACTIONS.get,
    status: read.ok ? 200 : read.reason === 'denied' || read.reason === 'disabled' ? 403 : 404,
    principal: principal.objectId,
    subscription: vault.subscriptionId,
  });
  if (!read.ok) return { result: result(READ_STATUS[read.reason], names) };
  return { result: result('Resolved', { ...names, activeVersion: read.version.version }), value: read.version.value };
}

/** The environment a worker of `site`/`slotName` gets for `settings`, and how each reference resolved. */
export function resolveReferences(
  core: SimCore,
  site: Site,
  slotName: string,
  settings: Record<string, string>,
): { settings: Record<string, string>; references: ReferenceResult[] } {
  const slot = site.slots[slotName];
  const env: Record<string, string> = {};
  const references: ReferenceResult[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (!slot || parseReference(v) === undefined) {
      env[k] = v;
      continue;
    }
    const { result, value } = resolveOne(core, slot, k, v);
    references.push(result);
    env[k] = value ?? v;
  }
  return { settings: env, references };
}

/** The reference status of every reference setting of a slot: its worker's resolution, or `Initialized`. */
export function referenceStatus(core: SimCore, site: Site, slotName: string): ReferenceResult[] {
  const slot = site.slots[slotName];
  const recorded = core.apps.references(site, slotName) ?? [];
  const out: ReferenceResult[] = [];
  for (const [setting, reference] of Object.entries(slot.settings)) {
    const parsed = parseReference(reference);
    if (parsed === undefined) continue;
    const seen = recorded.find((r) => r.setting === setting && r.reference === reference);
    if (seen) {
      out.push(seen);
      continue;
    }
    out.push({
      setting,
      reference,
      status: parsed === 'invalid' ? 'InvalidSyntax' : 'Initialized',
      identityType: referenceIdentity(core, slot).identityType,
      details: DETAILS[parsed === 'invalid' ? 'InvalidSyntax' : 'Initialized'],
      ...(parsed !== 'invalid'
        ? {
            ...(parsed.vaultName ? { vaultName: parsed.vaultName } : {}),
            secretName: parsed.secretName,
            ...(parsed.secretVersion ? { secretVersion: parsed.secretVersion } : {}),
          }
        : {}),
    });
  }
  return out;
}
