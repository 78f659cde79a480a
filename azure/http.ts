/**
 * Plain HTTPS for the app's own endpoints (smoke test, identity probe) and the Azure OpenAI data plane.
 * Trusts an extra CA when configured (the simulator's), follows no redirects, and bounds every request in time.
 */
import * as https from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  json<T = unknown>(): T | undefined;
}

export interface HttpRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly ca?: string;
  readonly signal?: AbortSignal;
}

const MAX_BODY = 256 * 1024;

/**
 * The User-Agent of cutover's own probes (smoke tests, the proof that keys are refused): the account's logs show
 * it, and the key-usage check and analyses leave these calls out.
 */
export const PROBE_USER_AGENT = 'cutover-probe/1';

export function httpRequest(url: string, req: HttpRequest): Promise<HttpResponse> {
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  return new Promise((resolve, reject) => {
    const r = https.request(
      url,
      {
        method: req.method ?? 'GET',
        headers: {
          accept: 'application/json',
          'user-agent': PROBE_USER_AGENT,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...req.headers,
        },
        ...(req.ca ? { ca: req.ca } : {}),
        timeout: req.timeoutMs,
        signal: req.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_BODY) chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json<T>() {
              try {
                return JSON.parse(text) as T;
              } catch {
                return undefined;
              }
            },
          });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${req.timeoutMs} ms`)));
    r.on('error', reject);
    r.end(payload);
  });
}
