/** Activities of `revokeAccess`: resolve the subject, find its grants, remove one, wait until it is refused. */
import {
  deleteGrant,
  findGrants,
  openAiAccounts,
  readableSubscriptions,
  resolveSubject,
  type RefusalWait,
  waitUntilRefused,
} from '../azure/access';
import type { AzureContext } from '../azure/context';
import type { AccessSubject, Grant } from '../contracts/access';
import type { AccountRef } from '../contracts/model';
import { previousHeartbeat } from './context';

export function accessActivities(ctx: AzureContext) {
  return {
    /** The subject's object id and probes, the accounts in scope, and what grants it access (read-only). */
    async findAccess(input: {
      subject: AccessSubject;
      subscriptionIds: readonly string[];
      accounts?: readonly AccountRef[];
      probePath: string;
    }) {
      const subscriptionIds = input.subscriptionIds.length ? input.subscriptionIds : await readableSubscriptions(ctx);
      const accounts = input.accounts ?? (await openAiAccounts(ctx, subscriptionIds));
      const subject = await resolveSubject(ctx, { ...input, subscriptionIds, accounts });
      return { accounts, findings: await findGrants(ctx, { subject, accounts }) };
    },
    /** Removes one role assignment (idempotent). */
    removeGrant: (input: { grant: Grant }) => deleteGrant(ctx, input.grant),
    /** Polls inside one heartbeating activity until the data plane refuses the subject, or the timeout. */
    waitUntilRefused: (input: RefusalWait) =>
      waitUntilRefused(ctx, input, previousHeartbeat<{ checks?: number; refusedAt?: Record<string, string> }>()),
  };
}
