/** Every webhook a plan names must be configured on the worker that runs it. */
import type { MigrationPlan } from '../../plan/schema';
import type { Findings } from './findings';

export function checkWebhooks(plan: MigrationPlan, known: readonly string[], f: Findings): void {
  for (const name of new Set((plan.notifications ?? []).map((n) => n.webhook)))
    if (!known.includes(name))
      f.problem(
        'notifications',
        `webhook ${name} is not configured on the worker`,
        `give the worker its URL in CUTOVER_WEBHOOK_URLS, e.g. {"${name}": "https://…"}, or leave it out of the plan`,
      );
}
