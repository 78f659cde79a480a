/**
 * The simulated customer app — the claims chatbot — as one request handler, whatever runs it: the process runtime's
 * `main.ts` (one child process per site/slot instance, like an App Service worker) or the in-process runtime
 * (`simulator/app-inprocess.ts`). It reads its configuration once, at worker start, from the environment it is given
 * (the slot's app settings plus IDENTITY_ENDPOINT / IDENTITY_HEADER / SIM_EGRESS_TOKEN / WEBSITE_*), and calls Azure
 * OpenAI with the official `openai` package: with the key, or with the platform's credential through a bearer-token
 * provider. Endpoints: `GET /health`, `GET /health/identity`, `POST /chat`, `GET /`.
 */
import type { ServerResponse } from 'node:http';
import type { TokenCredential } from '@azure/core-auth';
import { getBearerTokenProvider } from '@azure/identity';
import { AzureOpenAI } from 'openai';
import { managedIdentityToken } from './identity';

const API_VERSION = '2024-10-21';
const COGNITIVE_SCOPE = 'https://cognitiveservices.azure.com/.default';

export type AuthMode = 'key' | 'identity';

/** What the worker's environment holds at start (settings and platform variables). */
export type AppEnvironment = Readonly<Record<string, string | undefined>>;

/** What the runtime provides besides the environment. */
export interface AppPlatform {
  /** The app's Entra credential (built once, on its first identity call). */
  credential(): TokenCredential;
  /** The `fetch` its calls go through; default the global one (which trusts NODE_EXTRA_CA_CERTS). */
  fetch?: typeof fetch;
}

export interface AppRequest {
  method: string;
  /** Path and query, e.g. `/health/identity?clientId=…`. */
  url: string;
  body: Buffer;
}

export interface AppResponse {
  status: number;
  body: unknown;
}

export interface ClientApp {
  readonly authMode: AuthMode;
  handle(req: AppRequest): Promise<AppResponse>;
}

interface Outcome {
  ok: boolean;
  body: Record<string, unknown>;
}

/** Azure's error code when there is one; for token failures (wrapped by openai as `cause`) the credential's. */
function errorOf(err: unknown): { code: string; message: string } {
  type Coded = { code?: unknown; name?: unknown; message?: unknown; error?: { code?: unknown }; cause?: Coded };
  const e = err as Coded;
  const code = [e.error?.code, e.code, e.cause?.code, e.cause?.name, e.name]
    .map((c) => (typeof c === 'number' ? String(c) : c))
    .find((c): c is string => typeof c === 'string' && c !== 'Error');
  return { code: code ?? 'Error', message: typeof e.message === 'string' ? e.message : String(err) };
}

const missing = (name: string) => Object.assign(new Error(`${name} is not set`), { code: 'ConfigurationMissing' });

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Writes an app answer as JSON (the process runtime's listener and the in-process front door alike). */
export function writeAppResponse(res: ServerResponse, out: AppResponse): void {
  const text = JSON.stringify(out.body);
  res.writeHead(out.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createClientApp(env: AppEnvironment, platform: AppPlatform): ClientApp {
  const endpoint = env.AZURE_OPENAI_ENDPOINT;
  const deployment = env.AZURE_OPENAI_DEPLOYMENT;
  const apiKey = env.AZURE_OPENAI_API_KEY;
  const supportsIdentity = env.SIM_APP_SUPPORTS_IDENTITY !== 'false';
  // The simulated App Service egress (the simulator maps it to this site's outbound IP in diagnostic logs): a
  // platform concern, not the app's, so it rides on every Azure OpenAI call this worker makes.
  const egressHeaders: Record<string, string> = env.SIM_EGRESS_TOKEN ? { 'x-sim-egress': env.SIM_EGRESS_TOKEN } : {};
  const fetchFn = platform.fetch ?? fetch;

  /** Old code (supportsIdentity false) only knows keys; new code prefers the explicit mode, then a key, then identity. */
  const authMode: AuthMode = !supportsIdentity
    ? 'key'
    : env.AZURE_OPENAI_AUTH_MODE?.toLowerCase() === 'identity'
      ? 'identity'
      : apiKey
        ? 'key'
        : 'identity';

  function makeClient(mode: AuthMode, tokenProvider?: () => Promise<string>): AzureOpenAI {
    if (!endpoint) throw missing('AZURE_OPENAI_ENDPOINT');
    if (!deployment) throw missing('AZURE_OPENAI_DEPLOYMENT');
    const common = {
      endpoint,
      deployment,
      apiVersion: API_VERSION,
      maxRetries: 0,
      defaultHeaders: egressHeaders,
      ...(platform.fetch ? { fetch: platform.fetch } : {}),
    };
    if (mode === 'key') {
      if (!apiKey) throw missing('AZURE_OPENAI_API_KEY');
      return new AzureOpenAI({ ...common, apiKey });
    }
    // `apiKey: ''` (no key): the openai package would otherwise fall back to AZURE_OPENAI_API_KEY from the
    // process's environment and refuse a token provider ("apiKey and azureADTokenProvider are mutually exclusive").
    return new AzureOpenAI({ ...common, apiKey: '', azureADTokenProvider: tokenProvider });
  }

  /** The app's own client, built once like a real app does (its credential caches tokens). */
  let appClient: AzureOpenAI | undefined;
  function client(): AzureOpenAI {
    if (!appClient) {
      const provider =
        authMode === 'identity' ? getBearerTokenProvider(platform.credential(), COGNITIVE_SCOPE) : undefined;
      appClient = makeClient(authMode, provider);
    }
    return appClient;
  }

  /**
   * The platform-level identity probe: asks the managed-identity endpoint on every call, for the identity the slot
   * has now (the endpoint hands out its cached token of that identity). It speaks the App Service protocol itself
   * because msal-node keeps managed-identity tokens in a process-wide cache, so even a new
   * `ManagedIdentityCredential` would return a cached (possibly stale-identity) token.
   */
  async function freshIdentityToken(clientId: string | undefined): Promise<string> {
    const id = { endpoint: env.IDENTITY_ENDPOINT ?? '', header: env.IDENTITY_HEADER ?? '', fetch: fetchFn };
    return (await managedIdentityToken(id, COGNITIVE_SCOPE, clientId)).token;
  }

  async function infer(c: AzureOpenAI, mode: AuthMode, message: string): Promise<Outcome> {
    try {
      const { data, response } = await c.chat.completions
        .create({ model: deployment ?? '', messages: [{ role: 'user', content: message }], max_tokens: 64 })
        .withResponse();
      const requestId = response.headers.get('apim-request-id') ?? response.headers.get('x-request-id') ?? '';
      return {
        ok: true,
        body: { status: 'ok', authMode: mode, requestId, deployment, reply: data.choices[0]?.message?.content ?? '' },
      };
    } catch (err) {
      return { ok: false, body: { status: 'error', authMode: mode, error: errorOf(err) } };
    }
  }

  /** `infer` on a client that may fail to build (missing settings): the failure as an outcome. */
  async function probe(mode: AuthMode, build: () => AzureOpenAI, message: string): Promise<Outcome> {
    try {
      return await infer(build(), mode, message);
    } catch (err) {
      return { ok: false, body: { status: 'error', authMode: mode, error: errorOf(err) } };
    }
  }

  async function health(): Promise<AppResponse> {
    const out = await probe(authMode, client, 'health check');
    delete out.body.reply;
    return { status: out.ok ? 200 : 503, body: out.body };
  }

  /** The identity probe's clients, one per identity asked for: each of its calls asks the endpoint for a token. */
  const probeClients = new Map<string, AzureOpenAI>();

  /** The identity probe; `clientId` names a user-assigned identity the app's settings do not name yet. */
  async function identityHealth(clientId: string | undefined): Promise<AppResponse> {
    const id = clientId ?? env.AZURE_CLIENT_ID;
    const build = () => {
      let c = probeClients.get(id ?? '');
      if (!c) probeClients.set(id ?? '', (c = makeClient('identity', () => freshIdentityToken(id))));
      return c;
    };
    const out = await probe('identity', build, 'identity check');
    delete out.body.reply;
    return { status: out.ok ? 200 : 503, body: out.body };
  }

  async function chat(body: Buffer): Promise<AppResponse> {
    const parsed = parseJson(body) as { message?: unknown } | undefined;
    if (typeof parsed?.message !== 'string')
      return { status: 400, body: { error: { code: 'BadRequest', message: 'message is required' } } };
    const message = parsed.message;
    const out = await probe(authMode, client, message);
    return out.ok
      ? { status: 200, body: { reply: out.body.reply, authMode } }
      : { status: 502, body: { error: out.body.error, authMode } };
  }

  async function route(req: AppRequest): Promise<AppResponse> {
    const url = new URL(req.url || '/', 'http://app');
    const name = `${req.method.toUpperCase()} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    if (name === 'GET /health') return health();
    if (name === 'GET /health/identity') return identityHealth(url.searchParams.get('clientId') ?? undefined);
    if (name === 'POST /chat') return chat(req.body);
    if (name === 'GET /') {
      return {
        status: 200,
        body: {
          app: env.WEBSITE_SITE_NAME ?? 'app',
          instance: env.SIM_INSTANCE_ID ?? '',
          version: env.APP_VERSION ?? null,
          authMode,
        },
      };
    }
    return { status: 404, body: { error: { code: 'NotFound', message: `no route ${name}` } } };
  }

  return {
    authMode,
    handle: (req) => route(req).catch((err: unknown) => ({ status: 500, body: { error: errorOf(err) } })),
  };
}
