/**
 * Entra-style access tokens: compact JWTs signed RS256 with the simulator's key, carrying the claims the
 * resource providers look at (oid, tid, appid, aud, iat/nbf/exp, idtyp). Verification tells *why* a token
 * fails so that ARM and the data plane can answer with Azure's distinct codes.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  randomUUID,
  type KeyObject,
} from 'node:crypto';

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  oid: string;
  sub: string;
  tid: string;
  appid: string;
  idtyp: 'app';
  ver: '1.0';
  uti: string;
  /** Managed identities: the ARM id of the resource (or UAMI) the identity belongs to. */
  xms_mirid?: string;
}

export type TokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'notYetValid'; claims?: AccessTokenClaims };

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

/** Verified signatures kept (the claims of each token checked once): a bench's hundreds of apps reuse theirs. */
const MAX_VERIFIED = 20_000;

export class TokenService {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly kid: string;
  /** Tokens whose signature was checked, with their claims: the check costs an RSA verification. */
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(signingKeyPem: string) {
    this.privateKey = createPrivateKey(signingKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    const der = this.publicKey.export({ type: 'spki', format: 'der' });
    this.kid = createHash('sha256').update(der).digest('base64url').slice(0, 27);
  }

  /** The JWKS document published at `/{tenant}/discovery/v2.0/keys`. */
  jwks() {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e }] };
  }

  issue(input: {
    audience: string;
    tenantId: string;
    objectId: string;
    appId: string;
    lifetimeSec: number;
    miResourceId?: string;
    now?: number;
  }): { token: string; claims: AccessTokenClaims } {
    const now = Math.floor((input.now ?? Date.now()) / 1000);
    const claims: AccessTokenClaims = {
      aud: input.audience,
      iss: `https://sts.windows.net/${input.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + input.lifetimeSec,
      oid: input.objectId,
      sub: input.objectId,
      tid: input.tenantId,
      appid: input.appId,
      idtyp: 'app',
      ver: '1.0',
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ...(input.miResourceId ? { xms_mirid: input.miResourceId } : {}),
    };
    const header = { typ: 'JWT', alg: 'RS256', kid: this.kid, x5t: this.kid };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(this.privateKey);
    return { token: `${signingInput}.${b64url(signature)}`, claims };
  }

  verify(token: string, nowMs = Date.now()): TokenCheck {
    const known = this.verified.get(token);
    if (known) return this.timely(known, nowMs);
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed' };
    let claims: AccessTokenClaims;
    let header: { alg?: string };
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string };
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as AccessTokenClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (header.alg !== 'RS256' || typeof claims !== 'object' || claims === null)
      return { ok: false, reason: 'malformed' };
    const valid = createVerify('RSA-SHA256')
      .update(`${parts[0]}.${parts[1]}`)
      .verify(this.publicKey, Buffer.from(parts[2], 'base64url'));
    if (!valid) return { ok: false, reason: 'signature', claims };
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(token, claims);
    return this.timely(claims, nowMs);
  }

  private timely(claims: AccessTokenClaims, nowMs: number): TokenCheck {
    const now = Math.floor(nowMs / 1000);
    // Entra and ARM allow five minutes of clock skew on nbf; none on exp here, so tests can rely on expiry.
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, reason: 'expired', claims };
    if (typeof claims.nbf === 'number' && claims.nbf > now + 300) return { ok: false, reason: 'notYetValid', claims };
    return { ok: true, claims };
  }
}

/** `https://management.azure.com/.default` → `https://management.azure.com` (a v1 token's audience). */
export function resourceFromScope(scope: string): string {
  return scope
    .trim()
    .replace(/\/\.default$/i, '')
    .replace(/\/+$/, '');
}

export function sameAudience(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}
