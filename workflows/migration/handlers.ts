/** The migration's message handlers: decisions at gates, abort, the operator's say over a blocked rollback, progress. */
import { type CancellationScope, setHandler } from '@temporalio/workflow';
import type { AbortInput, OperatorInput } from '../../contracts/messages';
import { filled, refuse } from '../kit/failures';
import { registerGateHandlers } from '../kit/gate';
import {
  abortUpdate,
  approveUpdate,
  MESSAGE_DESCRIPTIONS,
  progressQuery,
  rejectUpdate,
  retryCompensationUpdate,
  skipCompensationUpdate,
  waveEndedSignal,
} from './messages';
import type { MigrationRun } from './state';

/** `forward` is the scope of the forward path: aborting cancels it, and the rollback runs outside it. */
export function registerHandlers(run: MigrationRun, forward: CancellationScope): void {
  const { gates, saga } = run;
  registerGateHandlers(gates, { approve: approveUpdate, reject: rejectUpdate }, MESSAGE_DESCRIPTIONS);
  setHandler(
    abortUpdate,
    (a) => {
      run.abortRequest = { by: a.by.trim(), reason: a.reason.trim() };
      forward.cancel();
      run.refresh();
      return run.progress();
    },
    {
      validator: (a: AbortInput) => {
        if (!filled(a?.by)) throw refuse('"by" is required');
        if (!filled(a.reason)) throw refuse('a reason is required');
        if (run.outcome !== 'running' || run.rollingBack || run.abortRequest)
          throw refuse('the migration is not running forward: nothing to abort');
      },
      description: MESSAGE_DESCRIPTIONS.abort,
    },
  );
  setHandler(
    retryCompensationUpdate,
    (o) => {
      saga.decide('retry', o);
      return run.progress();
    },
    {
      validator: (o: OperatorInput) => saga.validateOperator(false, o),
      description: MESSAGE_DESCRIPTIONS.retryCompensation,
    },
  );
  setHandler(
    skipCompensationUpdate,
    (o) => {
      saga.decide('skip', o);
      return run.progress();
    },
    {
      validator: (o: OperatorInput) => saga.validateOperator(true, o),
      description: MESSAGE_DESCRIPTIONS.skipCompensation,
    },
  );
  setHandler(progressQuery, () => run.progress(), { description: MESSAGE_DESCRIPTIONS.progress });
  if (run.waveHold)
    setHandler(
      waveEndedSignal,
      (end) => {
        run.waveEnd ??= end;
      },
      { description: MESSAGE_DESCRIPTIONS.waveEnded },
    );
}
