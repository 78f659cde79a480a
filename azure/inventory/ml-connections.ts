/**
 * Machine Learning workspace connections that may hold an account's key: every `ApiKey` connection of every
 * workspace of a subscription (the key-holder check then reads its key with `listsecrets` and compares it).
 * Connections of other auth types hold no key.
 */
import type { SiteRef } from '../../contracts/model';
import type { MlClient } from '../ml-client';
import { mlConnection } from '../targets/ml-connections';

export interface KeyConnection {
  readonly ref: SiteRef;
  readonly resourceId: string;
  readonly tags?: Record<string, string>;
}

/** The `ApiKey` connections of a subscription's workspaces, as targets of kind `ml-connection`. */
export async function* apiKeyConnections(client: MlClient, subscriptionId: string): AsyncIterable<KeyConnection> {
  for await (const ws of client.sdk.workspaces.listBySubscription()) {
    const rg = /resourceGroups\/([^/]+)/i.exec(ws.id ?? '')?.[1];
    if (!rg || !ws.name) continue;
    for await (const c of client.listConnections(rg, ws.name)) {
      if (c.properties.authType !== 'ApiKey' || !c.name) continue;
      const ref: SiteRef = { subscriptionId, resourceGroup: rg, name: `${ws.name}/${c.name}`, kind: 'ml-connection' };
      yield { ref, resourceId: c.id ?? mlConnection.resourceId(ref), ...(ws.tags ? { tags: ws.tags } : {}) };
    }
  }
}
