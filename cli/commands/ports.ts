/** Ports for a throwaway environment: the usual one when it is free, else any free one (and which was taken). */
import * as net from 'node:net';
import { freePort } from '../../worker/dev-server';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    // The address the dev server binds (worker/dev-server.ts).
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function portOrFree(preferred: number): Promise<{ port: number; taken?: number }> {
  if (preferred === 0) return { port: await freePort() };
  return (await isFree(preferred)) ? { port: preferred } : { port: await freePort(), taken: preferred };
}
