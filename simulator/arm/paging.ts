/**
 * ARM list paging: every list answers at most `pageSize` items and, when more remain, an opaque `nextLink` — an
 * absolute URL on the simulator's host with the request's query (api-version, $filter …) and a `$skiptoken`, which
 * the SDKs follow as-is. The page size is a knob (scenario `paging`, control `setPaging`) so a tool's paging is tested.
 */
import { SimError } from '../http';
import { type ArmContext } from './router';

export interface Paging {
  /** Items per page of every ARM list. */
  pageSize: number;
}

/** Large pages, as Azure's lists answer the estates a scenario describes: in one page. */
export const DEFAULT_PAGING: Paging = { pageSize: 1000 };

function encodeToken(offset: number, path: string): string {
  return Buffer.from(JSON.stringify({ o: offset, p: path.toLowerCase() })).toString('base64url');
}

function decodeToken(token: string, path: string): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; p?: unknown };
    if (typeof t.o === 'number' && Number.isInteger(t.o) && t.o >= 0 && t.p === path.toLowerCase()) return t.o;
  } catch {
    // falls through to the 400
  }
  throw new SimError(400, 'InvalidSkipToken', `The skip token '${token}' is invalid.`);
}

/** The page of `items` this request asks for, with `nextLink` when more remain. */
export function pageOf<T>(ctx: ArmContext, items: readonly T[]): { value: T[]; nextLink?: string } {
  const size = Math.max(1, Math.floor(ctx.core.paging.pageSize));
  const token = ctx.req.url.searchParams.get('$skiptoken');
  const offset = token === null ? 0 : decodeToken(token, ctx.req.path);
  const value = items.slice(offset, offset + size);
  if (offset + size >= items.length) return { value };
  const next = new URL(ctx.req.path, ctx.core.baseUrl);
  for (const [k, v] of ctx.req.url.searchParams) if (k !== '$skiptoken') next.searchParams.append(k, v);
  next.searchParams.set('$skiptoken', encodeToken(offset + size, ctx.req.path));
  return { value, nextLink: next.toString() };
}
