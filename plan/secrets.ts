/**
 * What a secret looks like, so that plan validation can refuse one in `settings.set`: a plan travels into workflow
 * history, the Web UI and the evidence record, so it must never hold a key, token, password or connection string.
 * The checks err on the side of refusing; a Key Vault reference is always accepted, and is the way out.
 */

const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(.+\)$/i;

/** The App Service syntax that makes a setting read its value from Key Vault at run time. */
export const KEY_VAULT_REFERENCE_EXAMPLE =
  '@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>)';

export function isKeyVaultReference(value: string): boolean {
  return KEY_VAULT_REFERENCE.test(value.trim());
}

/** Setting names that say they hold a secret: …KEY, …SECRET, …PASSWORD, …TOKEN, and connection strings. */
const SECRET_NAME =
  /(?:KEY|SECRET|PASSWORD|PASSWD|PWD|TOKEN)$|CONNECTION_?STRING|CONNSTR|^AzureWebJobs(?:Storage|Dashboard)$/i;

export function nameLooksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Fixed shapes of secrets, each with what the user is told it looks like. */
const SHAPES: readonly (readonly [RegExp, string])[] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*/, 'a JWT (a token)'],
  [/\bbearer\s+[\w.~+/-]{12,}/i, 'a bearer token'],
  [
    /(?:^|;)\s*(?:AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|Password|Pwd)\s*=/i,
    'a connection string with a key or password',
  ],
  [/[?&;]sig=/i, 'a shared access signature (sig=)'],
  [/^[a-z][a-z\d+.-]*:\/\/[^/@\s:]+:[^/@\s]+@/i, 'a URL with a password in it'],
  // An Azure OpenAI / Cognitive Services account key: 32 hex digits (not part of a longer hex run).
  [/(?:^|[^\da-f])[\da-f]{32}(?:[^\da-f]|$)/i, 'an account key (32 hex digits)'],
];

function shannonBits(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

const CLASS = (c: string) => (/[a-z]/.test(c) ? 0 : /[A-Z]/.test(c) ? 1 : /\d/.test(c) ? 2 : 3);

/**
 * A generated secret (client secret, storage or account key, API token): one long run of base64-like characters
 * with both letter cases and digits, a high character entropy, and none of the shape of words — few vowels, or the
 * character class changing at most positions. Names and version strings joined by dots or dashes have words in
 * them and do not qualify. Tuned on random base64: about 2 % of 32-character strings slip through, under 0.3 % from 40 characters on.
 */
function randomLooking(token: string): boolean {
  if (token.length < 32 || token.startsWith('/')) return false;
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/\d/.test(token) || shannonBits(token) < 4.2) return false;
  const letters = token.replace(/[^a-z]/gi, '');
  const vowels = (letters.match(/[aeiou]/gi)?.length ?? 0) / letters.length;
  let switches = 0;
  for (let i = 1; i < token.length; i++) if (CLASS(token[i]) !== CLASS(token[i - 1])) switches++;
  const digitRuns = token.match(/\d+/g)?.length ?? 0;
  return vowels < 0.3 || switches / (token.length - 1) >= 0.55 || (vowels < 0.34 && digitRuns >= 3);
}

/** What secret `value` looks like ("an account key", …), or undefined when it looks like a plain value. */
export function secretShape(value: string): string | undefined {
  const text = value.trim();
  if (isKeyVaultReference(text)) return undefined;
  for (const [re, what] of SHAPES) if (re.test(text)) return what;
  if (text.split(/[^\w+/.~-]+/).some(randomLooking)) return 'a long random-looking string (a generated key or token)';
  return undefined;
}
