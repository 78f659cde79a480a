/** Stage: read-only checks; records the before-state every later stage and the rollback rely on. */
import type { BeforeState } from '../../../contracts/model';
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

export async function preflight(run: MigrationRun): Promise<BeforeState> {
  const { board, plan } = run;
  board.begin('preflight');
  const before = await arm.preflight.executeWithOptions({ ...armCall, summary: 'read-only checks' }, [{ plan }]);
  run.before = before;
  run.warnings.push(...before.warnings);
  board.end('preflight', 'done', before.warnings.length ? `${before.warnings.length} warning(s)` : 'all checks passed');
  return before;
}
