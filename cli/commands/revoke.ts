/**
 * `cutover revoke`: starts a `revokeAccess` workflow for an identity, an app's system identity or a principal, and
 * follows it: what was found, the gate (approve it with `cutover approve`), each removal, and the time until the
 * data plane refused the subject. Exits 1 unless the access is gone (or there was none).
 */
import { revokeProgress, revokeResult, startRevoke } from '../../client/access';
import { workflowLink } from '../../client/connect';
import { MigrationAlreadyRunningError } from '../../client/errors';
import {
  type AccessSubject,
  type Grant,
  type RevokeProgress,
  type RevokeRequest,
  type RevokeResult,
  revokeWorkflowId,
} from '../../contracts/access';
import type { AccountRef } from '../../contracts/model';
import { parseDuration } from '../../plan/durations';
import { type CliContext, withTemporal } from '../context';
import { UserError } from '../errors';
import { personActing } from '../person';
import { table } from '../render';

export interface RevokeOptions {
  readonly identity?: string;
  readonly app?: string;
  readonly principal?: string;
  readonly account?: string;
  readonly resourceGroup?: string;
  readonly subscription?: string;
  readonly ticket: string;
  readonly reason: string;
  readonly as?: string;
  readonly emergency?: boolean;
  readonly approval?: boolean;
  readonly refusalTimeout: string;
  readonly poll: string;
  readonly probePath: string;
  readonly logIngestionDelay: string;
  readonly wait?: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A duration option (`--poll 2s`) in milliseconds; a clear error otherwise. */
export function durationOption(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UserError(`${flag} ${text} is not a duration`, 'for example 30m, 90s or 2s');
  return ms;
}

/** The subject the options name (exactly one of --identity, --app, --principal). */
export function subjectOf(
  opts: Pick<RevokeOptions, 'identity' | 'app' | 'principal'>,
  subscriptionId?: string,
): AccessSubject {
  const given = [opts.identity, opts.app, opts.principal].filter((x) => x !== undefined);
  if (given.length !== 1)
    throw new UserError(
      'name exactly one subject',
      'use --identity RESOURCE_GROUP/NAME, --app RESOURCE_GROUP/NAME or --principal OBJECT_ID',
    );
  if (opts.principal !== undefined) {
    if (!GUID.test(opts.principal))
      throw new UserError(`--principal ${opts.principal} is not an object id`, 'an Entra object id is a GUID');
    return { kind: 'principal', objectId: opts.principal.toLowerCase() };
  }
  const needSub = () => {
    if (!subscriptionId) throw new UserError('--subscription is required', 'the subscription of the identity or app');
    return subscriptionId;
  };
  if (opts.identity !== undefined) {
    if (opts.identity.startsWith('/subscriptions/')) return { kind: 'identity', resourceId: opts.identity };
    const [rg, name, extra] = opts.identity.split('/');
    if (!rg || !name || extra !== undefined)
      throw new UserError(
        `--identity ${opts.identity} is not RESOURCE_GROUP/NAME or an ARM id`,
        'e.g. --identity rg-research/id-research',
      );
    return {
      kind: 'identity',
      resourceId: `/subscriptions/${needSub()}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
    };
  }
  const [rg, name, slot, extra] = (opts.app ?? '').split('/');
  if (!rg || !name || extra !== undefined)
    throw new UserError(`--app ${opts.app} is not RESOURCE_GROUP/NAME[/SLOT]`, 'e.g. --app rg-claims/claims-bot');
  return { kind: 'app', subscriptionId: needSub(), resourceGroup: rg, name, ...(slot ? { slot } : {}) };
}

function grantLine(g: Grant): string[] {
  return [g.role, g.scope.replace(/^\/subscriptions\/[^/]+/i, '…'), g.accounts.join(', ')];
}

export function renderRevoke(p: RevokeProgress | RevokeResult['evidence'], status?: string): string {
  const findings = p.findings;
  const lines = [
    `Revoke ${findings?.subject.label ?? ''} (${p.changeTicket}) — ${'outcome' in p ? p.outcome : ''}${status ? ` [${status}]` : ''}`,
  ];
  if ('stages' in p)
    lines.push(
      table(
        p.stages.map((s) => [s.title, s.status, s.detail ?? '']),
        ['STAGE', 'STATUS', 'DETAIL'],
      ),
    );
  if (findings) {
    lines.push('', `Direct grants (${findings.toRemove.length}) — removed:`);
    if (findings.toRemove.length) lines.push(table(findings.toRemove.map(grantLine), ['ROLE', 'SCOPE', 'ACCOUNTS']));
    if (findings.inherited.length)
      lines.push(
        '',
        `Through groups (${findings.inherited.length}) — NOT removed: take ${findings.subject.label} out of the group`,
        table(
          findings.inherited.map((g) => [...grantLine(g), g.principalId]),
          ['ROLE', 'SCOPE', 'ACCOUNTS', 'GROUP'],
        ),
      );
    if (findings.otherKinds.length)
      lines.push(
        '',
        `Other assignments left alone (${findings.otherKinds.length}): ${findings.otherKinds.map((g) => g.role).join(', ')}`,
      );
  }
  if ('pendingGate' in p && p.pendingGate)
    lines.push(
      '',
      `Waiting for approval: ${p.pendingGate.title}`,
      `  cutover approve ${p.workflowId} --as NAME   |   cutover reject ${p.workflowId} --as NAME`,
    );
  if ('blocked' in p && p.blocked)
    lines.push(
      '',
      `Blocked: ${p.blocked.compensation} failed: ${p.blocked.error}`,
      `  cutover retry ${p.workflowId} --as NAME   |   cutover skip ${p.workflowId} --as NAME --reason WHY`,
    );
  if ('refusal' in p && p.refusal)
    lines.push(
      '',
      p.refusal.refused && p.refusal.measuredMs === undefined
        ? `Refused as far as can be observed: ${p.refusal.detail}`
        : p.refusal.refused
          ? `Refused ${((p.refusal.measuredMs ?? 0) / 1000).toFixed(1)} s after the last removal (${p.refusal.method}, ${p.refusal.checks} checks)`
          : `Not refused yet: ${p.refusal.detail}`,
    );
  if ('remaining' in p && p.remaining.length)
    lines.push(
      '',
      `Still in place (${p.remaining.length}):`,
      table(p.remaining.map(grantLine), ['ROLE', 'SCOPE', 'ACCOUNTS']),
    );
  return lines.join('\n');
}

export async function revokeCommand(
  ctx: CliContext,
  opts: RevokeOptions,
): Promise<RevokeResult | { workflowId: string }> {
  const initiatedBy = personActing(ctx, opts.as, 'asks for the revoke');
  const devSub = ctx.config.azureConfigured ? undefined : ctx.dev?.azure.subscriptionId;
  const subscriptionId = opts.subscription ?? devSub;
  const subject = subjectOf(opts, subscriptionId);
  if ((opts.account === undefined) !== (opts.resourceGroup === undefined))
    throw new UserError(
      '--account and --resource-group go together',
      'name both, or neither for every account it can reach',
    );
  const accounts: AccountRef[] | undefined =
    opts.account && opts.resourceGroup
      ? [{ subscriptionId: subscriptionId ?? '', resourceGroup: opts.resourceGroup, name: opts.account }]
      : undefined;
  if (accounts && !subscriptionId) throw new UserError('--subscription is required', 'the subscription of --account');
  const request: RevokeRequest = {
    changeTicket: opts.ticket,
    reason: opts.reason,
    subject,
    ...(accounts ? { accounts } : {}),
    subscriptionIds: subscriptionId ? [subscriptionId] : [],
    emergency: opts.emergency === true,
    approval: opts.approval !== false,
    fourEyes: true,
    approvalTimeoutMs: 24 * 3_600_000,
    refusalTimeoutMs: durationOption('--refusal-timeout', opts.refusalTimeout),
    pollIntervalMs: durationOption('--poll', opts.poll),
    probePath: opts.probePath,
    logIngestionDelayMs: durationOption('--log-ingestion-delay', opts.logIngestionDelay),
  };
  const label =
    subject.kind === 'principal'
      ? subject.objectId
      : subject.kind === 'app'
        ? subject.name
        : subject.resourceId.split('/').pop()!;
  return withTemporal(ctx, async (t) => {
    const workflowId = revokeWorkflowId(subject);
    await startRevoke(t, request, initiatedBy, label).catch((err: unknown) => {
      if (err instanceof MigrationAlreadyRunningError)
        throw new UserError(
          `a revoke of ${label} is already running (workflow id ${workflowId})`,
          `follow it in the Web UI, or approve it with \`cutover approve ${workflowId}\``,
        );
      throw err;
    });
    const link = workflowLink(t, workflowId);
    ctx.out.info(`Started revoke ${workflowId}${link ? ` — ${link}` : ''}`);
    if (opts.wait === false) {
      ctx.out.result({ workflowId }, () => `Started revoke ${workflowId}${link ? `\nWeb UI: ${link}` : ''}`);
      return { workflowId };
    }
    const done = revokeResult(t, workflowId);
    let last = '';
    let finished = false;
    void done.then(
      () => (finished = true),
      () => (finished = true),
    );
    while (!finished) {
      const p = await revokeProgress(t, workflowId).catch(() => undefined);
      const text = p ? renderRevoke(p) : '';
      if (p && text !== last) {
        ctx.out.info(text);
        last = text;
      }
      await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    const result = await done;
    ctx.out.result(result, () =>
      [renderRevoke(result.evidence), ...(result.evidencePath ? [`Evidence: ${result.evidencePath}`] : [])].join('\n'),
    );
    if (result.outcome !== 'revoked' && result.outcome !== 'nothing-to-revoke')
      throw new UserError(
        `the revoke ended ${result.outcome}: ${result.evidence.why ?? ''}`,
        'the evidence lists what remains',
      );
    return result;
  });
}
