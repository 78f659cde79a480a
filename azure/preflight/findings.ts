/**
 * What preflight collects: every problem it can find (so the user fixes them all at once) and warnings. A read that
 * Azure refuses for a reason the user must fix (404, 403, 401) becomes a problem with a hint; a transient error is
 * thrown, to be retried.
 */
import { CutoverFailure, FailureType } from '../../contracts/failures';
import type { PreflightProblem } from '../../contracts/model';
import { azureErrorInfo, isTransient, toFailure } from '../errors';

export class Findings {
  readonly problems: PreflightProblem[] = [];
  readonly warnings: string[] = [];

  problem(check: string, message: string, hint?: string): void {
    this.problems.push({ check, message, ...(hint ? { hint } : {}) });
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  has(check: string): boolean {
    return this.problems.some((p) => p.check === check);
  }

  /** Runs a read; a refusal the user must fix is recorded as a problem of `check` and answers undefined. */
  async read<T>(check: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      const info = azureErrorInfo(err);
      if (isTransient(info)) throw toFailure(what, err);
      const hint =
        info.statusCode === 404
          ? 'check the name, resource group and subscription in the plan'
          : info.statusCode === 403
            ? 'grant the worker the roles listed in the README (least privilege)'
            : info.code !== 'InvalidAuthenticationTokenTenant'
              ? undefined
              : check === 'identity'
                ? 'a managed identity must belong to the plan’s tenant: name a user-assigned identity of that tenant'
                : 'the worker signs in to another tenant than the subscription’s: check tenantId';
      const otherTenant =
        info.code === 'InvalidAuthenticationTokenTenant' ? ' (it belongs to another tenant than the worker’s)' : '';
      // Azure names the action refused ("… to perform action 'Microsoft.Web/sites/read' over scope …").
      const action = info.statusCode === 403 ? /perform action '([^']+)'/.exec(info.message)?.[1] : undefined;
      const denied = action ? ` (the worker may not ${action})` : '';
      this.problem(
        check,
        `${what}: ${info.statusCode}${info.code ? ` ${info.code}` : ''}${otherTenant}${denied}`,
        hint,
      );
      return undefined;
    }
  }

  /** The one failure preflight ends with: every problem, in the details. */
  failure(): CutoverFailure {
    const n = this.problems.length;
    return new CutoverFailure(
      FailureType.PreflightFailed,
      `preflight found ${n} problem${n === 1 ? '' : 's'}: ${this.problems.map((p) => p.message).join('; ')}`,
      { nonRetryable: true, details: this.problems },
    );
  }
}
