/**
 * Key Vault references, as the key-holder check follows them: App Service's two syntaxes parsed, and the secrets
 * they point to read — each once per scan, vaults found by name across every readable subscription (listed once),
 * only on hosts of this cloud. Secret values stay inside the scan; what cannot be read comes back as a reason.
 */
import type { TokenCredential } from '@azure/core-auth';
import { type AzureClients, type AzureEndpoints, createSecretClient, trustedVaultUrl } from '../clients';
import { isPermanent, statusOf, toFailure } from '../errors';

/** A Key Vault reference, in either of App Service's two syntaxes. */
export interface KeyVaultReference {
  readonly vaultName: string;
  /** Set for the SecretUri form. */
  readonly vaultUrl?: string;
  readonly secretName: string;
  readonly version?: string;
}

const REFERENCE = /^@Microsoft\.KeyVault\((.*)\)$/i;

/** Parses `@Microsoft.KeyVault(SecretUri=…)` or `@Microsoft.KeyVault(VaultName=…;SecretName=…[;SecretVersion=…])`. */
export function parseKeyVaultReference(value: string): KeyVaultReference | 'malformed' | undefined {
  const m = REFERENCE.exec(value.trim());
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[1].split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const uri = fields.get('secreturi');
  if (uri) {
    // {vaultUrl}/secrets/{name}[/{version}][/]
    const m2 = /^(https:\/\/[^/]+)\/secrets\/([^/?#]+)(?:\/([^/?#]+))?\/?$/i.exec(uri);
    if (!m2) return 'malformed';
    const host = new URL(m2[1]).hostname;
    const local = /^[\d.]+$|^localhost$|^\[/.test(host);
    return {
      vaultName: local ? m2[1] : host.split('.')[0],
      vaultUrl: `${m2[1]}/`,
      secretName: m2[2],
      ...(m2[3] ? { version: m2[3] } : {}),
    };
  }
  const vaultName = fields.get('vaultname');
  const secretName = fields.get('secretname');
  if (!vaultName || !secretName) return 'malformed';
  const version = fields.get('secretversion');
  return { vaultName, secretName, ...(version ? { version } : {}) };
}

/** What reading referenced secrets takes: the credential, this cloud's endpoints, the subscriptions' clients. */
export interface VaultSecretsDeps {
  readonly credential: TokenCredential;
  readonly endpoints: AzureEndpoints;
  readonly clients: (subscriptionId: string) => AzureClients;
}

export class VaultSecrets {
  private vaultIndex?: Promise<Map<string, string | undefined>>;
  private readonly secrets = new Map<string, Promise<{ value?: string; error?: string }>>();

  constructor(
    private readonly deps: VaultSecretsDeps,
    /** The subscriptions whose vaults may be named (known once the scan has listed them). */
    private readonly subscriptionIds: () => readonly string[],
  ) {}

  /** The secret a reference points to; an error text (never thrown) when the worker cannot read it. */
  read(ref: KeyVaultReference): Promise<{ value?: string; error?: string }> {
    const cacheKey = `${ref.vaultUrl ?? ref.vaultName}|${ref.secretName}|${ref.version ?? ''}`.toLowerCase();
    let read = this.secrets.get(cacheKey);
    if (!read) {
      read = this.fetchSecret(ref);
      this.secrets.set(cacheKey, read);
    }
    return read;
  }

  private async fetchSecret(ref: KeyVaultReference): Promise<{ value?: string; error?: string }> {
    const vaultUrl = ref.vaultUrl ?? (await this.vaultUrlOf(ref.vaultName));
    if (!vaultUrl) return { error: 'the vault was not found in any subscription the worker can read' };
    const trust = trustedVaultUrl(vaultUrl, this.deps.endpoints);
    if (!trust) return { error: `${vaultUrl} is not a Key Vault host of this cloud, so cutover does not follow it` };
    const client = createSecretClient(this.deps.credential, vaultUrl, this.deps.endpoints, trust);
    try {
      const secret = await client.getSecret(ref.secretName, ref.version ? { version: ref.version } : {});
      return secret.value === undefined ? { error: 'the secret has no value' } : { value: secret.value };
    } catch (err) {
      const status = statusOf(err);
      if (status === 403) return { error: 'the worker may not read it (grant it Key Vault Secrets User on the vault)' };
      if (status === 404) return { error: 'the secret does not exist' };
      if (status === 401) return { error: 'the worker could not sign in to the vault' };
      throw toFailure(`reading secret ${ref.secretName} of vault ${ref.vaultName}`, err);
    }
  }

  /** Vault URL by name, from every readable subscription's vaults (listed once per scan). */
  private async vaultUrlOf(name: string): Promise<string | undefined> {
    return (await this.vaults()).get(name.toLowerCase());
  }

  /** The vault's name for people, when its URL does not carry it (a local endpoint), else undefined. */
  async nameOf(vaultUrl: string): Promise<string | undefined> {
    if (trustedVaultUrl(vaultUrl, this.deps.endpoints) !== 'local') return undefined;
    const want = vaultUrl.replace(/\/+$/, '').toLowerCase();
    for (const [name, url] of await this.vaults()) if (url?.replace(/\/+$/, '').toLowerCase() === want) return name;
    return undefined;
  }

  private vaults(): Promise<Map<string, string | undefined>> {
    this.vaultIndex ??= (async () => {
      const index = new Map<string, string | undefined>();
      for (const sub of this.subscriptionIds()) {
        try {
          for await (const v of this.deps.clients(sub).keyVault.vaults.listBySubscription())
            if (v.name) index.set(v.name.toLowerCase(), v.properties?.vaultUri);
        } catch (err) {
          if (!isPermanent(err)) throw toFailure(`listing the key vaults of subscription ${sub}`, err);
        }
      }
      return index;
    })();
    return this.vaultIndex;
  }
}
