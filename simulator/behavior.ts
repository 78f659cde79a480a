/**
 * Behaviour switches that are not delays: how the simulated providers choose between Azure's observed variants of
 * an answer. Set in a scenario (`behavior:`), changed at run time with `control.setBehavior`.
 */
import { z } from 'zod';

export interface Behavior {
  /**
   * How a Microsoft.CognitiveServices account PATCH is answered: `async` (default) 202 + `Azure-AsyncOperation`,
   * provisioningState Accepted → Updating → Succeeded; `sync` 200 with provisioningState Succeeded at once. Azure
   * does both (tag and custom-domain updates come back 200, network and identity changes as an LRO).
   */
  accountUpdateMode: 'async' | 'sync';
}

export const DEFAULT_BEHAVIOR: Behavior = { accountUpdateMode: 'async' };

export const behaviorSchema = z.strictObject({ accountUpdateMode: z.enum(['async', 'sync']) }).partial();

export type BehaviorInput = z.input<typeof behaviorSchema>;

/** Validates a partial behaviour (control API input); throws with the field named. */
export function parseBehavior(input: unknown): Partial<Behavior> {
  const r = behaviorSchema.safeParse(input);
  if (!r.success)
    throw new Error(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return r.data;
}
