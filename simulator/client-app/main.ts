/**
 * The process runtime's worker: one child process per site/slot instance, like an App Service worker. It reads its
 * environment once at start, builds the client app (`app.ts`) on it with the SDK's `DefaultAzureCredential` (which
 * finds IDENTITY_ENDPOINT / IDENTITY_HEADER / AZURE_CLIENT_ID there), listens on PORT (0: a port of its own choosing)
 * and reports `ready` with the port over its IPC channel. It stops when the simulator goes away.
 */
import { createServer } from 'node:http';
import { DefaultAzureCredential } from '@azure/identity';
import { readBody } from '../http';
import { createClientApp, writeAppResponse } from './app';

const env = { ...process.env };
// Settings and platform secrets are the app's configuration, not the process's: nothing else in here (the openai
// package's fallback to AZURE_OPENAI_API_KEY among them) may pick them up from the environment.
delete process.env.AZURE_OPENAI_API_KEY;
delete process.env.SIM_EGRESS_TOKEN;

const app = createClientApp(env, { credential: () => new DefaultAzureCredential() });

const server = createServer((req, res) => {
  void readBody(req)
    .then((body) => app.handle({ method: req.method ?? 'GET', url: req.url ?? '/', body }))
    .then((out) => writeAppResponse(res, out))
    .catch(() => res.destroy());
});

// The simulator owns this process: when its IPC channel closes (simulator exited or killed), stop.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', port, authMode: app.authMode });
});
server.on('error', (err) => {
  process.send?.({ type: 'failed', message: err.message });
  process.exit(1);
});
