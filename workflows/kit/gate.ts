/**
 * Approval gates: a gate opens with a deadline, shows in progress, and closes on an `approve` or `reject` update
 * (validated: a gate must be open, the approver named, the right gate, four eyes when the plan asks). On timeout it
 * rolls back or stays open, per the plan. Every decision is kept for the evidence record.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { condition, setHandler } from '@temporalio/workflow';
import type { ApprovalRecord, PendingGate } from '../../contracts/model';
import type { DecisionArg, DecisionInput } from '../../contracts/messages';
import { filled, refuse, StageFailure } from './failures';
import type { StageBoard } from './run-state';

export interface GatePolicy {
  readonly timeoutMs: number;
  readonly onTimeout: 'rollback' | 'wait';
  /** The approver may not be the person who started the run. */
  readonly fourEyes: boolean;
  /** What the run is called in refusals (default: "migration"). */
  readonly runNoun?: string;
  readonly initiatedBy: string;
  /** Told once when a gate opens (notifications). */
  readonly onOpen?: (gate: PendingGate) => void;
}

export class Gates<G extends string, Id extends string> {
  pending: PendingGate | undefined;
  readonly approvals: ApprovalRecord[] = [];
  private decision: ApprovalRecord | undefined;

  constructor(
    private readonly board: StageBoard<Id>,
    private readonly stageOf: Readonly<Record<G, Id>>,
    private readonly policy: GatePolicy,
  ) {}

  /**
   * The update validator: throws the refusal the caller reads. No caller identity reaches workflow code (the Web UI
   * sends none, and an update handler cannot read the request's identity), so the approver must be named.
   */
  validate(arg: DecisionArg | undefined): void {
    if (!this.pending) throw refuse('no approval gate is open');
    const d = decisionOf(arg);
    if (!filled(d?.approver))
      throw refuse('approver is required: send your name, e.g. "bob" or {"approver": "bob", "comment": "…"}');
    if (d.gate !== undefined && d.gate !== this.pending.gate)
      throw refuse(`gate "${d.gate}" is not open; the open gate is "${this.pending.gate}"`);
    if (this.policy.fourEyes && d.approver.trim().toLowerCase() === this.policy.initiatedBy.trim().toLowerCase())
      throw refuse(
        `four-eyes rule: ${d.approver} started this ${this.policy.runNoun ?? 'migration'} and cannot approve it`,
      );
  }

  decide(kind: ApprovalRecord['decision'], arg: DecisionArg): ApprovalRecord {
    const d = decisionOf(arg)!;
    const record: ApprovalRecord = {
      gate: this.pending!.gate,
      decision: kind,
      by: d.approver.trim(),
      ...(d.comment ? { comment: d.comment } : {}),
      at: new Date().toISOString(),
    };
    this.approvals.push(record);
    this.decision = record;
    this.pending = undefined;
    this.board.refresh();
    return record;
  }

  /** Opens the gate and waits for a decision; a rejection (or a timeout, per the plan) fails the stage. */
  async open(id: G, title: string): Promise<void> {
    const stageId = this.stageOf[id];
    const { board, policy } = this;
    board.begin(stageId);
    board.mark(stageId, 'waiting');
    this.decision = undefined;
    for (let round = 0; ; round++) {
      const deadline = new Date(Date.now() + policy.timeoutMs).toISOString();
      this.pending = { gate: id as PendingGate['gate'], title, openedAt: new Date().toISOString(), deadline };
      board.waitingFor = `approval: ${title} (until ${deadline})`;
      board.refresh();
      if (round === 0) policy.onOpen?.(this.pending);
      if (
        await condition(() => this.decision !== undefined, policy.timeoutMs, {
          summary: `waiting for approval: ${title}`,
        })
      )
        break;
      if (policy.onTimeout === 'rollback') {
        this.pending = undefined;
        board.waitingFor = undefined;
        throw new StageFailure(stageId, `no decision on "${title}" within the approval timeout`);
      }
    }
    board.waitingFor = undefined;
    const d = this.decision!;
    const by = `${d.by}${d.comment ? `: ${d.comment}` : ''}`;
    if (d.decision === 'rejected') {
      board.end(stageId, 'failed', `rejected by ${by}`);
      throw new StageFailure(stageId, `${d.by} rejected "${title}"${d.comment ? `: ${d.comment}` : ''}`);
    }
    board.end(stageId, 'done', `approved by ${by}`);
  }
}

/**
 * An update's argument as a decision: a JSON string is the approver's name. Anything else is taken as sent (the
 * validator checks it). Accepting the string needs no `patched()`: histories recorded before hold only objects,
 * which this passes through unchanged, and a refused update writes nothing to history.
 */
export function decisionOf(arg: DecisionArg | undefined): DecisionInput | undefined {
  return typeof arg === 'string' ? { approver: arg } : arg;
}

/** Registers the `approve` and `reject` updates of a run's gates, validated before anything reaches history. */
export function registerGateHandlers<G extends string, Id extends string>(
  gates: Gates<G, Id>,
  updates: {
    readonly approve: UpdateDefinition<ApprovalRecord, [DecisionArg]>;
    readonly reject: UpdateDefinition<ApprovalRecord, [DecisionArg]>;
  },
  descriptions: { readonly approve: string; readonly reject: string },
): void {
  const validator = gates.validate.bind(gates);
  setHandler(updates.approve, (d) => gates.decide('approved', d), { validator, description: descriptions.approve });
  setHandler(updates.reject, (d) => gates.decide('rejected', d), { validator, description: descriptions.reject });
}
