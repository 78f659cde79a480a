/**
 * A caller's settings as the key-holder check reads them, whatever its kind: an App Service or Functions app's (or
 * slot's) app settings, a container app's env vars (secret values resolved), a search service's skills and
 * vectorizers, an ML connection's fields (its credentials read with `listsecrets`); and what the check says of a
 * caller whose settings it may not read.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { SiteRef } from '../../contracts/model';
import type { AzureClients, AzureEndpoints } from '../clients';
import { searchServiceSettings } from '../targets/ai-search';
import { containerAppSettings } from '../targets/container-apps';
import { connectionRef, connectionSettings } from '../targets/ml-connections';

/** What reading them takes: the subscription's clients, and (for a search service's data plane) the credential. */
export interface CallerSettingsDeps {
  readonly clients: AzureClients;
  readonly credential: TokenCredential;
  readonly endpoints: AzureEndpoints;
}

export async function callerSettings(deps: CallerSettingsDeps, site: SiteRef): Promise<Record<string, string>> {
  const { clients } = deps;
  if (site.kind === 'container-app') return containerAppSettings(clients.containerApps, site);
  if (site.kind === 'ai-search') return searchServiceSettings(deps, site);
  if (site.kind === 'ml-connection') {
    const { workspace, connection } = connectionRef(site);
    return connectionSettings(await clients.machineLearning.listSecrets(site.resourceGroup, workspace, connection));
  }
  const dict = site.slot
    ? await clients.web.webApps.listApplicationSettingsSlot(site.resourceGroup, site.name, site.slot)
    : await clients.web.webApps.listApplicationSettings(site.resourceGroup, site.name);
  return { ...(dict.properties ?? {}) };
}

/** Why a caller whose settings the worker may not read counts as a possible key holder. */
export function unreadableSettings(site: SiteRef): string {
  switch (site.kind) {
    case 'container-app':
      return 'the worker may not read its secrets (listSecrets)';
    case 'ml-connection':
      return 'the worker may not read its credentials (listsecrets)';
    case 'ai-search':
      return 'the worker may not read its skillsets and indexes (Search Service Contributor)';
    default:
      return 'the worker may not read its app settings';
  }
}
