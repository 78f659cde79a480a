/**
 * In a fleet that rolls a stopped wave back whole (`onStop: roll-back-wave`): the moved caller's migration does
 * not end. It tells the fleet and waits for the wave's end — kept, it goes on to its evidence; rolled back with the
 * wave, it fails here and the rollback undoes this run's changes, in reverse, as after any failure. A fleet that
 * never answers (terminated) leaves the change kept once the hold times out.
 */
import { condition, getExternalWorkflowHandle, isCancellation, patched } from '@temporalio/workflow';
import { formatDuration } from '../../../plan/durations';
import { failureMessage, StageFailure } from '../../kit/failures';
import { callerHeldSignal } from '../messages';
import type { MigrationRun } from '../state';
import { WAVE_HOLD } from '../versions';

export async function holdForWave(run: MigrationRun): Promise<void> {
  const hold = run.waveHold;
  if (!hold || !(run.lean || patched(WAVE_HOLD))) return;
  const { board } = run;
  const stage = board.current;
  // What the stage recorded (the switch, its smoke test) stays; how the hold ended is added to it.
  const detail = board.get(stage).detail;
  const after = (what: string) => (detail ? `${detail}; ${what}` : what);
  board.wait(stage, `moved; held until wave ${hold.wave} of the fleet ends: then kept, or rolled back with the wave`);
  try {
    await getExternalWorkflowHandle(hold.fleetWorkflowId).signal(callerHeldSignal, hold.caller);
  } catch (err) {
    if (isCancellation(err)) throw err;
    board.waitingFor = undefined;
    board.note(stage, after(`kept: the fleet could not be told this caller moved (${failureMessage(err)})`));
    return;
  }
  const answered = await condition(() => run.waveEnd !== undefined, hold.timeoutMs);
  board.waitingFor = undefined;
  if (!answered) {
    board.note(stage, after(`kept: the fleet did not end wave ${hold.wave} within ${formatDuration(hold.timeoutMs)}`));
    return;
  }
  if (run.waveEnd!.decision === 'roll-back') {
    board.note(stage, after(`rolled back with wave ${hold.wave}`));
    throw new StageFailure(stage, `rolled back with wave ${hold.wave}: ${run.waveEnd!.reason ?? 'the fleet stopped'}`);
  }
  board.note(stage, after(`kept when wave ${hold.wave} ended`));
}
