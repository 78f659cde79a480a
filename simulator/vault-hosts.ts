/**
 * One HTTPS listener per key vault, on 127.0.0.1: a vault URI is `https://127.0.0.1:VAULTPORT/`. Key Vault gives
 * every vault its own host name and the SDK depends on it: `SecretClient` parses each secret id as
 * `{vaultUrl}/secrets/{name}/{version}` and refuses any other path, so a vault cannot live under a path prefix of
 * the simulator's main port. Listeners follow the loaded scenario (opened before it is built, closed with it).
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { key } from './model';

export type VaultRequestHandler = (vaultName: string, req: IncomingMessage, res: ServerResponse) => void;

interface Listener {
  server: Server;
  url: string;
}

export class VaultHosts {
  private readonly listeners = new Map<string, Listener>();

  constructor(
    private readonly tls: { key: string; cert: string },
    private readonly host: string,
    private readonly onRequest: VaultRequestHandler,
  ) {}

  /**
   * Makes the listeners match `names` (opens missing ones, closes the others) and answers every vault's URI keyed by
   * lower-cased name. `preferred` ports (a restored state's) are tried first so that stored URIs stay valid.
   */
  async ensure(names: string[], preferred: Record<string, string> = {}): Promise<Record<string, string>> {
    const wanted = new Set(names.map(key));
    for (const [k, l] of [...this.listeners]) {
      if (wanted.has(k)) continue;
      this.listeners.delete(k);
      await closeServer(l.server);
    }
    for (const n of names) {
      const k = key(n);
      if (this.listeners.has(k)) continue;
      const port = Number(new URL(preferred[k] ?? 'https://x:0').port || 0);
      const server = createServer({ key: this.tls.key, cert: this.tls.cert, keepAliveTimeout: 5_000 });
      server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(n, req, res));
      const bound = await listen(server, port, this.host).catch(() => listen(server, 0, this.host));
      const shownHost = this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
      this.listeners.set(k, { server, url: `https://${shownHost}:${bound}/` });
    }
    return this.uris();
  }

  uris(): Record<string, string> {
    return Object.fromEntries([...this.listeners].map(([k, l]) => [k, l.url]));
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => closeServer(l.server)));
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
