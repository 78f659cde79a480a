/**
 * A plan's notifications: which of the worker's webhooks hear about which events, in which message format. A plan
 * names a webhook; its URL (a secret for Teams and Slack) is configured on the worker (`CUTOVER_WEBHOOK_URLS`) and
 * never enters the plan, the workflow's history or the evidence.
 */
import { z } from 'zod';

export const NOTIFICATION_EVENTS = [
  'gate-opened',
  'analysis-inconclusive',
  'rollback-started',
  'rollback-blocked',
  'finished',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const NOTIFICATION_FORMATS = ['generic', 'teams', 'slack'] as const;
export type NotificationFormat = (typeof NOTIFICATION_FORMATS)[number];

export const WEBHOOK_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const notificationsSchema = z
  .array(
    z.strictObject({
      webhook: z.string().regex(WEBHOOK_NAME, 'must be a webhook name the worker knows (lowercase letters, digits, -)'),
      format: z.enum(NOTIFICATION_FORMATS).default('generic'),
      events: z
        .array(z.enum(NOTIFICATION_EVENTS))
        .min(1)
        .default([...NOTIFICATION_EVENTS]),
    }),
  )
  .default([]);

export interface NotificationRule {
  readonly webhook: string;
  readonly format: NotificationFormat;
  readonly events: readonly NotificationEvent[];
}
