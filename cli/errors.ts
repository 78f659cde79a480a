/** Errors the CLI reports as one clear line (exit 1), never as a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    /** Extra lines (e.g. every problem of a plan), printed under the message. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Thrown for a malformed command line (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
