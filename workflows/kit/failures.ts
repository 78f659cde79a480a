/** How workflow code says "stop and roll back", refuses a message, and words a failure for people. */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../contracts/failures';
import type { PreflightProblem } from '../../contracts/model';

/** A reason to stop going forward and roll back. */
export class StageFailure extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(message);
    this.name = 'StageFailure';
  }
}

/** An update refusal as the caller should read it: one line, no stack trace pointing into worker sources. */
export function refuse(message: string): ApplicationFailure {
  const failure = ApplicationFailure.create({ type: 'UpdateRefused', message, nonRetryable: true });
  failure.stack = '';
  return failure;
}

/** Update inputs come from any client (the Web UI sends raw JSON): check shapes at run time. */
export function filled(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The problems a failed preflight activity reported, if that is what failed. */
export function preflightProblemsOf(err: unknown): PreflightProblem[] | undefined {
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FailureType.PreflightFailed
  )
    return (err.cause.details ?? []) as PreflightProblem[];
  return undefined;
}
