/**
 * Resource types as ARM's front end knows them: the api-versions each provider publishes (from the providers' REST
 * specs: the readme tags and stable/preview folders of Azure/azure-rest-api-specs; Microsoft.Authorization's older
 * entries from ARM's own error message listing them), and how a request path names its type and its RBAC action.
 * A type without a declaration here (and a route without `apiVersions`) accepts any api-version.
 */

/** Api-versions per `Namespace/topLevelType`, ascending. Providers add theirs with `declareApiVersions`. */
const API_VERSIONS: Record<string, readonly string[]> = {};

export function declareApiVersions(type: string, versions: readonly string[]): void {
  API_VERSIONS[type.toLowerCase()] = versions;
}

export function apiVersionsOf(type: string): readonly string[] | undefined {
  return API_VERSIONS[type.toLowerCase()];
}

/** Microsoft.Web sites (and their slots, config, operations): every WebApps.json / openapi.json version. */
export const WEB_API_VERSIONS = [
  '2015-08-01',
  '2016-08-01',
  '2018-02-01',
  '2018-11-01',
  '2019-08-01',
  '2020-06-01',
  '2020-09-01',
  '2020-10-01',
  '2020-12-01',
  '2021-01-01',
  '2021-01-15',
  '2021-02-01',
  '2021-03-01',
  '2022-03-01',
  '2022-09-01',
  '2023-01-01',
  '2023-12-01',
  '2024-04-01',
  '2024-11-01',
  '2025-03-01',
  '2025-05-01',
  '2026-03-01-preview',
  '2026-03-15',
  '2026-07-15',
  '2026-09-01',
] as const;

/** Microsoft.CognitiveServices accounts (and deployments, operation results). */
export const COGNITIVE_API_VERSIONS = [
  '2016-02-01-preview',
  '2017-04-18',
  '2021-04-30',
  '2021-10-01',
  '2022-03-01',
  '2022-10-01',
  '2022-12-01',
  '2023-05-01',
  '2023-10-01-preview',
  '2024-04-01-preview',
  '2024-06-01-preview',
  '2024-10-01',
  '2025-04-01',
  '2025-04-01-preview',
  '2025-06-01',
  '2025-07-01-preview',
  '2025-09-01',
  '2025-10-01-preview',
  '2026-09-01',
  '2026-09-15-preview',
] as const;

/** Microsoft.ManagedIdentity userAssignedIdentities. */
export const MSI_API_VERSIONS = [
  '2015-08-31-preview',
  '2018-11-30',
  '2021-09-30-preview',
  '2022-01-31-preview',
  '2023-01-31',
  '2023-07-31-preview',
  '2024-11-30',
  '2025-01-31-preview',
  '2025-05-31-preview',
  '2026-05-31',
] as const;

/** Microsoft.Authorization roleAssignments and roleDefinitions: ARM's listing (through 2020-04-01-preview), then the specs. */
export const AUTHORIZATION_API_VERSIONS = [
  '2014-04-01-preview',
  '2014-07-01-preview',
  '2014-10-01-preview',
  '2015-05-01-preview',
  '2015-06-01',
  '2015-07-01',
  '2016-07-01',
  '2017-05-01',
  '2017-09-01',
  '2017-10-01-preview',
  '2018-01-01-preview',
  '2018-07-01',
  '2018-09-01-preview',
  '2018-12-01-preview',
  '2019-04-01-preview',
  '2020-03-01-preview',
  '2020-04-01-preview',
  '2020-08-01-preview',
  '2020-10-01-preview',
  '2022-01-01-preview',
  '2022-04-01',
  '2022-05-01-preview',
] as const;

/** ARM's own api-versions (Microsoft.Resources), as its `InvalidApiVersionParameter` message lists them. */
export const ARM_API_VERSIONS =
  '2024-08-01,2024-06-01-preview,2024-03-01,2023-07-01,2023-07-01-preview,2023-03-01-preview,2022-12-01,2022-11-01-preview,2022-09-01,2022-06-01,2022-05-01,2022-03-01-preview,2022-01-01,2021-04-01,2021-01-01,2020-10-01,2020-09-01,2020-08-01,2020-07-01,2020-06-01,2020-05-01,2020-01-01,2019-11-01,2019-10-01,2019-09-01,2019-08-01,2019-07-01,2019-06-01,2019-05-10,2019-05-01,2019-03-01,2018-11-01,2018-09-01,2018-08-01,2018-07-01,2018-06-01,2018-05-01,2018-02-01,2018-01-01,2017-12-01,2017-08-01,2017-06-01,2017-05-10,2017-05-01,2017-03-01,2016-09-01,2016-07-01,2016-06-01,2016-02-01,2015-11-01,2015-01-01,2014-04-01-preview,2014-04-01,2014-01-01,2013-03-01,2014-02-26,2014-04';

/** Microsoft.App (Container Apps): the stable and preview versions of its ContainerApps.json. */
export const APP_API_VERSIONS = [
  '2022-01-01-preview',
  '2022-03-01',
  '2022-06-01-preview',
  '2022-10-01',
  '2022-11-01-preview',
  '2023-04-01-preview',
  '2023-05-01',
  '2023-05-02-preview',
  '2023-08-01-preview',
  '2023-11-02-preview',
  '2024-02-02-preview',
  '2024-03-01',
  '2024-08-02-preview',
  '2024-10-02-preview',
  '2025-01-01',
  '2025-02-02-preview',
  '2025-07-01',
] as const;

declareApiVersions('Microsoft.Web/sites', WEB_API_VERSIONS);
declareApiVersions('Microsoft.App/containerApps', APP_API_VERSIONS);
declareApiVersions('Microsoft.App/locations', APP_API_VERSIONS);
declareApiVersions('Microsoft.Web/serverfarms', WEB_API_VERSIONS);
declareApiVersions('Microsoft.CognitiveServices/accounts', COGNITIVE_API_VERSIONS);
declareApiVersions('Microsoft.CognitiveServices/locations', COGNITIVE_API_VERSIONS);
declareApiVersions('Microsoft.ManagedIdentity/userAssignedIdentities', MSI_API_VERSIONS);
declareApiVersions('Microsoft.Authorization/roleAssignments', AUTHORIZATION_API_VERSIONS);
declareApiVersions('Microsoft.Authorization/roleDefinitions', AUTHORIZATION_API_VERSIONS);

/** Tracked resource types list the regions they are offered in; extension types (role assignments) list none. */
const AZURE_REGIONS = [
  'eastus',
  'eastus2',
  'westus',
  'westus2',
  'westus3',
  'centralus',
  'northcentralus',
  'southcentralus',
  'westcentralus',
  'canadacentral',
  'canadaeast',
  'brazilsouth',
  'northeurope',
  'westeurope',
  'uksouth',
  'ukwest',
  'francecentral',
  'germanywestcentral',
  'switzerlandnorth',
  'norwayeast',
  'swedencentral',
  'polandcentral',
  'italynorth',
  'uaenorth',
  'southafricanorth',
  'centralindia',
  'southindia',
  'eastasia',
  'southeastasia',
  'japaneast',
  'japanwest',
  'koreacentral',
  'australiaeast',
  'australiasoutheast',
];

export function supportedLocations(type: string): string {
  return type.toLowerCase().startsWith('microsoft.authorization/') ? '' : AZURE_REGIONS.join(', ');
}

/**
 * The resource type a path addresses, ARM style: after the last `/providers/{Namespace}`, segments alternate type and
 * name (`sites/{name}/config/{name}`); paths without a provider segment belong to Microsoft.Resources.
 */
export interface PathType {
  namespace: string;
  /** Type segments, outermost first (`['sites', 'config']`). */
  types: string[];
  /** The segment count after the namespace is odd: the path ends with a type (a collection or an action). */
  endsWithType: boolean;
}

export function pathType(segments: string[]): PathType | undefined {
  let p = -1;
  for (let i = segments.length - 2; i >= 0; i--) {
    if (segments[i].toLowerCase() === 'providers') {
      p = i;
      break;
    }
  }
  const namespace = p >= 0 ? segments[p + 1] : 'Microsoft.Resources';
  const rest = p >= 0 ? segments.slice(p + 2) : segments;
  if (rest.length === 0) return undefined;
  return { namespace, types: rest.filter((_, i) => i % 2 === 0), endsWithType: rest.length % 2 === 1 };
}

export const topLevelType = (t: PathType) => `${t.namespace}/${t.types[0]}`;

/** The RBAC action ARM checks for a method on a path: `{type}/read|write|delete`, POST `{type}/{name}/action`. */
export function derivedAction(method: string, t: PathType): string {
  const base = `${t.namespace}/${t.types.join('/')}`;
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      return `${base}/read`;
    case 'DELETE':
      return `${base}/delete`;
    case 'POST':
      return `${base}/action`;
    default:
      return `${base}/write`;
  }
}
