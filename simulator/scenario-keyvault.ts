/**
 * The Key Vault part of a scenario: vaults with their secrets (values generated or taken from an account's key at
 * load, never written in the file), role-assignment scopes on a vault or secret, and app settings that are Key
 * Vault references rendered in App Service's own syntax.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Account, type KeyVault, type SecretVersion, type SimState, key, vaultId } from './model';

const name = z.string().min(1);

/** A secret's value: generated when absent, an account's key, or (discouraged: it is then in the file) a literal. */
const secretValueSchema = z.union([
  z.string(),
  z.strictObject({ accountKey: name, key: z.union([z.literal(1), z.literal(2)]).optional() }),
]);

const secretSchema = z.strictObject({
  name: z.string().regex(/^[0-9a-zA-Z-]{1,127}$/, 'letters, digits and hyphens, 1 to 127 characters'),
  value: secretValueSchema.optional(),
  enabled: z.boolean().optional(),
  contentType: z.string().optional(),
  /** Earlier versions, oldest first; `value` is the current one. */
  versions: z
    .array(z.strictObject({ value: secretValueSchema.optional(), enabled: z.boolean().optional() }))
    .optional(),
});

export const vaultSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, 'a vault name: 3 to 24 letters, digits and hyphens'),
  location: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  secrets: z.array(secretSchema).optional(),
});

/** An app setting holding a Key Vault reference: `form` `uri` (default) is `SecretUri=…`, `name` is `VaultName=…`. */
export const keyVaultReferenceSetting = z.strictObject({
  keyVaultReference: z.strictObject({
    vault: name,
    secret: name,
    /** 1-based version number (1 = oldest), or `current` to pin the current version; absent = always the latest. */
    version: z.union([z.literal('current'), z.number().int().positive()]).optional(),
    form: z.enum(['uri', 'name']).optional(),
  }),
});

export const vaultScopeSchema = z.strictObject({ vault: name, secret: name.optional() });

type VaultSpec = z.output<typeof vaultSchema>;
type ReferenceSpec = z.output<typeof keyVaultReferenceSetting>['keyVaultReference'];

export interface PendingVault {
  spec: VaultSpec;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tenantId: string;
}

/** Every vault name a scenario declares (the simulator opens one HTTPS port per vault before building). */
export function vaultNamesOf(scenario: {
  subscriptions: { resourceGroups?: { keyVaults?: { name: string }[] }[] }[];
}): string[] {
  return scenario.subscriptions.flatMap((s) =>
    (s.resourceGroups ?? []).flatMap((rg) => (rg.keyVaults ?? []).map((v) => v.name)),
  );
}

export const newSecretVersion = () => randomUUID().replace(/-/g, '');
const generatedSecret = () => randomBytes(24).toString('base64url');

/** Adds the vaults to the state; secret values are generated or read from the (already built) accounts. */
export function buildVaults(
  state: SimState,
  pending: PendingVault[],
  accountsByName: Map<string, Account>,
  now: number,
  fail: (msg: string) => never,
): void {
  const seen = new Set<string>();
  for (const p of pending) {
    const v = p.spec;
    if (seen.has(v.name.toLowerCase())) fail(`vault name '${v.name}' is used twice (vault names are global)`);
    seen.add(v.name.toLowerCase());
    const id = vaultId(p.subscriptionId, p.resourceGroup, v.name);
    const vault: KeyVault = {
      id,
      subscriptionId: p.subscriptionId,
      resourceGroup: p.resourceGroup,
      name: v.name,
      location: v.location ?? p.location,
      tenantId: p.tenantId,
      tags: v.tags ?? {},
      createdAt: now,
      secrets: {},
    };
    const valueOf = (val: z.output<typeof secretValueSchema> | undefined, where: string): string => {
      if (val === undefined) return generatedSecret();
      if (typeof val === 'string') return val;
      const a =
        accountsByName.get(val.accountKey.toLowerCase()) ?? fail(`${where}: unknown account '${val.accountKey}'`);
      return val.key === 2 ? a.key2 : a.key1;
    };
    for (const s of v.secrets ?? []) {
      const where = `vault ${v.name}.secrets.${s.name}`;
      if (vault.secrets[key(s.name)]) fail(`${where}: secret name is used twice`);
      const all = [...(s.versions ?? []), { value: s.value, enabled: s.enabled }];
      const versions: SecretVersion[] = all.map((x, i) => ({
        version: newSecretVersion(),
        value: valueOf(x.value, `${where}.versions.${i}`),
        enabled: x.enabled ?? true,
        ...(s.contentType ? { contentType: s.contentType } : {}),
        tags: {},
        // Older versions are older: a second apart, so `created` (Unix seconds) orders them.
        createdAt: now - (all.length - i) * 1000,
        updatedAt: now - (all.length - i) * 1000,
      }));
      vault.secrets[key(s.name)] = { name: s.name, versions };
    }
    state.vaults[key(id)] = vault;
  }
}

function vaultNamed(state: SimState, name: string, where: string, fail: (msg: string) => never): KeyVault {
  return (
    Object.values(state.vaults).find((v) => key(v.name) === key(name)) ?? fail(`${where}: unknown vault '${name}'`)
  );
}

/** `@Microsoft.KeyVault(SecretUri=…)` or `@Microsoft.KeyVault(VaultName=…;SecretName=…[;SecretVersion=…])`. */
export function renderReference(
  ref: ReferenceSpec,
  state: SimState,
  vaultUri: (vaultName: string) => string,
  where: string,
  fail: (msg: string) => never,
): string {
  const vault = vaultNamed(state, ref.vault, where, fail);
  const secret = vault.secrets[key(ref.secret)] ?? fail(`${where}: unknown secret '${ref.secret}' in '${vault.name}'`);
  let version: string | undefined;
  if (ref.version === 'current') version = secret.versions.at(-1)!.version;
  else if (ref.version !== undefined)
    version =
      secret.versions[ref.version - 1]?.version ??
      fail(`${where}: secret '${secret.name}' has ${secret.versions.length} version(s)`);
  if (ref.form === 'name') {
    return `@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${secret.name}${version ? `;SecretVersion=${version}` : ''})`;
  }
  return `@Microsoft.KeyVault(SecretUri=${vaultUri(vault.name)}secrets/${secret.name}/${version ?? ''})`;
}

/** The ARM scope of `{ vault, secret? }`. */
export function vaultScope(
  scope: z.output<typeof vaultScopeSchema>,
  state: SimState,
  where: string,
  fail: (msg: string) => never,
): string {
  const vault = vaultNamed(state, scope.vault, where, fail);
  if (!scope.secret) return vault.id;
  const secret = vault.secrets[key(scope.secret)];
  return `${vault.id}/secrets/${secret?.name ?? scope.secret}`;
}
