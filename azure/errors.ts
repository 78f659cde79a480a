/**
 * The one classifier of Azure errors: 4xx are permanent (non-retryable) except 408, 429 and 409 conflicts that mean
 * "another operation is in progress"; 5xx and network errors are transient. Everything that decides whether an
 * Azure error is worth retrying asks `isTransient`.
 */
import { isRestError } from '@azure/core-rest-pipeline';
import { CutoverFailure, FailureType } from '../contracts/failures';

/**
 * 409 codes that mean "another operation is under way": retried. ARM answers `RequestConflict` to a write of a
 * resource whose provisioning state is not terminal (an account update still running); Cognitive Services uses
 * `AccountProvisioningStateInvalid` for operations on an account that is still `Accepted`.
 */
const IN_PROGRESS_CONFLICTS = new Set([
  'Conflict',
  'OperationInProgress',
  'AnotherOperationInProgress',
  'RequestConflict',
  'AccountProvisioningStateInvalid',
]);

export interface AzureErrorInfo {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message: string;
}

export function azureErrorInfo(err: unknown): AzureErrorInfo {
  if (isRestError(err)) return { statusCode: err.statusCode, code: err.code, message: firstLine(err.message) };
  return { message: firstLine(err instanceof Error ? err.message : String(err)) };
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 500);
}

export function isTransient(info: AzureErrorInfo): boolean {
  const status = info.statusCode;
  if (status === undefined) return true; // no answer: network, TLS, timeout
  if (status === 408 || status === 429 || status >= 500) return true;
  return status === 409 && info.code !== undefined && IN_PROGRESS_CONFLICTS.has(info.code);
}

/** Azure's final answer (a 4xx: this scope cannot be read), as opposed to one worth retrying. */
export function isPermanent(err: unknown): boolean {
  return !isTransient(azureErrorInfo(err));
}

/** Wraps an Azure call's error as a typed failure naming what was being done. */
export function toFailure(action: string, err: unknown): CutoverFailure {
  if (err instanceof CutoverFailure) return err;
  const info = azureErrorInfo(err);
  const where = info.statusCode ? ` (${info.statusCode}${info.code ? ` ${info.code}` : ''})` : '';
  const message = `${action} failed${where}: ${info.message}`;
  return isTransient(info)
    ? new CutoverFailure(FailureType.AzureUnavailable, message, { details: [info] })
    : new CutoverFailure(FailureType.AzureRequestRejected, message, { nonRetryable: true, details: [info] });
}

/** Runs one Azure call; any error becomes a typed failure. */
export async function azureCall<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(action, err);
  }
}

export function statusOf(err: unknown): number | undefined {
  return isRestError(err) ? err.statusCode : undefined;
}

export function codeOf(err: unknown): string | undefined {
  return isRestError(err) ? err.code : undefined;
}
