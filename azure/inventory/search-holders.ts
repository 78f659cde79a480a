/**
 * AI Search services in the key-holder check: every service of a subscription, its callers read as settings
 * (azure/targets/ai-search-settings.ts). Azure shows their keys as `<redacted>`, so a key cannot be compared with
 * the account's: a skill or vectorizer holds the account's key when it has one and its `resourceUri` is one of the
 * account's endpoints — it calls the account with a key, and an account's keys are the only ones it accepts.
 */
import type { SiteRef } from '../../contracts/model';
import type { AzureClients } from '../clients';
import { parseSettingName, settingName } from '../targets/ai-search-settings';

/** The search services of a subscription, as refs with their ids and tags. */
export async function searchServicesOf(
  clients: AzureClients,
  subscriptionId: string,
): Promise<{ ref: SiteRef; id: string; tags?: Record<string, string> }[]> {
  const out: { ref: SiteRef; id: string; tags?: Record<string, string> }[] = [];
  for await (const s of clients.search.services.listBySubscription()) {
    const rg = /resourceGroups\/([^/]+)/i.exec(s.id ?? '')?.[1];
    if (!rg || !s.name || !s.id) continue;
    out.push({
      ref: { subscriptionId, resourceGroup: rg, name: s.name, kind: 'ai-search' },
      id: s.id,
      ...(s.tags ? { tags: s.tags } : {}),
    });
  }
  return out;
}

/** The `apiKey` settings of callers whose `resourceUri` the account's marker test recognises. */
export function searchKeySettings(
  settings: Readonly<Record<string, string>>,
  callsAccount: (resourceUri: string) => boolean,
): string[] {
  return Object.keys(settings).filter((name) => {
    const at = parseSettingName(name);
    if (at?.field !== 'apiKey' || !settings[name]) return false;
    const uri = settings[settingName({ ...at, field: 'resourceUri' })];
    return uri !== undefined && callsAccount(uri);
  });
}
