/**
 * Activity-context helpers that also work outside an activity: the CLI reuses read-only activity code
 * (preflight, the key-caller inventory) directly, where there is no heartbeat to send and nothing to cancel.
 */
import { Context } from '@temporalio/activity';

function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function heartbeat(details?: unknown): void {
  current()?.heartbeat(details);
}

export function cancellationSignal(): AbortSignal | undefined {
  return current()?.cancellationSignal;
}

/** Sleeps, waking early (with an error) if the activity is cancelled. */
export async function pause(ms: number): Promise<void> {
  const ctx = current();
  if (ctx) return ctx.sleep(ms);
  await new Promise((r) => setTimeout(r, ms));
}
