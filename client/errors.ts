/**
 * What can go wrong talking to Temporal about migrations, as typed errors carrying the facts. The client layer
 * prints nothing: the CLI (cli/client-errors.ts) turns these into the one-line messages and hints it shows.
 */

export abstract class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The Temporal frontend did not accept a connection. */
export class TemporalUnreachableError extends ClientError {
  constructor(
    readonly address: string,
    /** Whether the address was set explicitly (flag, TEMPORAL_ADDRESS, profile) rather than a fallback. */
    readonly explicit: boolean,
    readonly reason: string,
  ) {
    super(`cannot reach Temporal at ${address}: ${reason}`);
  }
}

/** No migration has this workflow id (or, without a `/`, this app name). */
export class MigrationNotFoundError extends ClientError {
  constructor(readonly idOrApp: string) {
    super(`no migration with workflow id ${idOrApp.includes('/') ? '' : 'or app name '}${idOrApp}`);
  }
}

/** A migration (a workflow id, or an app name) has no run with this run id. */
export class RunNotFoundError extends ClientError {
  constructor(
    readonly idOrApp: string,
    readonly runId: string,
  ) {
    super(`migration ${idOrApp} has no run ${runId}`);
  }
}

/** An app name that matches more than one running migration. */
export class AmbiguousMigrationError extends ClientError {
  constructor(
    readonly app: string,
    readonly running: readonly string[],
  ) {
    super(`${running.length} running migrations are of apps named ${app}`);
  }
}

/** No worker polls the task queue of a running migration, so it cannot progress or answer queries. */
export class NoWorkerError extends ClientError {
  constructor(
    readonly workflowId: string,
    readonly taskQueue: string,
  ) {
    super(`no cutover worker polls task queue ${taskQueue}, so ${workflowId} cannot make progress or answer`);
  }
}

/** The progress query of a running migration failed. */
export class ProgressUnreadableError extends ClientError {
  constructor(
    readonly workflowId: string,
    readonly taskQueue: string,
    readonly reason: string,
  ) {
    super(`cannot read the progress of ${workflowId}: ${reason}`);
  }
}

/** The workflow's validator refused an update (its one-line reason); nothing was recorded. */
export class UpdateRefusedError extends ClientError {
  constructor(
    readonly workflowId: string,
    readonly reason: string,
  ) {
    super(`refused: ${reason}`);
  }
}

/** An update sent to a migration that has ended. */
export class MigrationEndedError extends ClientError {
  constructor(
    readonly workflowId: string,
    /** The execution status name (COMPLETED, TERMINATED, …). */
    readonly status: string,
  ) {
    super(`migration ${workflowId} has already ended (${status.toLowerCase()})`);
  }
}

/** The evidence of a migration that still runs was asked for. */
export class MigrationStillRunningError extends ClientError {
  constructor(readonly workflowId: string) {
    super(`migration ${workflowId} is still running: its evidence is written when it ends`);
  }
}

/** A migration ended from outside (terminated, …): it returned no result and wrote no evidence. */
export class NoEvidenceError extends ClientError {
  constructor(
    readonly workflowId: string,
    readonly status: string,
  ) {
    super(`migration ${workflowId} ended ${status} without an evidence record`);
  }
}

/** A migration of the same app (the same workflow id) is already running. */
export class MigrationAlreadyRunningError extends ClientError {
  constructor(readonly workflowId: string) {
    super(`a migration with workflow id ${workflowId} is already running`);
  }
}

/** The namespace lacks one of cutover's search attributes. */
export class MissingSearchAttributeError extends ClientError {
  constructor(
    readonly namespace: string,
    readonly attribute: string,
  ) {
    super(`the Temporal namespace ${namespace} has no search attribute ${attribute}`);
  }
}

/** No worker polls the task queue a migration was just started on, so its preflight cannot run. */
export class NoWorkerForStartError extends ClientError {
  constructor(
    readonly workflowId: string,
    readonly taskQueue: string,
  ) {
    super(`started ${workflowId}, but no cutover worker polls task queue ${taskQueue}, so its preflight cannot run`);
  }
}

/** The workflow's preflight did not finish in time; the migration is still running. */
export class PreflightTimeoutError extends ClientError {
  constructor(
    readonly workflowId: string,
    readonly timeoutMs: number,
  ) {
    super(`the preflight of ${workflowId} has not finished after ${timeoutMs} ms`);
  }
}

/** A fleet of the same change ticket (the same workflow id) is already running. */
export class FleetAlreadyRunningError extends ClientError {
  constructor(readonly workflowId: string) {
    super(`a fleet with workflow id ${workflowId} is already running`);
  }
}

/** No fleet has this workflow id (or change ticket). */
export class FleetNotFoundError extends ClientError {
  constructor(readonly workflowId: string) {
    super(`no fleet with workflow id ${workflowId}`);
  }
}
