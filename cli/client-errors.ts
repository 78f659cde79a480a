/**
 * The client layer's typed errors as the CLI shows them: one line and a hint. Commands that know better (a gate
 * named, a migration just started) catch the error themselves; everything else ends up here, in main.ts.
 */
import {
  AmbiguousMigrationError,
  ClientError,
  MigrationAlreadyRunningError,
  MigrationEndedError,
  FleetNotFoundError,
  MigrationNotFoundError,
  MigrationStillRunningError,
  MissingSearchAttributeError,
  NoEvidenceError,
  NoWorkerError,
  NoWorkerForStartError,
  PreflightTimeoutError,
  ProgressUnreadableError,
  RunNotFoundError,
  TemporalUnreachableError,
  UpdateRefusedError,
} from '../client/errors';
import { formatDuration } from '../plan/durations';
import { UserError } from './errors';

/** The hint for `cutover status` after an update was refused. */
export function statusHint(workflowId: string): string {
  return `see what the migration waits for with \`cutover status ${workflowId}\``;
}

/** A client error as the user error the CLI reports; anything else unchanged. */
export function asUserError(err: unknown): unknown {
  if (!(err instanceof ClientError)) return err;
  if (err instanceof TemporalUnreachableError)
    return new UserError(
      err.message,
      err.explicit
        ? 'check TEMPORAL_ADDRESS / --address and the TLS or API-key settings'
        : 'start the local environment with `npx cutover dev`, or set TEMPORAL_ADDRESS',
    );
  if (err instanceof MigrationNotFoundError) return new UserError(err.message, 'list migrations with `cutover list`');
  if (err instanceof FleetNotFoundError)
    return new UserError(
      err.message,
      'a fleet is named by its change ticket, as in the fleet plan, or `cutover/fleet/<ticket>`',
    );
  if (err instanceof RunNotFoundError)
    return new UserError(err.message, `see its runs with \`cutover history ${err.idOrApp}\``);
  if (err instanceof AmbiguousMigrationError)
    return new UserError(err.message, `name one by its workflow id: ${err.running.join(', ')}`);
  if (err instanceof NoWorkerError)
    return new UserError(err.message, 'start one with `cutover dev` (local) or `cutover worker`');
  if (err instanceof ProgressUnreadableError)
    return new UserError(
      err.message,
      `is a cutover worker polling task queue ${err.taskQueue}? start one with \`cutover dev\` or \`cutover worker\``,
    );
  if (err instanceof UpdateRefusedError) return new UserError(err.message, statusHint(err.workflowId));
  if (err instanceof MigrationEndedError)
    return new UserError(
      `${err.message}: there is nothing left to decide`,
      `see its outcome with \`cutover status ${err.workflowId}\``,
    );
  if (err instanceof MigrationStillRunningError)
    return new UserError(err.message, `follow it with \`cutover watch ${err.workflowId}\``);
  if (err instanceof NoEvidenceError) return new UserError(err.message, 'see its history in the Web UI');
  if (err instanceof MigrationAlreadyRunningError)
    return new UserError(err.message, alreadyRunningHint(err.workflowId));
  if (err instanceof MissingSearchAttributeError)
    return new UserError(
      err.message,
      'register cutover’s search attributes once: temporal operator search-attribute create --name CutoverStage --type Keyword (likewise CutoverApp, CutoverAccount, CutoverTicket, CutoverOutcome)',
    );
  if (err instanceof NoWorkerForStartError)
    return new UserError(
      err.message,
      `start a worker (\`cutover dev\` locally, or \`cutover worker\`): the migration waits for one; follow it with \`cutover watch ${err.workflowId}\``,
    );
  if (err instanceof PreflightTimeoutError)
    return new UserError(
      `the preflight of ${err.workflowId} has not finished after ${formatDuration(err.timeoutMs)}`,
      `the migration is still running; follow it with \`cutover watch ${err.workflowId}\``,
    );
  return err;
}

export function alreadyRunningHint(workflowId: string): string {
  return `follow it with \`cutover watch ${workflowId}\`, or abort it with \`cutover abort ${workflowId} --reason … --as NAME\``;
}
