/**
 * Set-up shared by the Key Vault, reference and subscription tests: the multi-subscription estate with a vault,
 * and the official clients those surfaces need (SecretClient, KeyVaultManagementClient, SubscriptionClient)
 * pointed at the simulator with only endpoint, authority and CA options.
 */
import * as path from 'node:path';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { SecretClient } from '@azure/keyvault-secrets';
import { type TestSim, startTestSimulator } from './support';

export const KV_FIXTURE = path.join(__dirname, '..', 'fixtures', 'simulator', 'keyvault-estate.yaml');
export const PLATFORM = '33333333-3333-4333-8333-333333333333';
export const APPS = '55555555-5555-4555-8555-555555555555';
export const PARTNER = '66666666-6666-4666-8666-666666666666';
export const CONTOSO = '11111111-1111-4111-8111-111111111111';
export const VAULT = 'kv-shared';
export const ROLES = {
  secretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  secretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  reader: '21090545-7ca7-4776-b22c-e363652d74d2',
  administrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
};
const ARM_SCOPES = { scopes: ['https://management.azure.com/.default'] };

export function startKeyVaultSimulator(): Promise<TestSim> {
  return startTestSimulator({ scenario: KV_FIXTURE });
}

/** The vault's host is 127.0.0.1, not `*.vault.azure.net`: the challenge's resource check must be off. */
export function secretClientAs(t: TestSim, principal: string): SecretClient {
  return new SecretClient(t.sim.control.vaultUri(VAULT), t.credentialOf(principal), {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: t.sim.info.caCert },
    retryOptions: { maxRetries: 0 },
  });
}

export function keyVaultManagementAs(t: TestSim, principal: string, subscriptionId = PLATFORM) {
  return new KeyVaultManagementClient(t.credentialOf(principal), subscriptionId, {
    endpoint: t.sim.info.armEndpoint,
    credentials: ARM_SCOPES,
    tlsOptions: { ca: t.sim.info.caCert },
  });
}

export function subscriptionClientAs(t: TestSim, principal: string) {
  return new SubscriptionClient(t.credentialOf(principal), {
    endpoint: t.sim.info.armEndpoint,
    credentialScopes: ARM_SCOPES.scopes,
    tlsOptions: { ca: t.sim.info.caCert },
  });
}

export const vaultResourceId = `/subscriptions/${PLATFORM}/resourceGroups/rg-ai/providers/Microsoft.KeyVault/vaults/${VAULT}`;

/** Collects an async iterable (the SDKs' paged lists). */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
