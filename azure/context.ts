/**
 * What every Azure operation of cutover is given: clients per subscription (rebuilt when the credential changes),
 * the endpoints, and three hooks of whoever runs it. Inside an activity the hooks heartbeat, follow cancellation and
 * sleep cancellably; in the CLI (a dry run, an inventory) they do nothing special. The Azure layer thus knows
 * nothing about Temporal.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  type ArmClientOptions,
  type AzureClients,
  type AzureEndpoints,
  createAzureClients,
  type CredentialSource,
  currentCredential,
} from './clients';

export interface AzureHooks {
  /** Reports progress (an activity heartbeat); without details, repeats the last report. */
  readonly progress: (details?: unknown) => void;
  /** Aborted when the work is cancelled. */
  readonly signal: () => AbortSignal | undefined;
  /** Sleeps, waking early (with an error) on cancellation. */
  readonly pause: (ms: number) => Promise<void>;
}

export interface AzureContext extends AzureHooks {
  readonly endpoints: AzureEndpoints;
  /** The current credential: asked at every use (see `CredentialSource`). */
  readonly credential: () => TokenCredential;
  readonly clients: (subscriptionId: string) => AzureClients;
  /** How its ARM clients are built (the governor they share); for the clients built beside `clients`. */
  readonly arm: ArmClientOptions;
  /** Poll interval for Azure long-running operations. */
  readonly lroIntervalMs: number;
}

export interface AzureContextOptions {
  readonly credential: CredentialSource;
  readonly endpoints: AzureEndpoints;
  readonly lroPollIntervalMs?: number;
  readonly hooks?: Partial<AzureHooks>;
  /** The governor of its ARM requests: the process's shared one by default (see `ArmClientOptions`). */
  readonly governor?: ArmClientOptions['governor'];
}

export function createAzureContext(options: AzureContextOptions): AzureContext {
  const cache = new Map<string, AzureClients>();
  let cachedFor: TokenCredential | undefined;
  const credential = () => currentCredential(options.credential);
  const arm: ArmClientOptions = options.governor !== undefined ? { governor: options.governor } : {};
  return {
    endpoints: options.endpoints,
    credential,
    arm,
    clients(subscriptionId) {
      // A new credential (another principal) needs new clients: their pipelines cache the old one's tokens.
      const now = credential();
      if (now !== cachedFor) {
        cache.clear();
        cachedFor = now;
      }
      let c = cache.get(subscriptionId);
      if (!c) {
        c = createAzureClients(now, subscriptionId, options.endpoints, arm);
        cache.set(subscriptionId, c);
      }
      return c;
    },
    lroIntervalMs: options.lroPollIntervalMs ?? 2000,
    progress: options.hooks?.progress ?? (() => undefined),
    signal: options.hooks?.signal ?? (() => undefined),
    pause: options.hooks?.pause ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
}
