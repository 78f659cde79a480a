/**
 * `revokeAccess`: takes a subject's data-plane access to Azure OpenAI accounts away, fast and with proof. The entry
 * function is the runbook. Only direct grants of an Azure OpenAI data action are removed — never an assignment of
 * another kind, never one inherited from a group (both are reported). A removal that keeps failing blocks until an
 * operator retries or skips it, so a revoke never ends with half the assignments silently left: the evidence lists
 * exactly what remains. Then it waits durably until the data plane refuses the subject and measures how long that took.
 */
import { setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type {
  AccessFindings,
  Grant,
  RefusalMeasurement,
  RevokeEvidence,
  RevokeInput,
  RevokeOutcome,
  RevokeProgress,
  RevokeResult,
  RevokeStage,
} from '../../contracts/access';
import type { AccountRef } from '../../contracts/model';
import type { OperatorInput } from '../../contracts/messages';
import { CutoverOutcome, CutoverStage } from '../../contracts/search-attributes';
import { failureMessage, StageFailure } from '../kit/failures';
import { Gates } from '../kit/gate';
import { StageBoard } from '../kit/run-state';
import { Saga } from '../kit/saga';
import {
  arm,
  armCall,
  armLong,
  armLongRunning,
  compensationCall,
  keyHolderWait,
  keyHolderWaitCall,
  undo,
} from '../migration/activities';
import {
  approveUpdate,
  rejectUpdate,
  retryRemovalUpdate,
  REVOKE_MESSAGE_DESCRIPTIONS,
  revokeProgressQuery,
  skipRemovalUpdate,
} from './messages';

const TITLES: Record<RevokeStage, string> = {
  find: 'Find every grant of the subject',
  approve: 'Approval: remove the access',
  remove: 'Remove the direct grants',
  refused: 'Wait until the data plane refuses it',
  evidence: 'Evidence record',
};

interface RemovalStep {
  readonly kind: 'delete-role-assignment';
  readonly grant: Grant;
}

export async function revokeAccess(input: RevokeInput): Promise<RevokeResult> {
  const run = new RevokeRun(input);
  run.registerHandlers();
  try {
    await run.find(); //           read-only: direct grants, group grants, other kinds
    await run.approve(); //        [approval] unless emergency
    await run.remove(); //         each direct grant; a stuck one blocks until retry or skip
    await run.waitUntilRefused(); // durable: the apps' identity probes, or the logs; measured
  } catch (err) {
    run.fail(err);
  }
  return run.finish();
}

class RevokeRun {
  readonly request: RevokeInput['request'];
  readonly info = workflowInfo();
  readonly startedAt = new Date().toISOString();
  readonly board = new StageBoard<RevokeStage>(TITLES, 'find', () => this.refresh());
  readonly gates: Gates<'revoke', RevokeStage>;
  readonly saga = new Saga<RemovalStep>();
  outcome: RevokeOutcome = 'running';
  why: string | undefined;
  accounts: readonly AccountRef[] = [];
  findings: AccessFindings | undefined;
  lastRemovalAt: string | undefined;
  readonly removedAt = new Map<string, string>();
  refusal: RefusalMeasurement | undefined;
  readonly warnings: string[] = [];

  constructor(readonly input: RevokeInput) {
    this.request = input.request;
    this.gates = new Gates(
      this.board,
      { revoke: 'approve' },
      {
        timeoutMs: this.request.approvalTimeoutMs,
        onTimeout: 'rollback',
        fourEyes: this.request.fourEyes,
        initiatedBy: input.initiatedBy,
      },
    );
    upsertSearchAttributes([
      { key: CutoverStage, value: 'find' },
      { key: CutoverOutcome, value: 'running' },
    ]);
  }

  registerHandlers(): void {
    const { gates, saga } = this;
    const validate = gates.validate.bind(gates);
    const d = REVOKE_MESSAGE_DESCRIPTIONS;
    setHandler(approveUpdate, (x) => gates.decide('approved', x), { validator: validate, description: d.approve });
    setHandler(rejectUpdate, (x) => gates.decide('rejected', x), { validator: validate, description: d.reject });
    setHandler(
      retryRemovalUpdate,
      (o) => {
        saga.decide('retry', o);
        return this.progress();
      },
      { validator: (o: OperatorInput) => saga.validateOperator(false, o), description: d.retryCompensation },
    );
    setHandler(
      skipRemovalUpdate,
      (o) => {
        saga.decide('skip', o);
        return this.progress();
      },
      { validator: (o: OperatorInput) => saga.validateOperator(true, o), description: d.skipCompensation },
    );
    setHandler(revokeProgressQuery, () => this.progress(), { description: d.progress });
  }

  async find(): Promise<void> {
    const { board, request } = this;
    board.begin('find', 'listing role assignments (direct and through groups)');
    const r = await armLong.findAccess.executeWithOptions(
      { ...armLongRunning, summary: 'who grants the subject access?' },
      [
        {
          subject: request.subject,
          subscriptionIds: request.subscriptionIds,
          ...(request.accounts ? { accounts: request.accounts } : {}),
          probePath: request.probePath,
        },
      ],
    );
    this.accounts = r.accounts;
    const f = (this.findings = r.findings);
    board.end(
      'find',
      'done',
      `${f.subject.label}: ${f.toRemove.length} direct grant(s) to remove on ${f.accounts.length} account(s); ${f.inherited.length} through groups and ${f.otherKinds.length} of other kinds left alone`,
    );
    if (f.toRemove.length === 0) {
      this.outcome = 'nothing-to-revoke';
      this.why = `${f.subject.label} has no direct Azure OpenAI grant on ${f.accounts.join(', ') || 'any account'}`;
    }
  }

  async approve(): Promise<void> {
    const { board, request } = this;
    if (this.outcome !== 'running') return;
    if (request.emergency || !request.approval) {
      board.skip('approve', request.emergency ? 'emergency: no gate' : 'not required');
      return;
    }
    const f = this.findings!;
    await this.gates.open(
      'revoke',
      `Remove ${f.subject.label}'s access: ${f.toRemove.map((g) => `${g.role} on ${g.scope.split('/').pop()}`).join(', ')}${f.inherited.length ? ` (${f.inherited.length} grant(s) through groups stay: remove the subject from the group)` : ''}`,
    );
  }

  async remove(): Promise<void> {
    const { board, saga } = this;
    if (this.outcome !== 'running') return;
    const grants = this.findings!.toRemove;
    board.begin('remove', `removing ${grants.length} role assignment(s)`);
    // Recorded in reverse so the saga works through them in the order found.
    for (const grant of [...grants].reverse())
      saga.record({ kind: 'delete-role-assignment', grant }, `delete ${grant.role} on ${grant.scope}`);
    const skipped = await saga.unwind(
      async (step) => {
        const r = await undo.removeGrant.executeWithOptions(
          { ...compensationCall, summary: `delete ${step.grant.role} on ${step.grant.scope.split('/').pop()}` },
          [{ grant: step.grant }],
        );
        this.removedAt.set(step.grant.id, r.at);
        this.lastRemovalAt = r.at;
      },
      {
        blocked: (b) => {
          board.mark('remove', 'blocked');
          board.waitingFor = `operator: ${b.compensation} failed (${b.error}) — retry or skip`;
        },
        resumed: () => {
          board.mark('remove', 'running');
          board.waitingFor = undefined;
        },
        refresh: () => undefined,
      },
    );
    const removed = grants.length - skipped;
    board.end(
      'remove',
      skipped ? 'failed' : 'done',
      `${removed} removed${skipped ? `, ${skipped} skipped: still in place` : ''}`,
    );
    if (skipped) {
      this.outcome = 'incomplete';
      this.why = `${skipped} grant(s) could not be removed and were skipped by an operator: they remain`;
    }
  }

  async waitUntilRefused(): Promise<void> {
    const { board, request } = this;
    if (this.outcome !== 'running' && this.outcome !== 'incomplete') return;
    if (!this.lastRemovalAt) return;
    board.begin('refused', 'waiting for the data plane to refuse the subject');
    const f = this.findings!;
    // Accounts a group grant still opens are not waited for: the subject keeps access there, as reported.
    const stillOpen = new Set(f.inherited.flatMap((g) => g.accounts));
    const waited = f.subject.probes.filter((p) =>
      p.accounts.length ? p.accounts.every((a) => !stillOpen.has(a)) : stillOpen.size === 0,
    );
    for (const p of f.subject.probes.filter((x) => !waited.includes(x)))
      this.warnings.push(
        `${p.app} keeps its access to ${p.accounts.join(', ') || 'its account'} through a group grant: not waited for`,
      );
    const accounts = this.accounts.filter((a) => !stillOpen.has(a.name));
    board.waitingFor = `the data plane to refuse ${f.subject.label} (${waited.length ? `${waited.length} app probe(s)` : 'from the logs'})`;
    this.refusal = await keyHolderWait.waitUntilRefused.executeWithOptions(
      { ...keyHolderWaitCall, summary: `until ${f.subject.label} is refused` },
      [
        {
          subject: { ...f.subject, probes: waited },
          accounts,
          since: this.lastRemovalAt,
          timeoutMs: request.refusalTimeoutMs,
          intervalMs: request.pollIntervalMs,
          logIngestionDelayMs: request.logIngestionDelayMs,
        },
      ],
    );
    board.waitingFor = undefined;
    const r = this.refusal;
    if (!r.refused)
      throw new StageFailure(
        'refused',
        `not refused within ${Math.round(request.refusalTimeoutMs / 1000)}s: ${r.detail}`,
      );
    board.end(
      'refused',
      'done',
      r.measuredMs !== undefined
        ? `refused ${Math.round(r.measuredMs / 1000)}s after the removal (${r.method})`
        : r.detail,
    );
    if (this.outcome === 'running') this.outcome = 'revoked';
  }

  fail(err: unknown): void {
    const rejected = this.gates.approvals.some((a) => a.decision === 'rejected');
    this.outcome = rejected ? 'rejected' : 'failed';
    this.why = failureMessage(err);
    const stage = this.board.get(this.board.current);
    if (stage.status === 'running' || stage.status === 'waiting') this.board.end(stage.id, 'failed', this.why);
  }

  /** The Web UI's current details: what a person must do first, then the stages. */
  refresh(): void {
    const p = this.progress();
    const first = p.pendingGate
      ? `**WAITING FOR APPROVAL:** ${p.pendingGate.title} — approve with \`cutover approve ${p.workflowId} --as NAME\` or Send an Update → approve`
      : p.blocked
        ? `**REMOVAL BLOCKED:** ${p.blocked.compensation}: ${p.blocked.error} — \`cutover retry\` or \`cutover skip\``
        : `**${p.outcome.toUpperCase()}**${p.waitingFor ? `: waiting for ${p.waitingFor}` : ''}`;
    setCurrentDetails(
      [
        first,
        '',
        '| Stage | Status | Detail |',
        '|---|---|---|',
        ...p.stages.map((s) => `| ${s.title} | ${s.status} | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`),
      ].join('\n'),
    );
  }

  progress(): RevokeProgress {
    const { board, gates, saga } = this;
    return {
      workflowId: this.info.workflowId,
      changeTicket: this.request.changeTicket,
      initiatedBy: this.input.initiatedBy,
      stage: board.current,
      stages: board.stages,
      outcome: this.outcome,
      ...(this.why ? { reason: this.why } : {}),
      ...(this.findings ? { findings: this.findings } : {}),
      ...(gates.pending ? { pendingGate: gates.pending } : {}),
      ...(saga.blocked ? { blocked: saga.blocked } : {}),
      ...(board.waitingFor ? { waitingFor: board.waitingFor } : {}),
    };
  }

  async finish(): Promise<RevokeResult> {
    const { board } = this;
    board.skipUnreached('evidence');
    board.begin('evidence');
    const removals = this.saga.entries.map(({ step, record }) => ({
      ...record,
      grant: step.grant,
      ...(this.removedAt.has(step.grant.id) ? { removedAt: this.removedAt.get(step.grant.id)! } : {}),
    }));
    const remaining = [
      ...removals.filter((r) => r.status !== 'done').map((r) => r.grant),
      ...(this.saga.size === 0 && this.outcome === 'rejected' ? (this.findings?.toRemove ?? []) : []),
    ];
    const evidence = (): RevokeEvidence => ({
      schema: 'cutover.revoke-evidence/v1',
      workflowId: this.info.workflowId,
      runId: this.info.runId,
      changeTicket: this.request.changeTicket,
      reason: this.request.reason,
      initiatedBy: this.input.initiatedBy,
      emergency: this.request.emergency,
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      outcome: this.outcome,
      ...(this.why ? { why: this.why } : {}),
      request: this.request,
      ...(this.findings ? { findings: this.findings } : {}),
      approvals: this.gates.approvals,
      removals,
      remaining,
      ...(this.refusal ? { refusal: this.refusal } : {}),
      warnings: this.warnings,
      stages: board.stages.map((s) => ({ ...s })),
    });
    let path: string | undefined;
    try {
      board.end('evidence', 'done');
      path = (await arm.writeRevokeEvidence.executeWithOptions({ ...armCall, summary: 'evidence' }, [evidence()])).path;
    } catch (err) {
      board.end('evidence', 'failed', failureMessage(err));
    }
    upsertSearchAttributes([{ key: CutoverOutcome, value: this.outcome }]);
    return { outcome: this.outcome, evidence: evidence(), ...(path ? { evidencePath: path } : {}) };
  }
}
