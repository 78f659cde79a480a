/** Waiting on a running migration through its `progress` query, shared by every test that drives one. */
import { progressQuery } from '../../workflows/migration/messages';
import type { MigrationProgress } from '../../contracts/model';
import { WAIT_MS } from './wait';

export interface ProgressHandle {
  query(q: typeof progressQuery): Promise<MigrationProgress>;
}

/**
 * Polls the progress query until `pred` holds; fails naming `what` and the last progress seen — at once when the
 * migration has ended without `pred` holding (it never will then), else after `timeoutMs`.
 */
export async function waitForProgress(
  handle: ProgressHandle,
  pred: (p: MigrationProgress) => boolean,
  what = 'the expected progress',
  timeoutMs = WAIT_MS,
): Promise<MigrationProgress> {
  const deadline = Date.now() + timeoutMs;
  let last: MigrationProgress | undefined;
  const describe = () =>
    `last stage ${last?.stage ?? '?'} (${last?.waitingFor ?? last?.outcome ?? ''}${last?.reason ? `: ${last.reason}` : ''})`;
  for (;;) {
    last = (await handle.query(progressQuery).catch(() => undefined)) ?? last;
    if (last && pred(last)) return last;
    if (last && last.outcome !== 'running') throw new Error(`${what}: the migration ended first; ${describe()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms; ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
