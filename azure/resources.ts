/**
 * Pure helpers over Azure resource ids, setting values and role assignment names. No I/O: unit-tested directly.
 */
import { createHash } from 'node:crypto';
import { CutoverFailure, FailureType } from '../contracts/failures';
import { targetResourceId } from '../plan/targets';
import type { AccountRef, SettingSnapshot, SiteRef } from '../contracts/model';

export function siteResourceId(site: SiteRef): string {
  return targetResourceId(site.subscriptionId, site);
}

export function accountResourceId(account: AccountRef): string {
  return `/subscriptions/${account.subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account.name}`;
}

/** The subscription of a subscription-scoped resource id. */
export function subscriptionOf(resourceId: string): string {
  const m = /subscriptions\/([^/]+)/i.exec(resourceId);
  if (!m)
    throw new CutoverFailure(FailureType.AzureRequestRejected, `not a subscription-scoped id: ${resourceId}`, {
      nonRetryable: true,
    });
  return m[1];
}

/** arm-authorization sends `//subscriptions/…` when a scope starts with "/": it wants the scope without it. */
export function authorizationScope(resourceId: string): string {
  return resourceId.replace(/^\/+/, '');
}

/** A short, non-reversible fingerprint of a value: enough to match a key again, useless to an attacker. */
export function fingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 12)}`;
}

/**
 * Deterministic role assignment name (a GUID, as Azure requires) from what the assignment grants, so that a
 * retried or replayed activity creates the same assignment instead of a second one.
 */
export function roleAssignmentName(scope: string, principalId: string, roleDefinitionId: string): string {
  const h = createHash('sha256')
    .update(`cutover|${scope.toLowerCase()}|${principalId.toLowerCase()}|${roleDefinitionId.toLowerCase()}`)
    .digest('hex');
  // RFC 4122 layout with version 5-style bits, from the hash.
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const SECRET_NAME = /(key|secret|password|passwd|pwd|token|connection|conn_?str|sas|credential)/i;
const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(.*\)$/;
const HIGH_ENTROPY = /^[A-Za-z0-9+/=_\-.~]{24,}$/;

/**
 * How a setting's current value could be restored later without storing a secret (see `SettingSnapshot`).
 * `accountKeys` are the account's current keys by name; they never leave the activity.
 */
export function snapshotSetting(
  name: string,
  value: string | undefined,
  accountKeys: { readonly key1?: string; readonly key2?: string },
): SettingSnapshot {
  if (value === undefined) return { kind: 'absent' };
  const fp = fingerprint(value);
  if (KEY_VAULT_REFERENCE.test(value.trim())) return { kind: 'key-vault-reference', fingerprint: fp, value };
  for (const keyName of ['key1', 'key2'] as const) {
    if (accountKeys[keyName] !== undefined && accountKeys[keyName] === value)
      return { kind: 'account-key', fingerprint: fp, keyName };
  }
  if (SECRET_NAME.test(name) || HIGH_ENTROPY.test(value)) return { kind: 'secret', fingerprint: fp };
  return { kind: 'plain', fingerprint: fp, value };
}

/**
 * Wildcard match of an Azure RBAC action pattern ("Microsoft.CognitiveServices/*") against an action. As in Azure,
 * a whole-segment wildcard may also stand for no segment at all, so the Managed Identity Operator's
 * "userAssignedIdentities/(star)/assign/action" covers "userAssignedIdentities/assign/action".
 */
export function actionMatches(pattern: string, action: string): boolean {
  const body = pattern
    .split('/*/')
    .map((part) => part.split('*').map(escapeRegExp).join('.*'))
    .join('/(?:.*/)?');
  return new RegExp(`^${body}$`, 'i').test(action);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export interface PermissionLike {
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly dataActions?: readonly string[];
  readonly notDataActions?: readonly string[];
}

/** Whether a set of permissions (a role definition's, or the caller's effective ones) allows an action. */
export function allows(permissions: readonly PermissionLike[], action: string, data = false): boolean {
  return permissions.some((p) => {
    const allow = (data ? p.dataActions : p.actions) ?? [];
    const deny = (data ? p.notDataActions : p.notActions) ?? [];
    return allow.some((a) => actionMatches(a, action)) && !deny.some((a) => actionMatches(a, action));
  });
}

/** The data action an app needs to call chat completions on an Azure OpenAI deployment. */
export const CHAT_COMPLETIONS_DATA_ACTION =
  'Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action';
