/** The key-holder check of an account as the worker runs it, for tests that look at what it finds. */
import { createAzureClients } from '../../azure/clients';
import { scanKeyHolders } from '../../azure/inventory/key-holders';
import { type Estate, SUB } from './estate';

export async function keyHoldersOf(estate: Estate, resourceGroup: string, account: string) {
  const accounts = estate.azure.cognitive.accounts;
  const [keys, props] = await Promise.all([
    accounts.listKeys(resourceGroup, account),
    accounts.get(resourceGroup, account),
  ]);
  return scanKeyHolders(
    {
      credential: estate.credential,
      endpoints: estate.endpoints,
      clients: (sub) => createAzureClients(estate.credential, sub, estate.endpoints),
    },
    { account: { subscriptionId: SUB, resourceGroup, name: account }, exclude: [] },
    { key1: keys.key1, key2: keys.key2, endpoints: [props.properties?.endpoint ?? ''] },
  );
}
