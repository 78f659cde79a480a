/**
 * App Service's managed-identity protocol (IDENTITY_ENDPOINT / IDENTITY_HEADER, api-version 2019-08-01) as the client
 * app speaks it itself: the fresh token of its identity probe, and the credential of the in-process runtime, which
 * cannot use `DefaultAzureCredential` (that reads the process's environment and msal-node caches managed-identity
 * tokens process-wide, while in-process workers share one process).
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

export interface IdentityEndpoint {
  /** IDENTITY_ENDPOINT. */
  endpoint: string;
  /** IDENTITY_HEADER. */
  header: string;
  fetch: typeof fetch;
}

/** One token from the endpoint for `resource` (a scope's resource), as `clientId`'s identity when given. */
export async function managedIdentityToken(
  id: IdentityEndpoint,
  resource: string,
  clientId: string | undefined,
): Promise<AccessToken> {
  const url = new URL(id.endpoint);
  url.searchParams.set('api-version', '2019-08-01');
  url.searchParams.set('resource', resource.replace(/\/\.default$/, ''));
  if (clientId) url.searchParams.set('client_id', clientId);
  const res = await id.fetch(url, { headers: { 'X-IDENTITY-HEADER': id.header } });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_on?: string; message?: string };
  if (!res.ok || !body.access_token) {
    throw Object.assign(new Error(body.message ?? `managed identity endpoint answered ${res.status}`), {
      code: 'ManagedIdentityUnavailable',
    });
  }
  return { token: body.access_token, expiresOnTimestamp: Number(body.expires_on) * 1000 };
}

/** Reuses a token until five minutes before it expires, like the SDK's managed-identity credential. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/** The worker's managed identity (`clientId`: AZURE_CLIENT_ID, a user-assigned one), tokens cached per worker. */
export class AppServiceIdentityCredential implements TokenCredential {
  private readonly cache = new Map<string, AccessToken>();

  constructor(
    private readonly id: IdentityEndpoint,
    private readonly clientId: string | undefined,
  ) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const resource = (Array.isArray(scopes) ? scopes[0] : scopes) ?? '';
    const cached = this.cache.get(resource);
    if (cached && cached.expiresOnTimestamp - REFRESH_BEFORE_MS > Date.now()) return cached;
    const token = await managedIdentityToken(this.id, resource, this.clientId);
    this.cache.set(resource, token);
    return token;
  }
}
