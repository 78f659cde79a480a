/**
 * Tells a plan's webhooks what a run is doing. The URL comes from the worker's configuration by the webhook's name
 * (Teams and Slack URLs are secrets): it never enters the workflow. A 2xx answer delivers; 408, 429, 5xx and
 * network errors are retried by Temporal (the notify activity profile); another 4xx is final.
 */
import { Context } from '@temporalio/activity';
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { Notice, NoticeResult } from '../contracts/notifications';
import { noticeBody } from './notify-formats';

export interface NotifyDeps {
  /** Webhook URLs by name (CUTOVER_WEBHOOK_URLS). */
  readonly webhooks: Readonly<Record<string, string>>;
  /** The Temporal Web UI, for the link in each message (CUTOVER_WEB_UI_URL). */
  readonly webUiUrl?: string;
}

const TIMEOUT_MS = 10_000;

export function notifyActivities(deps: NotifyDeps) {
  async function notify(notice: Notice): Promise<NoticeResult> {
    const url = deps.webhooks[notice.webhook];
    if (!url)
      throw new CutoverFailure(
        FailureType.NotificationRefused,
        `webhook ${notice.webhook} is not configured on this worker (CUTOVER_WEBHOOK_URLS)`,
        { nonRetryable: true },
      );
    const info = currentInfo();
    // The run's User Metadata tab: it opens with the current details, whose first line says what is awaited.
    const link = deps.webUiUrl
      ? `${deps.webUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(info?.workflowNamespace ?? 'default')}/workflows/${encodeURIComponent(notice.workflowId)}/${encodeURIComponent(notice.runId)}/user-metadata`
      : undefined;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(noticeBody(notice, link)),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      // Never the URL in the message: it is a secret.
      throw new CutoverFailure(
        FailureType.NotificationFailed,
        `webhook ${notice.webhook} unreachable: ${(err as Error).name}`,
      );
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return { delivered: true, status: res.status, attempts: info?.attempt ?? 1 };
    const transient = res.status === 408 || res.status === 429 || res.status >= 500;
    throw new CutoverFailure(
      transient ? FailureType.NotificationFailed : FailureType.NotificationRefused,
      `webhook ${notice.webhook} answered ${res.status}`,
      { nonRetryable: !transient },
    );
  }
  return { notify };
}

function currentInfo() {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}
