/**
 * Activity-context helpers that also work outside an activity: the CLI reuses read-only activity code
 * (preflight, the key-holder check) directly, where there is no heartbeat to send and nothing to cancel.
 */
import { Context } from '@temporalio/activity';

function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** The details last sent per activity, so the wrapper's periodic heartbeat repeats them instead of erasing them. */
const lastDetails = new WeakMap<Context, unknown>();

/** Heartbeats with these details; without details, repeats the last ones sent (the keep-alive of long calls). */
export function heartbeat(details?: unknown): void {
  const ctx = current();
  if (!ctx) return;
  if (details !== undefined) lastDetails.set(ctx, details);
  ctx.heartbeat(lastDetails.get(ctx));
}

/** Details the previous attempt of this activity heartbeated (a worker that died mid-poll), if any. */
export function previousHeartbeat<T>(): T | undefined {
  return current()?.info.heartbeatDetails as T | undefined;
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

/** The activity's task queue (so a workflow it starts runs on the same workers). */
export function activityTaskQueue(): string | undefined {
  return current()?.info.taskQueue;
}
