/**
 * A `fetch` over `node:https` with an agent of the caller's (its CA, its keep-alive pool): Node's global fetch cannot
 * take a CA per request, and a process can trust the simulator's CA only through NODE_EXTRA_CA_CERTS at its start.
 * Used by the in-process app runtime (the `openai` package's `fetch` option and the managed-identity calls) and by
 * the tests. Buffers the answer: nothing that uses it streams.
 */
import { Agent, request } from 'node:https';

/** Statuses whose Response must have a null body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function httpsFetch(agent: Agent): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    const body =
      typeof init?.body === 'string' ? init.body : init?.body ? await new Response(init.body).text() : undefined;
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        { method: init?.method ?? 'GET', headers: Object.fromEntries(headers.entries()), agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
            const status = res.statusCode ?? 500;
            resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers: h }));
          });
        },
      );
      const signal = init?.signal;
      if (signal) {
        if (signal.aborted) req.destroy(signal.reason as Error);
        else signal.addEventListener('abort', () => req.destroy(signal.reason as Error), { once: true });
      }
      req.on('error', reject);
      req.end(body);
    });
  };
}

/** A `fetch` that trusts `ca` (one agent of its own, no keep-alive). */
export function fetchWithCa(ca: string): typeof fetch {
  return httpsFetch(new Agent({ ca, keepAlive: false }));
}
