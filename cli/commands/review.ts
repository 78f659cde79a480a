/**
 * `cutover review --approved FILE`: every identity holding an Azure OpenAI data-plane role on the accounts, against
 * the approved-access list — unapproved, expired, unused for N days (from the logs) — in a table or JSON. With
 * `--revoke`, starts the revokes of everything reported, behind one approval.
 */
import { workflowLink } from '../../client/connect';
import { openAiAccounts, resolveSubject } from '../../azure/access';
import { type ApprovedEntry, type ReviewReport, reviewAccess } from '../../azure/review';
import type { RevokeRequest } from '../../contracts/access';
import type { AccountRef } from '../../contracts/model';
import { parseApprovedAccess } from '../../plan/approved-access';
import { loadYamlFile, PlanFileUnreadableError } from '../../plan/load';
import { PlanValidationError } from '../../plan/schema';
import { azureContext } from '../azure';
import { type CliContext, withTemporal } from '../context';
import { UserError } from '../errors';
import { personActing } from '../person';
import { renderPlanProblems, table } from '../render';
import { durationOption, subjectOf } from './revoke';

export interface ReviewOptions {
  readonly approved: string;
  readonly account?: string;
  readonly resourceGroup?: string;
  readonly subscription?: string;
  readonly unusedDays: number;
  readonly revoke?: boolean;
  readonly logIngestionDelay: string;
  readonly ticket?: string;
  readonly as?: string;
}

export interface ReviewResult extends ReviewReport {
  readonly revokes?: { readonly workflowId: string; readonly link?: string };
}

export async function reviewCommand(ctx: CliContext, opts: ReviewOptions): Promise<ReviewResult> {
  const subscriptionId = opts.subscription ?? (ctx.config.azureConfigured ? undefined : ctx.dev?.azure.subscriptionId);
  if (!subscriptionId) throw new UserError('--subscription is required', 'the subscription of the accounts');
  if ((opts.account === undefined) !== (opts.resourceGroup === undefined))
    throw new UserError('--account and --resource-group go together', 'name both, or neither for every account');
  if (opts.revoke && !opts.ticket)
    throw new UserError('--ticket is required with --revoke', 'the change ticket of the revokes');
  const initiatedBy = opts.revoke ? personActing(ctx, opts.as, 'starts the revokes') : undefined;
  const file = await loadYamlFile(opts.approved, parseApprovedAccess).catch((err: unknown) => {
    if (err instanceof PlanFileUnreadableError)
      throw new UserError(err.message.replace('plan file', 'approved-access list'), 'check the path');
    if (err instanceof PlanValidationError)
      throw new UserError(
        `${opts.approved} is not a valid approved-access list`,
        'see `cutover review --help`',
        renderPlanProblems(err.problems),
      );
    throw err;
  });
  const azure = azureContext(ctx);
  const approved: ApprovedEntry[] = [];
  for (const e of file.approved) {
    const subject = subjectOf(e, subscriptionId);
    const resolved = await resolveSubject(azure, {
      subject,
      subscriptionIds: [subscriptionId],
      probePath: 'none',
    }).catch((err: unknown) => {
      throw new UserError(
        `approved entry ${e.principal ?? e.identity ?? e.app}: ${(err as Error).message}`,
        'fix the list or the name',
      );
    });
    approved.push({
      objectId: resolved.objectId,
      subject: e.principal ?? e.identity ?? e.app ?? '',
      accounts: e.accounts,
      owner: e.owner,
      expires: e.expires,
      purpose: e.purpose,
    });
  }
  const accounts: AccountRef[] =
    opts.account && opts.resourceGroup
      ? [{ subscriptionId, resourceGroup: opts.resourceGroup, name: opts.account }]
      : await openAiAccounts(azure, [subscriptionId]);
  const report = await reviewAccess(azure, { accounts, approved, unusedDays: opts.unusedDays, now: new Date() });
  let revokes: ReviewResult['revokes'];
  const flagged = report.rows.filter((r) => r.status !== 'approved' && r.principalType !== 'Group');
  if (opts.revoke && flagged.length) {
    const byPrincipal = new Map<string, AccountRef[]>();
    for (const r of flagged) {
      const list = byPrincipal.get(r.objectId) ?? [];
      const account = accounts.find((a) => a.name === r.account)!;
      if (!list.includes(account)) list.push(account);
      byPrincipal.set(r.objectId, list);
    }
    const requests: RevokeRequest[] = [...byPrincipal].map(([objectId, accs]) => ({
      changeTicket: opts.ticket!,
      reason: `access review ${report.reviewedAt.slice(0, 10)}: ${flagged
        .filter((r) => r.objectId === objectId)
        .map((r) => `${r.status} on ${r.account}`)
        .join(', ')}`,
      subject: { kind: 'principal', objectId },
      accounts: accs,
      subscriptionIds: [subscriptionId],
      emergency: false,
      approval: false,
      fourEyes: true,
      approvalTimeoutMs: 24 * 3_600_000,
      refusalTimeoutMs: 30 * 60_000,
      pollIntervalMs: 2000,
      probePath: '/health/identity',
      logIngestionDelayMs: durationOption('--log-ingestion-delay', opts.logIngestionDelay),
    }));
    revokes = await withTemporal(ctx, async (t) => {
      const workflowId = `cutover/review/${opts.ticket!}`;
      await t.client.workflow.start('revokeReviewed', {
        taskQueue: t.taskQueue,
        workflowId,
        args: [{ changeTicket: opts.ticket!, initiatedBy: initiatedBy!, requests, approvalTimeoutMs: 24 * 3_600_000 }],
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `${opts.ticket!}: revoke ${requests.length} identities found by an access review`,
      });
      const link = workflowLink(t, workflowId);
      return { workflowId, ...(link ? { link } : {}) };
    });
  }
  const result: ReviewResult = { ...report, ...(revokes ? { revokes } : {}) };
  ctx.out.result(result, () =>
    [
      `Access review of ${report.accounts.join(', ')} (${report.rows.length} grant(s); unused = no call in ${report.unusedDays} days)`,
      '',
      table(
        report.rows.map((r) => [
          r.status.toUpperCase(),
          r.who,
          r.objectId,
          r.account,
          r.role,
          r.owner ?? '',
          r.expires ?? '',
          r.lastSeen ?? 'never',
        ]),
        ['STATUS', 'WHO', 'OBJECT ID', 'ACCOUNT', 'ROLE', 'OWNER', 'EXPIRES', 'LAST CALL'],
      ),
      ...report.logs.map((l) => `note: ${l.account}: unused cannot be judged — ${l.why}`),
      ...(revokes
        ? [
            '',
            `Revokes started, behind one approval: ${revokes.workflowId}`,
            `  cutover approve ${revokes.workflowId} --as NAME`,
            ...(revokes.link ? [`  Web UI: ${revokes.link}`] : []),
          ]
        : opts.revoke
          ? ['', 'Nothing to revoke.']
          : []),
    ].join('\n'),
  );
  return result;
}
