/**
 * Failure types shared by activities (which throw them) and the workflow (which branches on them, never on text).
 */
export const FailureType = {
  /** Preflight found problems; details carry every `PreflightProblem`. Nothing was changed. */
  PreflightFailed: 'PreflightFailed',
  /** Azure answered with a permanent error (4xx other than 408/429); details carry `{ statusCode, code }`. */
  AzureRequestRejected: 'AzureRequestRejected',
  /** Azure answered with a transient error (408, 429, 5xx) or could not be reached. Retried. */
  AzureUnavailable: 'AzureUnavailable',
  /** A long-running Azure operation ended Failed or Canceled. */
  AzureOperationFailed: 'AzureOperationFailed',
  /** A setting's earlier value cannot be brought back without a secret that cutover never stores. */
  CannotRestoreSetting: 'CannotRestoreSetting',
  /** A webhook could not be reached or answered 408/429/5xx. Retried; never fails the migration. */
  NotificationFailed: 'NotificationFailed',
  /** A webhook is not configured, or refused the message (4xx). */
  NotificationRefused: 'NotificationRefused',
  /** Keys were still accepted after local auth was disabled, past the plan's budget. */
  LocalAuthNotEffective: 'LocalAuthNotEffective',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that retrying cannot fix. */
export const NON_RETRYABLE_FAILURES: readonly string[] = [
  FailureType.PreflightFailed,
  FailureType.AzureRequestRejected,
  FailureType.AzureOperationFailed,
  FailureType.CannotRestoreSetting,
  FailureType.NotificationRefused,
];

/**
 * A failure the Azure layer raises without knowing about Temporal; the activity boundary turns it into an
 * `ApplicationFailure` of the same type. `nonRetryable` is decided where the failure is raised, in one classifier.
 */
export class CutoverFailure extends Error {
  override readonly name = 'CutoverFailure';
  constructor(
    readonly type: FailureType,
    message: string,
    readonly options: { readonly nonRetryable?: boolean; readonly details?: readonly unknown[] } = {},
  ) {
    super(message);
  }

  get nonRetryable(): boolean {
    return this.options.nonRetryable ?? NON_RETRYABLE_FAILURES.includes(this.type);
  }
}
