/**
 * Notifications of a run: each event the plan asks for goes to its webhooks through the notify activity, started
 * without holding the run up (a gate opens at once) and awaited before the run ends, so delivery is retried
 * durably. A notice that cannot be delivered is a warning in the evidence, never a reason to roll back.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Notice, NoticeResult } from '../../contracts/notifications';
import type { MigrationActivities } from '../../activities';
import { targetLabel, targetOf } from '../../plan/schema';
import type { NotificationEvent } from '../../plan/notifications';
import { notifyCall } from '../activity-options';
import { failureMessage } from '../kit/failures';
import type { MigrationRun } from './state';
import { NOTIFICATIONS } from './versions';

const notifier = proxyActivities<MigrationActivities>(notifyCall);

export interface NotificationRecord {
  readonly event: NotificationEvent;
  readonly webhook: string;
  delivered?: boolean;
  status?: number;
  attempts?: number;
  error?: string;
}

export class Notifications {
  readonly records: NotificationRecord[] = [];
  private readonly pending: Promise<void>[] = [];
  /** Decided at the first event the plan asks for: executions from before notifications never reach it. */
  private enabled: boolean | undefined;

  constructor(private readonly run: MigrationRun) {}

  /** Tells every webhook that listens for `event`; returns at once. */
  send(event: NotificationEvent, message: string, command: string, gate?: Notice['gate']): void {
    const { run } = this;
    const rules = (run.plan.notifications ?? []).filter((r) => r.events.includes(event));
    if (rules.length === 0) return;
    this.enabled ??= run.lean || patched(NOTIFICATIONS);
    if (!this.enabled) return;
    const target = targetOf(run.plan);
    for (const rule of rules) {
      const notice: Notice = {
        event,
        webhook: rule.webhook,
        format: rule.format,
        workflowId: run.info.workflowId,
        runId: run.info.runId,
        changeTicket: run.plan.changeTicket,
        target: targetLabel(target),
        account: run.plan.account.name,
        stage: run.board.current,
        outcome: run.outcome,
        message,
        ...(gate ? { gate } : {}),
        command,
      };
      const record: NotificationRecord = { event, webhook: rule.webhook };
      this.records.push(record);
      this.pending.push(
        notifier.notify
          .executeWithOptions({ ...notifyCall, summary: `notify ${rule.webhook}: ${event}` }, [notice])
          .then(
            (r: NoticeResult) => {
              Object.assign(record, { delivered: r.delivered, status: r.status, attempts: r.attempts });
            },
            (err: unknown) => {
              Object.assign(record, { delivered: false, error: failureMessage(err) });
              run.warnings.push(
                `notification ${event} to webhook ${rule.webhook} was not delivered: ${failureMessage(err)}`,
              );
            },
          ),
      );
    }
  }

  /** Waits until every notice was delivered or given up on. */
  async settle(): Promise<void> {
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
  }
}
