// The relay thread: does the socket round trip to sync-rpc's helper process for a thread that is
// blocked in Atomics.wait, so a blocking request costs no extra process (sync-rpc would spawn
// `nc` or a whole node per request). The caller stays blocked for the whole request.

import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { type MessagePort, parentPort } from 'node:worker_threads';
import { clampTimer } from '../core/clock.js';
import type { RelayCall, RelayClient, RelayReply } from './protocol.js';

/**
 * Loopback sockets listening for a helper not yet started, by port. Probing a port and closing it
 * again races with every other process (a concurrent fetchall's helper could bind it first, and
 * then answer our pings); a socket kept listening and handed to the helper cannot be taken.
 */
const reserved = new Map<number, Server>();

async function reservePort(): Promise<{ port: number; fd: number }> {
  const server = createServer();
  // Only the helper answers on this socket; anything the relay's copy happens to accept is refused.
  server.on('connection', (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  if (fd < 0) {
    server.close();
    throw new Error('cannot share a listening socket on this platform');
  }
  reserved.set(port, server);
  return { port, fd };
}

function serve({ port, flag }: RelayClient): void {
  const cell = new Int32Array(flag);
  const reply = (msg: RelayReply) => {
    port.postMessage(msg);
    // The message is queued before the flag flips, so the woken caller always finds it.
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
  };
  port.on('message', (call: RelayCall) => {
    if (call.kind === 'free-port') {
      reservePort().then(
        ({ port: free, fd }) => reply({ stdout: Buffer.from(String(free)), error: null, fd }),
        (err: Error) => reply({ stdout: null, error: { code: 'RELAY', message: err.message } }),
      );
      return;
    }
    if (call.kind === 'release') {
      reserved.get(call.port)?.close();
      reserved.delete(call.port);
      return;
    }
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (msg: RelayReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reply(msg);
    };
    const socket = connect(call.port, '127.0.0.1', () => socket.end(call.input));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish({ stdout: Buffer.concat(chunks), error: null }));
    socket.on('error', (err) =>
      finish({ stdout: null, error: { code: (err as NodeJS.ErrnoException).code ?? 'RELAY', message: err.message } }),
    );
    const timer = setTimeout(
      () => finish({ stdout: null, error: { code: 'TIMEOUT', message: 'deadline passed' } }),
      clampTimer(call.deadline - Date.now()),
    );
  });
}

parentPort!.on('message', (msg: RelayClient) => {
  serve(msg);
  (msg.port as MessagePort).start();
});
// A tiny local endpoint to warm each blocking client on before the clock starts: the first
// requests through a fresh sync-request helper run cold code, and the user's server should not
// see (or count) warm-up traffic.
const warm = createHttpServer((_req, res) => res.end('warm'));
warm.listen(0, '127.0.0.1', () => {
  warm.unref();
  parentPort!.postMessage({ ready: true, warmUrl: `http://127.0.0.1:${(warm.address() as { port: number }).port}/` });
});
