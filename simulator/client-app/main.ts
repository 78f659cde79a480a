/**
 * A simulated customer app — the claims chatbot — run by the simulator as one child process per site/slot
 * instance, like an App Service worker. It reads its configuration from the environment (the slot's app settings
 * plus IDENTITY_ENDPOINT / IDENTITY_HEADER / NODE_EXTRA_CA_CERTS / PORT) once at start, and calls Azure OpenAI
 * with the official `openai` package: with the key, or with `DefaultAzureCredential` through a bearer-token
 * provider. Endpoints: `GET /health`, `GET /health/identity`, `POST /chat`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { DefaultAzureCredential, getBearerTokenProvider } from '@azure/identity';
import { AzureOpenAI } from 'openai';

const API_VERSION = '2024-10-21';
const COGNITIVE_SCOPE = 'https://cognitiveservices.azure.com/.default';

type AuthMode = 'key' | 'identity';

const env = process.env;
const endpoint = env.AZURE_OPENAI_ENDPOINT;
const deployment = env.AZURE_OPENAI_DEPLOYMENT;
const apiKey = env.AZURE_OPENAI_API_KEY;
// The openai package falls back to AZURE_OPENAI_API_KEY from the environment and then refuses a token provider
// ("apiKey and azureADTokenProvider are mutually exclusive"): an app that keeps the key setting while switching to
// identity must not leave it where the SDK looks.
delete env.AZURE_OPENAI_API_KEY;
const supportsIdentity = env.SIM_APP_SUPPORTS_IDENTITY !== 'false';
// The simulated App Service egress (the simulator maps it to this site's outbound IP in diagnostic logs): a
// platform concern, not the app's, so it rides on every Azure OpenAI call this worker makes.
const egressHeaders: Record<string, string> = env.SIM_EGRESS_TOKEN ? { 'x-sim-egress': env.SIM_EGRESS_TOKEN } : {};
delete env.SIM_EGRESS_TOKEN;

/** Old code (supportsIdentity false) only knows keys; new code prefers the explicit mode, then a key, then identity. */
const authMode: AuthMode = !supportsIdentity
  ? 'key'
  : env.AZURE_OPENAI_AUTH_MODE?.toLowerCase() === 'identity'
    ? 'identity'
    : apiKey
      ? 'key'
      : 'identity';

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

function makeClient(mode: AuthMode, tokenProvider?: () => Promise<string>): AzureOpenAI {
  if (!endpoint) throw Object.assign(new Error('AZURE_OPENAI_ENDPOINT is not set'), { code: 'ConfigurationMissing' });
  if (!deployment)
    throw Object.assign(new Error('AZURE_OPENAI_DEPLOYMENT is not set'), { code: 'ConfigurationMissing' });
  if (mode === 'key') {
    if (!apiKey) throw Object.assign(new Error('AZURE_OPENAI_API_KEY is not set'), { code: 'ConfigurationMissing' });
    return new AzureOpenAI({
      endpoint,
      deployment,
      apiVersion: API_VERSION,
      apiKey,
      maxRetries: 0,
      defaultHeaders: egressHeaders,
    });
  }
  return new AzureOpenAI({
    endpoint,
    deployment,
    apiVersion: API_VERSION,
    azureADTokenProvider: tokenProvider,
    maxRetries: 0,
    defaultHeaders: egressHeaders,
  });
}

/** The app's own client, built once like a real app does (its credential caches tokens). */
let appClient: AzureOpenAI | undefined;
function client(): AzureOpenAI {
  if (!appClient) {
    const provider =
      authMode === 'identity' ? getBearerTokenProvider(new DefaultAzureCredential(), COGNITIVE_SCOPE) : undefined;
    appClient = makeClient(authMode, provider);
  }
  return appClient;
}

/**
 * The platform-level identity probe: a fresh managed-identity token on every call. It speaks the App Service
 * protocol itself because msal-node keeps managed-identity tokens in a process-wide cache, so even a new
 * `ManagedIdentityCredential` would return a cached (possibly stale-identity) token.
 */
async function freshIdentityToken(clientId = env.AZURE_CLIENT_ID): Promise<string> {
  const url = new URL(env.IDENTITY_ENDPOINT ?? '');
  url.searchParams.set('api-version', '2019-08-01');
  url.searchParams.set('resource', COGNITIVE_SCOPE.replace(/\/\.default$/, ''));
  if (clientId) url.searchParams.set('client_id', clientId);
  const res = await fetch(url, { headers: { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER ?? '' } });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; message?: string; error?: string };
  if (!res.ok || !body.access_token) {
    throw Object.assign(new Error(body.message ?? `managed identity endpoint answered ${res.status}`), {
      code: 'ManagedIdentityUnavailable',
    });
  }
  return body.access_token;
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

async function health(): Promise<Outcome> {
  try {
    const out = await infer(client(), authMode, 'health check');
    delete out.body.reply;
    return out;
  } catch (err) {
    return { ok: false, body: { status: 'error', authMode, error: errorOf(err) } };
  }
}

/** The identity probe; `clientId` names a user-assigned identity the app's settings do not name yet. */
async function identityHealth(clientId: string | undefined): Promise<Outcome> {
  try {
    const out = await infer(
      makeClient('identity', () => freshIdentityToken(clientId ?? env.AZURE_CLIENT_ID)),
      'identity',
      'identity check',
    );
    delete out.body.reply;
    return out;
  } catch (err) {
    return { ok: false, body: { status: 'error', authMode: 'identity', error: errorOf(err) } };
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
  });
}

function reply(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
  void (async () => {
    if (route === 'GET /health') {
      const out = await health();
      return reply(res, out.ok ? 200 : 503, out.body);
    }
    if (route === 'GET /health/identity') {
      const out = await identityHealth(url.searchParams.get('clientId') ?? undefined);
      return reply(res, out.ok ? 200 : 503, out.body);
    }
    if (route === 'POST /chat') {
      const body = (await readJson(req)) as { message?: unknown } | undefined;
      if (typeof body?.message !== 'string')
        return reply(res, 400, { error: { code: 'BadRequest', message: 'message is required' } });
      let out: Outcome;
      try {
        out = await infer(client(), authMode, body.message);
      } catch (err) {
        out = { ok: false, body: { status: 'error', authMode, error: errorOf(err) } };
      }
      return out.ok
        ? reply(res, 200, { reply: out.body.reply, authMode })
        : reply(res, 502, { error: out.body.error, authMode });
    }
    if (route === 'GET /') {
      return reply(res, 200, {
        app: env.WEBSITE_SITE_NAME ?? 'app',
        instance: env.SIM_INSTANCE_ID ?? '',
        version: env.APP_VERSION ?? null,
        authMode,
      });
    }
    return reply(res, 404, { error: { code: 'NotFound', message: `no route ${route}` } });
  })().catch((err: unknown) => reply(res, 500, { error: errorOf(err) }));
});

// The simulator owns this process: when its IPC channel closes (simulator exited or killed), stop.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', port, authMode });
});
server.on('error', (err) => {
  process.send?.({ type: 'failed', message: err.message });
  process.exit(1);
});
