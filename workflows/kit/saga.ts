/**
 * The saga: each change is recorded *before* it is made (a call that timed out may have succeeded), and undone in
 * reverse. A step that keeps failing blocks the rollback visibly until an operator sends `retryCompensation` or
 * `skipCompensation`; a skipped step is kept in the record with who skipped it and why.
 */
import { condition } from '@temporalio/workflow';
import type { BlockedRollback, CompensationRecord } from '../../contracts/model';
import type { OperatorInput } from '../../contracts/messages';
import { failureMessage, filled, refuse } from './failures';

export interface UnwindHooks {
  /** A step failed: the run waits for an operator (`blocked` says which step and why). */
  readonly blocked: (blocked: BlockedRollback) => void;
  /** The operator decided: the rollback goes on. */
  readonly resumed: () => void;
  readonly refresh: () => void;
}

export class Saga<Step extends { readonly kind: CompensationRecord['kind'] }> {
  readonly entries: { readonly step: Step; readonly record: CompensationRecord }[] = [];
  blocked: BlockedRollback | undefined;
  private operator: { action: 'retry' | 'skip'; by: string; reason?: string } | undefined;

  /** Records how to undo a change that is about to be made. */
  record(step: Step, description: string): void {
    this.entries.push({ step, record: { kind: step.kind, description, status: 'pending', attempts: 0 } });
  }

  /**
   * Records how to undo a change that is about to be made, to be undone only after the last recorded step of
   * `kind` (placed before it; at the end when there is none): for a change whose undo needs that step undone first.
   */
  recordUnder(kind: Step['kind'], step: Step, description: string): void {
    const at = this.entries.map((e) => e.step.kind).lastIndexOf(kind);
    const entry = { step, record: { kind: step.kind, description, status: 'pending' as const, attempts: 0 } };
    if (at < 0) this.entries.push(entry);
    else this.entries.splice(at, 0, entry);
  }

  /** Forgets the last step: its change was undone on the spot. */
  forgetLast(): void {
    this.entries.pop();
  }

  get size(): number {
    return this.entries.length;
  }

  get records(): CompensationRecord[] {
    return this.entries.map((e) => e.record);
  }

  /** The validator of the operator updates. */
  validateOperator(skip: boolean, o: OperatorInput): void {
    if (!this.blocked) throw refuse('no rollback step is blocked');
    if (!filled(o?.by)) throw refuse('"by" is required');
    if (skip && !filled(o.reason)) throw refuse('a reason is required to skip');
  }

  decide(action: 'retry' | 'skip', o: OperatorInput): void {
    this.operator =
      action === 'retry' ? { action, by: o.by.trim() } : { action, by: o.by.trim(), reason: o.reason?.trim() };
  }

  /** Undoes every recorded change in reverse; returns how many steps an operator skipped. */
  async unwind(run: (step: Step, description: string) => Promise<void>, hooks: UnwindHooks): Promise<number> {
    for (const { step, record } of [...this.entries].reverse()) {
      for (;;) {
        record.attempts++;
        try {
          await run(step, record.description);
          record.status = 'done';
          delete record.error;
          break;
        } catch (err) {
          record.status = 'failed';
          record.error = failureMessage(err);
          this.blocked = { compensation: record.description, error: record.error, since: new Date().toISOString() };
          hooks.blocked(this.blocked);
          this.operator = undefined;
          await condition(() => this.operator !== undefined);
          const d = this.operator!;
          this.blocked = undefined;
          hooks.resumed();
          if (d.action === 'skip') {
            record.status = 'skipped';
            record.skippedBy = d.by;
            record.reason = d.reason;
            hooks.refresh();
            break;
          }
          hooks.refresh();
        }
      }
    }
    return this.entries.filter((e) => e.record.status === 'skipped').length;
  }
}
