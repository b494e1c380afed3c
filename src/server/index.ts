// The built-in deterministic HTTP test server behind `fetchall serve`, `fetchall demo` and the tests: listen, stats, reset, close.

import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAttempts, handleRequest, type ServerContext } from './routes.js';
import { createStatsLog, type ServerStats } from './stats.js';
import { createTimers } from './timers.js';

export type { ServerStats } from './stats.js';

export interface TestServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:34567 */
  url: string;
  port: number;
  stats(): ServerStats;
  reset(): void;
  close(): Promise<void>;
}

export interface ServerOptions {
  host?: string;
  port?: number;
  /** How many requests /stats keeps in its log (the counts stay exact beyond it). */
  logCap?: number;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Open sockets, so close() can cut hanging and endless responses instead of waiting on them. */
function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const ctx: ServerContext = { log: createStatsLog(opts.logCap), timers: createTimers(), attempts: createAttempts(), authority: '' };
  const server = createServer((req, res) => handleRequest(ctx, req, res));
  // /hang must really hang, so Node's own header/request deadlines are off.
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  const sockets = trackSockets(server);
  const port = await listen(server, opts.port ?? 0, host);
  ctx.authority = `${urlHost}:${port}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      // Resolves whether or not it was still listening; closing twice is not an error here.
      server.close(() => resolve());
      ctx.timers.clear();
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });
    return closing;
  };

  return { url: `http://${ctx.authority}`, port, stats: ctx.log.stats, reset: ctx.log.reset, close };
}
