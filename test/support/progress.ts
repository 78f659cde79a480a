/** Waiting on a running migration through its `progress` query, shared by every test that drives one. */
import { progressQuery } from '../../workflows/migration/messages';
import type { MigrationProgress } from '../../contracts/model';

export interface ProgressHandle {
  query(q: typeof progressQuery): Promise<MigrationProgress>;
}

/** Polls the progress query until `pred` holds; fails naming `what` and the last progress seen. */
export async function waitForProgress(
  handle: ProgressHandle,
  pred: (p: MigrationProgress) => boolean,
  what = 'the expected progress',
  timeoutMs = 60_000,
): Promise<MigrationProgress> {
  const deadline = Date.now() + timeoutMs;
  let last: MigrationProgress | undefined;
  for (;;) {
    last = (await handle.query(progressQuery).catch(() => undefined)) ?? last;
    if (last && pred(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not reached within ${timeoutMs} ms; last stage ${last?.stage ?? '?'} (${last?.waitingFor ?? last?.outcome ?? ''})`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}
