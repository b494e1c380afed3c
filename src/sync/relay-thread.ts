// The relay thread: does the socket round trip to sync-rpc's helper process for a thread that is
// blocked in Atomics.wait, so a blocking request costs no extra process (sync-rpc would spawn
// `nc` or a whole node per request). The caller stays blocked for the whole request.

import { connect, createServer } from 'node:net';
import { type MessagePort, parentPort } from 'node:worker_threads';
import type { RelayCall, RelayClient, RelayReply } from './protocol.js';

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
      const probe = createServer();
      probe.on('error', (err) => reply({ stdout: null, error: { code: 'RELAY', message: err.message } }));
      probe.listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => reply({ stdout: Buffer.from(String(free)), error: null }));
      });
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
      Math.max(0, call.deadline - Date.now()),
    );
  });
}

parentPort!.on('message', (msg: RelayClient) => {
  serve(msg);
  (msg.port as MessagePort).start();
});
parentPort!.postMessage('ready');
