/**
 * How long a test waits for something it expects to happen. The deadline only bounds how long a broken run takes to
 * fail (with a message naming what never came): a passing run never waits it out, so it is sized for the slowest
 * machine that runs the suite — two cores shared with a second suite, dev servers and simulators — not for speed.
 * Nothing a test asserts may depend on it.
 */
export const WAIT_MS = 300_000;

/** Polls `fn` until it returns something other than undefined; fails after `timeoutMs` naming `what`. */
export async function pollUntil<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}
