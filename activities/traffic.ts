/**
 * Activities of a container app's traffic shift (multiple-revision mode) and of the secret that held the key: each
 * wraps one idempotent call of azure/targets/container-app-traffic.ts with the Azure error classifier. No secret
 * crosses: a restored secret's value is read again from the account here, the workflow names only which key.
 */
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { AccountRef, SiteRef } from '../contracts/model';
import type { TrafficBefore, TrafficEntry } from '../contracts/traffic';
import { accountKeys } from '../azure/account';
import type { AzureContext } from '../azure/context';
import { azureCall, statusOf, toFailure } from '../azure/errors';
import * as traffic from '../azure/targets/container-app-traffic';

export function trafficActivities(ctx: AzureContext) {
  return {
    /** Read-only: the traffic and active revisions a shift starts from. */
    readTraffic: (input: { site: SiteRef }) =>
      azureCall(`reading the traffic of ${input.site.name}`, () => traffic.readTraffic(ctx, input.site)),

    /** The new revision with the identity settings, at 0 % traffic; its name and own FQDN. */
    createRevision: (input: {
      site: SiteRef;
      suffix: string;
      before: TrafficBefore;
      remove: readonly string[];
      set: Readonly<Record<string, string>>;
    }) =>
      azureCall(`making revision ${input.suffix} of ${input.site.name}`, () =>
        traffic.createRevision(ctx, input.site, input),
      ),

    /** A shift step. */
    setTraffic: (input: { site: SiteRef; traffic: readonly TrafficEntry[] }) =>
      azureCall(`setting the traffic of ${input.site.name}`, () => traffic.setTraffic(ctx, input.site, input.traffic)),

    /** Compensation: the traffic back as it was before the shift. */
    restoreTraffic: (input: { site: SiteRef; before: TrafficBefore; revision: string }) =>
      azureCall(`restoring the traffic of ${input.site.name}`, () =>
        traffic.restoreTraffic(ctx, input.site, input.before, input.revision),
      ),

    /** Old revisions retired at the end, a new one deactivated on rollback, or old ones activated again. */
    setRevisionsActive: (input: { site: SiteRef; revisions: readonly string[]; active: boolean }) =>
      azureCall(`${input.active ? 'activating' : 'deactivating'} revisions of ${input.site.name}`, () =>
        traffic.setRevisionsActive(ctx, input.site, input.revisions, input.active),
      ),

    /** Read-only: the secrets the removed env vars referenced that nothing uses any more. */
    findKeySecrets: (input: { site: SiteRef; settings: readonly string[] }) =>
      azureCall(`reading the secrets of ${input.site.name}`, () =>
        traffic.unusedKeySecrets(ctx, input.site, input.settings),
      ),

    removeSecrets: (input: { site: SiteRef; names: readonly string[] }) =>
      azureCall(`removing secrets of ${input.site.name}`, () => traffic.removeSecrets(ctx, input.site, input.names)),

    /** Compensation: the secret back, holding the account's `keyName` as Azure gives it now. */
    restoreKeySecret: async (input: { site: SiteRef; name: string; keyName: 'key1' | 'key2'; account: AccountRef }) => {
      let value: string | undefined;
      try {
        value = (await accountKeys(ctx, input.account))[input.keyName];
      } catch (err) {
        if (statusOf(err) !== 400) throw toFailure(`reading the keys of ${input.account.name}`, err);
        throw new CutoverFailure(
          FailureType.CannotRestoreSetting,
          `cannot restore secret ${input.name}: ${input.account.name} no longer accepts keys — skip this step to accept that`,
          { nonRetryable: true },
        );
      }
      if (value === undefined)
        throw new CutoverFailure(
          FailureType.CannotRestoreSetting,
          `cannot restore secret ${input.name}: ${input.account.name} returned no ${input.keyName}`,
          { nonRetryable: true },
        );
      const key = value;
      await azureCall(`restoring secret ${input.name} of ${input.site.name}`, () =>
        traffic.restoreSecret(ctx, input.site, input.name, key),
      );
    },
  };
}
