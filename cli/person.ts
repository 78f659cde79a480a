/**
 * Who is acting, for every command that records a person (start, approve, reject, abort, retry, skip): `--as NAME`,
 * else the configured CUTOVER_USER. Never the operating-system account: approvals and the four-eyes rule are about
 * people, and a shared or service login would silently approve as nobody in particular.
 */
import type { CliContext } from './context';
import { UserError } from './errors';

export function personActing(ctx: Pick<CliContext, 'config'>, as: string | undefined, role: string): string {
  const name = as?.trim() || ctx.config.user;
  if (!name)
    throw new UserError(
      `who ${role} is not known: pass --as NAME, or set CUTOVER_USER`,
      'the name goes into the evidence and the four-eyes rule compares it; e.g. --as alice, or export CUTOVER_USER=alice',
    );
  return name;
}
