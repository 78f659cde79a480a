/**
 * HTTP checks: a caller's own endpoints (its identity probe during propagation, its health endpoint in the smoke
 * test) and the proof that the account refuses keys. Never sends a real key: the refusal check uses a dummy one,
 * since the type of auth is refused before the key is looked at.
 */
import { CutoverFailure, FailureType } from '../contracts/failures';
import type { ProbeResult } from '../contracts/model';
import {
  describeAnswer,
  type PollProbeInput,
  type PollProbeResult,
  type PollProgress,
  type ProbeAnswer,
  type ProbeInput,
} from '../contracts/probes';
import type { AzureContext } from './context';
import { httpRequest } from './http';

/** Data-plane API version for the key-refusal check. */
const OPENAI_API_VERSION = '2024-10-21';

export async function probe(ctx: AzureContext, input: ProbeInput): Promise<ProbeResult> {
  const at = new Date().toISOString();
  try {
    const res = await httpRequest(input.url, {
      timeoutMs: input.timeoutMs,
      ca: ctx.endpoints.caCert,
      signal: ctx.signal(),
    });
    const body = res.json<Record<string, unknown>>() ?? {};
    const error = (body.error ?? {}) as { code?: unknown; message?: unknown };
    const requestId = str(body.requestId) ?? str(res.headers['x-request-id']) ?? str(res.headers['apim-request-id']);
    const mismatched = Object.entries(input.expectJson).filter(([k, v]) => body[k] !== v);
    const ok = res.status === input.expectStatus && mismatched.length === 0;
    return {
      ok,
      status: res.status,
      ...(str(body.authMode) ? { authMode: str(body.authMode) } : {}),
      ...(requestId ? { requestId } : {}),
      ...(str(error.code) ? { errorCode: str(error.code) } : {}),
      ...(ok
        ? {}
        : {
            message:
              res.status !== input.expectStatus
                ? `HTTP ${res.status}${str(error.message) ? `: ${str(error.message)}` : ''}`
                : `expected ${mismatched.map(([k, v]) => `${k}=${String(v)}`).join(', ')}, got ${mismatched.map(([k]) => `${k}=${String(body[k])}`).join(', ')}`,
          }),
      at,
    };
  } catch (err) {
    return { ok: false, errorCode: 'Unreachable', message: (err as Error).message, at };
  }
}

/** Answers kept in a poll's record: the first and the latest. */
const MAX_ANSWERS = 40;

/**
 * Polls a caller's endpoint every `intervalMs` until it answers as expected or the budget runs out, inside one
 * activity (Temporal's pattern for frequent polling): the history records one activity however many attempts it
 * took, and the heartbeat carries the clock, the count and the record for a successor to resume.
 */
export async function pollProbe(
  ctx: AzureContext,
  input: PollProbeInput,
  resumed?: PollProgress,
): Promise<PollProbeResult> {
  const startedAt = resumed?.startedAt ?? Date.now();
  let attempts = resumed?.attempts ?? 0;
  let answers = [...(resumed?.answers ?? [])];
  for (;;) {
    const result = await probe(ctx, input);
    attempts++;
    if (input.record) answers = recordAnswer(answers, result);
    ctx.progress({ startedAt, attempts, answers, last: describeAnswer(result) } satisfies PollProgress);
    if (result.ok || Date.now() - startedAt + input.intervalMs > input.budgetMs)
      return { passed: result.ok, attempts, last: result, answers };
    await ctx.pause(input.intervalMs);
  }
}

/**
 * Polls several endpoints together (every slot's identity probe), each until it passes or its budget runs out; the
 * heartbeat carries every poll's progress, so a successor resumes each one.
 */
export async function pollProbes(
  ctx: AzureContext,
  inputs: readonly PollProbeInput[],
  resumed?: readonly (PollProgress | undefined)[],
): Promise<PollProbeResult[]> {
  const progress: (PollProgress | undefined)[] = inputs.map((_, i) => resumed?.[i]);
  return Promise.all(
    inputs.map((input, i) => {
      const report = (details?: unknown) => {
        if (details !== undefined) progress[i] = details as PollProgress;
        ctx.progress(progress);
      };
      return pollProbe({ ...ctx, progress: report }, input, resumed?.[i]);
    }),
  );
}

function sameAnswer(a: ProbeResult, b: ProbeResult): boolean {
  return a.ok === b.ok && a.status === b.status && a.errorCode === b.errorCode && a.authMode === b.authMode;
}

function recordAnswer(answers: ProbeAnswer[], result: ProbeResult): ProbeAnswer[] {
  const previous = answers.at(-1);
  if (previous && sameAnswer(previous, result))
    return [...answers.slice(0, -1), { ...previous, repeats: previous.repeats + 1 }];
  const next = [...answers, { ...result, repeats: 1 }];
  // The first answers say how it began, the latest how it ended: drop from the middle.
  return next.length > MAX_ANSWERS ? [...next.slice(0, MAX_ANSWERS / 2), ...next.slice(-MAX_ANSWERS / 2 + 1)] : next;
}

export interface KeysRefusedInput {
  readonly endpoint: string;
  readonly deployment: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Refusals in a row needed: Azure's front ends follow a switch at different moments. */
  readonly confirmations?: number;
}

/**
 * Proves keys are refused: a key call to the data plane must answer 403 AuthenticationTypeDisabled `confirmations`
 * times in a row. Polls, since the switch takes minutes in Azure.
 */
export async function verifyKeysRefused(
  ctx: AzureContext,
  input: KeysRefusedInput,
): Promise<{ code: string; attempts: number }> {
  const needed = Math.max(1, input.confirmations ?? 1);
  const deadline = Date.now() + input.timeoutMs;
  const url = `${input.endpoint.replace(/\/$/, '')}/openai/deployments/${encodeURIComponent(input.deployment)}/chat/completions?api-version=${OPENAI_API_VERSION}`;
  const dummyKey = '0'.repeat(32);
  let attempts = 0;
  let inARow = 0;
  let last = '';
  for (;;) {
    attempts++;
    ctx.progress({ attempts, inARow, last });
    try {
      const res = await httpRequest(url, {
        method: 'POST',
        headers: { 'api-key': dummyKey },
        body: { messages: [{ role: 'user', content: 'cutover key check' }], max_tokens: 1 },
        timeoutMs: 15_000,
        ca: ctx.endpoints.caCert,
        signal: ctx.signal(),
      });
      const code = str(res.json<{ error?: { code?: string } }>()?.error?.code) ?? '';
      if (res.status === 403 && code === 'AuthenticationTypeDisabled') {
        inARow++;
        if (inARow >= needed) return { code, attempts };
      } else inARow = 0;
      last = `${res.status} ${code}`;
    } catch (err) {
      inARow = 0;
      last = (err as Error).message;
    }
    if (Date.now() + input.intervalMs > deadline)
      throw new CutoverFailure(
        FailureType.LocalAuthNotEffective,
        `keys are still not refused ${needed > 1 ? `${needed} times in a row ` : ''}after ${attempts} attempts (last answer: ${last})`,
        { nonRetryable: true },
      );
    await ctx.pause(input.intervalMs);
  }
}

function str(v: unknown): string | undefined {
  if (Array.isArray(v)) return str(v[0]);
  return typeof v === 'string' && v !== '' ? v : undefined;
}
