/**
 * ARM's gateway checks, before any provider sees a request: authentication (Azure's 401 codes and WWW-Authenticate
 * challenge), api-versions per resource type (400 `NoRegisteredProviderFound`), unknown types (404
 * `InvalidResourceType`) and unmodelled methods (403 before 405). Gateway answers carry `x-ms-failure-cause: gateway`.
 */
import { SimError, type SimRequest } from '../http';
import { type SimCore } from '../core';
import { type Subscription } from '../model';
import { type AccessTokenClaims, sameAudience } from '../tokens';
import { type Caller } from './router';
import { type PathType, ARM_API_VERSIONS, supportedLocations } from './versions';

export const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.core.windows.net'];

/** Marks an error as ARM's own (the gateway's), as Azure does with `x-ms-failure-cause: gateway`. */
export function gatewayError(err: SimError): SimError {
  return new SimError(err.status, err.code, err.message, { ...err.headers, 'x-ms-failure-cause': 'gateway' });
}

export function authenticate(core: SimCore, req: SimRequest, subscription: Subscription | undefined): Caller {
  const challenge = (description: string) => {
    const authority = `${core.baseUrl}/${subscription?.tenantId ?? 'common'}`;
    return {
      'www-authenticate': `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${description}"`,
    };
  };
  const header = req.headers.authorization;
  if (!header) {
    throw new SimError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      challenge("The authentication failed because of missing 'Authorization' header."),
    );
  }
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) {
    throw new SimError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      challenge("The authentication failed because of invalid 'Authorization' header format."),
    );
  }
  const check = core.tokens.verify(m[1]);
  if (!check.ok) {
    if (check.reason === 'expired' && check.claims) {
      const fmt = (s: number) => new Date(s * 1000).toISOString();
      throw new SimError(
        401,
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${fmt(check.claims.exp)}' is earlier than current UTC time '${new Date().toISOString()}'.`,
        challenge('The access token has expired.'),
      );
    }
    throw new SimError(
      401,
      'InvalidAuthenticationToken',
      'The access token is invalid.',
      challenge('The access token is invalid.'),
    );
  }
  const claims: AccessTokenClaims = check.claims;
  if (!ARM_AUDIENCES.some((a) => sameAudience(a, claims.aud))) {
    throw new SimError(
      401,
      'InvalidAuthenticationToken',
      `The access token has been obtained for wrong audience or resource '${claims.aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.`,
      challenge('The access token is invalid.'),
    );
  }
  return { objectId: claims.oid, appId: claims.appid, tenantId: claims.tid };
}

export function wrongTenant(core: SimCore, tokenTenant: string, subTenant: string): SimError {
  return new SimError(
    401,
    'InvalidAuthenticationTokenTenant',
    `The access token is from the wrong issuer 'https://sts.windows.net/${tokenTenant}/'. It must match the tenant 'https://sts.windows.net/${subTenant}/' associated with this subscription. Please use the authority (URL) '${core.baseUrl}/${subTenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
    {
      'www-authenticate': `Bearer authorization_uri="${core.baseUrl}/${subTenant}", error="invalid_token", error_description="The access token is from the wrong issuer."`,
    },
  );
}

/** A malformed path or api-version: ARM's own message, listing ARM's (Microsoft.Resources) api-versions. */
export function invalidApiVersion(apiVersion: string): SimError {
  return new SimError(
    400,
    'InvalidApiVersionParameter',
    `The api-version '${apiVersion}' is invalid. The supported versions are '${ARM_API_VERSIONS}'.`,
  );
}

export function unsupportedApiVersion(type: string, apiVersion: string, versions: readonly string[], location: string) {
  return new SimError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${location}' and API version '${apiVersion}' for type '${type.split('/').slice(1).join('/')}'. The supported api-versions are '${versions.join(', ')}'. The supported locations are '${supportedLocations(type)}'.`,
  );
}

export function invalidResourceType(t: PathType | undefined, apiVersion: string): SimError {
  const type = t ? t.types.join('/') : '';
  const namespace = t?.namespace ?? 'Microsoft.Resources';
  return new SimError(
    404,
    'InvalidResourceType',
    `The resource type '${type}' could not be found in the namespace '${namespace}' for api version '${apiVersion}'.`,
  );
}
