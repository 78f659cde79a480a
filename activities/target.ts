/**
 * Activities on the caller: its identity, its settings, its slot swap and its endpoints. Inputs keep the shape
 * recorded in running migrations' histories (`site`), whatever the kind of caller.
 */
import type { IdentitySnapshot, SettingSnapshot, SiteRef, SwapMarker, AccountRef } from '../contracts/model';
import type { MigrationPlan } from '../plan/schema';
import type { AzureContext } from '../azure/context';
import * as identity from '../azure/identity';
import { pollProbe, pollProbes, probe } from '../azure/probes';
import type { PollProbeInput, PollProgress, ProbeInput } from '../contracts/probes';
import * as settings from '../azure/settings';
import { targetAdapter } from '../azure/targets';
import { previousHeartbeat } from './context';

export function targetActivities(ctx: AzureContext) {
  /** Refs recorded before plans named a kind are App Service. */
  const adapter = (ref: SiteRef) => targetAdapter(ref.kind);
  return {
    enableIdentity: (input: { site: SiteRef; identity: MigrationPlan['identity'] }) =>
      identity.enableIdentity(ctx, adapter(input.site), input.site, input.identity),

    /** The identity on every slot a migration uses, one after the other: one activity, whatever the slots. */
    enableIdentities: async (input: { sites: readonly SiteRef[]; identity: MigrationPlan['identity'] }) => {
      const enabled = [];
      for (const site of input.sites)
        enabled.push(await identity.enableIdentity(ctx, adapter(site), site, input.identity));
      return enabled;
    },

    /** Compensation: the identity block as it was, removing only what this migration added. */
    restoreIdentity: (input: { site: SiteRef; before: IdentitySnapshot }) =>
      identity.restoreIdentity(ctx, adapter(input.site), input.site, input.before),

    updateSettings: (input: { site: SiteRef; remove: readonly string[]; set: Readonly<Record<string, string>> }) =>
      settings.updateSettings(ctx, adapter(input.site), input.site, input),

    /** Compensation: touched settings back, reading account keys again from Azure when needed. */
    restoreSettings: (input: {
      site: SiteRef;
      before: Readonly<Record<string, SettingSnapshot>>;
      account: AccountRef;
    }) => settings.restoreSettings(ctx, adapter(input.site), input.site, input.before, input.account),

    swapSlots: (input: { site: SiteRef; slot: string; direction: 'forward' | 'back'; marker: SwapMarker }) =>
      settings.swapSlots(ctx, adapter(input.site), input.site, input.slot, input.direction, input.marker),

    /** The caller's identity probe (propagation) or its health endpoint (smoke test). */
    probeApp: (input: ProbeInput) => probe(ctx, input),

    /** Polls the identity probe or the health endpoint until it passes or the budget runs out, resuming a predecessor. */
    pollApp: (input: PollProbeInput) => pollProbe(ctx, input, previousHeartbeat<PollProgress>()),

    /** Polls several endpoints together (every slot's identity probe): one activity, whatever the slots. */
    pollApps: (input: { polls: readonly PollProbeInput[] }) =>
      pollProbes(ctx, input.polls, previousHeartbeat<(PollProgress | undefined)[]>()),
  };
}
