// The relay thread: does the socket round trip to sync-rpc's helper process for a thread that is
// blocked in Atomics.wait, so a blocking request costs no extra process (sync-rpc would spawn
// `nc` or a whole node per request). The caller stays blocked for the whole request.

import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { type MessagePort, parentPort } from 'node:worker_threads';
import { clampTimer } from '../measure/clock.js';
import type { RelayCall, RelayClient, RelayReply } from './protocol.js';

/** Ports already handed to a helper: the OS may offer a just-closed port again to the next probe. */
const handedOut = new Set<number>();

/** A free loopback port no other helper of this process has been given. */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.on('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port');
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
      freePort().then(
        (free) => reply({ stdout: Buffer.from(String(free)), error: null }),
        (err: Error) => reply({ stdout: null, error: { code: 'RELAY', message: err.message } }),
      );
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
