/**
 * Activities that watch the account and the caller through Azure Monitor: the key-usage check before a key switch
 * and an analysis run's measurements. Read-only.
 */
import type { AzureContext } from '../azure/context';
import { consumedDowntime, measure, type MeasureInput } from '../azure/analysis';
import { observeKeyUsage, type KeyUsageQuery } from '../azure/inventory/key-usage';
import type { TimeWindow } from '../contracts/observation';

export function observeActivities(ctx: AzureContext) {
  return {
    /** Who used the account's key over the window, from its diagnostic logs. */
    observeKeyUsage: (input: KeyUsageQuery) => observeKeyUsage(ctx, input),
    /** One measurement of an analysis: each metric's result over the window, or why it could not be read. */
    measureAnalysis: (input: MeasureInput) => measure(ctx, input),
    /** The downtime Azure Monitor counted since the switch. */
    measureDowntime: (input: { app: { resourceId: string }; window: TimeWindow; recoveredAt: string }) =>
      consumedDowntime(ctx, input),
  };
}
