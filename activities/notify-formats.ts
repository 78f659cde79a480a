/**
 * Message bodies of a notice: a generic JSON document, a Microsoft Teams incoming-webhook message (an Adaptive
 * Card) and a Slack incoming-webhook message (blocks). Each carries the CLI command and the Web UI link.
 */
import type { Notice } from '../contracts/notifications';

const TITLES: Record<Notice['event'], string> = {
  'gate-opened': 'Waiting for approval',
  'analysis-inconclusive': 'Analysis inconclusive: a decision is needed',
  'rollback-started': 'Rolling back',
  'rollback-blocked': 'Rollback blocked: an operator is needed',
  finished: 'Finished',
};

export function noticeBody(notice: Notice, webUiLink: string | undefined): unknown {
  const title = `${TITLES[notice.event]} — ${notice.changeTicket}: ${notice.target} → ${notice.account}`;
  switch (notice.format) {
    case 'generic':
      return {
        schema: 'cutover.notification/v1',
        event: notice.event,
        title,
        message: notice.message,
        workflowId: notice.workflowId,
        runId: notice.runId,
        changeTicket: notice.changeTicket,
        target: notice.target,
        account: notice.account,
        stage: notice.stage,
        outcome: notice.outcome,
        ...(notice.gate ? { gate: notice.gate } : {}),
        command: notice.command,
        ...(webUiLink ? { webUi: webUiLink } : {}),
      };
    case 'teams':
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: title, wrap: true },
                { type: 'TextBlock', text: notice.message, wrap: true },
                {
                  type: 'FactSet',
                  facts: [
                    { title: 'Stage', value: notice.stage },
                    { title: 'Outcome', value: notice.outcome },
                    { title: 'Workflow', value: notice.workflowId },
                  ],
                },
                { type: 'TextBlock', text: `\`${notice.command}\``, wrap: true, fontType: 'Monospace' },
              ],
              ...(webUiLink
                ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in the Temporal Web UI', url: webUiLink }] }
                : {}),
            },
          },
        ],
      };
    case 'slack':
      return {
        text: `${title}: ${notice.message}`,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
          { type: 'section', text: { type: 'mrkdwn', text: notice.message } },
          {
            type: 'context',
            elements: [
              {
                type: 'mrkdwn',
                text: `stage *${notice.stage}* · outcome *${notice.outcome}* · \`${notice.workflowId}\``,
              },
            ],
          },
          { type: 'section', text: { type: 'mrkdwn', text: `\`${notice.command}\`` } },
          ...(webUiLink
            ? [
                {
                  type: 'actions',
                  elements: [
                    {
                      type: 'button',
                      text: { type: 'plain_text', text: 'Open in the Temporal Web UI' },
                      url: webUiLink,
                    },
                  ],
                },
              ]
            : []),
        ],
      };
  }
}
