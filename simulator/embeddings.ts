/**
 * Azure OpenAI embeddings (`POST …/openai/deployments/{d}/embeddings`), simulated: each input becomes a
 * deterministic unit vector of the text (so equal texts embed equally and a query finds what it was made of), of
 * `dimensions` entries when the request names them, else 1536 (text-embedding-3-small and ada-002's size).
 */
import { createHash } from 'node:crypto';
import { SimError, isRecord } from './http';
import type { Account } from './model';

export const EMBEDDINGS_ACTION = 'Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action';
const DEFAULT_DIMENSIONS = 1536;

/** A unit vector of `dimensions` entries drawn from the text's SHA-256 stream. */
export function embeddingOf(text: string, dimensions: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}|${text}`).digest();
    for (let i = 0; i + 1 < digest.length && out.length < dimensions; i += 2) out.push(digest.readInt16BE(i) / 32768);
  }
  const norm = Math.sqrt(out.reduce((s, x) => s + x * x, 0)) || 1;
  return out.map((x) => x / norm);
}

export function embeddings(deployment: Account['deployments'][string], body: unknown) {
  const input = isRecord(body) ? body.input : undefined;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : undefined;
  if (!texts || texts.length === 0 || texts.some((t) => typeof t !== 'string' || t === ''))
    throw new SimError(400, 'BadRequest', "'input' must be a non-empty string or array of non-empty strings.");
  const d = isRecord(body) ? body.dimensions : undefined;
  if (d !== undefined && (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 3072))
    throw new SimError(400, 'BadRequest', "'dimensions' must be an integer between 1 and 3072.");
  const dimensions = typeof d === 'number' ? d : DEFAULT_DIMENSIONS;
  const tokens = (texts as string[]).reduce((n, t) => n + Math.max(1, Math.ceil(t.length / 4)), 0);
  return {
    object: 'list',
    data: (texts as string[]).map((t, index) => ({
      object: 'embedding',
      index,
      embedding: embeddingOf(t, dimensions),
    })),
    model: deployment.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
