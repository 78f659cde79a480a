/**
 * What a run shows people: its stages (status, times, detail), what it is waiting for, and the `CutoverStage` search
 * attribute. Every change calls `onChange`, which re-renders the Web UI's current details. Deterministic: times come
 * from the workflow clock.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { StageStatus } from '../../contracts/model';
import { CutoverStage } from '../../contracts/search-attributes';

export interface Stage<Id extends string> {
  readonly id: Id;
  readonly title: string;
  status: StageStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

export class StageBoard<Id extends string> {
  readonly stages: Stage<Id>[];
  current: Id;
  /** What the run waits for right now (an approval, an operator, a probe, a lock), for people. */
  waitingFor: string | undefined;

  constructor(
    titles: Readonly<Record<Id, string>>,
    first: Id,
    private readonly onChange: () => void,
  ) {
    this.stages = (Object.keys(titles) as Id[]).map((id) => ({ id, title: titles[id], status: 'pending' }));
    this.current = first;
  }

  get(id: Id): Stage<Id> {
    return this.stages.find((s) => s.id === id)!;
  }

  skip(id: Id, detail: string): void {
    Object.assign(this.get(id), { status: 'skipped', detail });
  }

  begin(id: Id, detail?: string): void {
    this.current = id;
    Object.assign(this.get(id), { status: 'running', startedAt: new Date().toISOString(), detail });
    upsertSearchAttributes([{ key: CutoverStage, value: id }]);
    this.onChange();
  }

  end(id: Id, status: StageStatus, detail?: string): void {
    Object.assign(this.get(id), {
      status,
      endedAt: new Date().toISOString(),
      ...(detail !== undefined ? { detail } : {}),
    });
    this.onChange();
  }

  note(id: Id, detail: string): void {
    this.get(id).detail = detail;
    this.onChange();
  }

  /** Waits visibly: the stage's detail and `waitingFor` say what for. */
  wait(id: Id, what: string): void {
    this.waitingFor = what;
    this.note(id, what);
  }

  /** The stage status changes without a new detail (waiting ↔ running, blocked). */
  mark(id: Id, status: StageStatus): void {
    this.get(id).status = status;
  }

  /** Stages never reached once the run is over. */
  skipUnreached(except: Id): void {
    for (const st of this.stages)
      if (st.status === 'pending' && st.id !== except) Object.assign(st, { status: 'skipped', detail: 'not reached' });
  }

  refresh(): void {
    this.onChange();
  }
}
