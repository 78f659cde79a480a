/** What the workflow asks the notify activity to tell: names and ids only, never a secret. */
import type { NotificationEvent, NotificationFormat } from '../plan/notifications';
import type { Outcome } from './model';

export interface Notice {
  readonly event: NotificationEvent;
  readonly webhook: string;
  readonly format: NotificationFormat;
  readonly workflowId: string;
  readonly runId: string;
  readonly changeTicket: string;
  /** The caller ("claims-bot" or "claims-bot/staging") and the account. */
  readonly target: string;
  readonly account: string;
  readonly stage: string;
  readonly outcome: Outcome;
  /** One sentence for people: what happened, or what is awaited. */
  readonly message: string;
  /** The open gate, for `gate-opened`. */
  readonly gate?: { readonly id: string; readonly title: string; readonly deadline?: string };
  /** The command that moves the run on (approve, retry or skip), or that shows it. */
  readonly command: string;
}

export interface NoticeResult {
  readonly delivered: boolean;
  readonly status?: number;
  readonly attempts: number;
}
