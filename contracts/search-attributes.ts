/**
 * Typed search attributes of a migration, so `cutover list` and the Web UI can filter by them.
 * The dev server registers them at start (see worker/dev-server.ts); a cluster operator registers them once.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { MigrationPlan } from '../plan/schema';
import { targetOf } from '../plan/targets';

export const CutoverStage = defineSearchAttributeKey('CutoverStage', SearchAttributeType.KEYWORD);
export const CutoverApp = defineSearchAttributeKey('CutoverApp', SearchAttributeType.KEYWORD);
export const CutoverAccount = defineSearchAttributeKey('CutoverAccount', SearchAttributeType.KEYWORD);
export const CutoverTicket = defineSearchAttributeKey('CutoverTicket', SearchAttributeType.KEYWORD);
export const CutoverOutcome = defineSearchAttributeKey('CutoverOutcome', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [CutoverStage, CutoverApp, CutoverAccount, CutoverTicket, CutoverOutcome] as const;

/** What a migration is indexed by from its start: set by the client that starts it and by the workflow itself. */
export function initialSearchAttributes(plan: Pick<MigrationPlan, 'target' | 'account' | 'changeTicket'>) {
  return [
    { key: CutoverApp, value: targetOf(plan).name },
    { key: CutoverAccount, value: plan.account.name },
    { key: CutoverTicket, value: plan.changeTicket },
    { key: CutoverStage, value: 'preflight' },
    { key: CutoverOutcome, value: 'running' },
  ];
}
