/**
 * Small HTTP plumbing shared by every surface of the simulator: body reading, JSON answers, and the error
 * type handlers throw so that one place turns it into Azure's wire shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

/** A request as the simulator's handlers see it: parsed URL, raw body, lower-cased headers. */
export interface SimRequest {
  readonly method: string;
  readonly url: URL;
  /** Path as sent (not decoded), without the query string. */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** The peer's address as the socket reports it (127.0.0.1 for everything on this machine). */
  readonly remoteAddress?: string;
}

/** What a handler answers; `body` undefined means no body. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Raw text body (HTML, form answers); wins over `body`. */
  text?: string;
}

/** Thrown by handlers: becomes `{ "error": { code, message } }` (ARM / data-plane shape) with `status`. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit = 5 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new SimError(413, 'RequestEntityTooLarge', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a JSON body; an empty body is `undefined`; malformed JSON is Azure's 400 `InvalidRequestContent`. */
export function jsonBody(req: SimRequest): unknown {
  if (req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    throw new SimError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function send(res: ServerResponse, out: SimResponse): void {
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  let payload: string | undefined;
  if (out.text !== undefined) {
    payload = out.text;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (out.body !== undefined) {
    payload = JSON.stringify(out.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
  res.writeHead(out.status, headers);
  res.end(payload);
}

export function errorResponse(err: SimError, extraHeaders: Record<string, string> = {}): SimResponse {
  return {
    status: err.status,
    headers: { ...extraHeaders, ...err.headers },
    body: { error: { code: err.code, message: err.message } },
  };
}

export function requestId(): string {
  return randomUUID();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
