// The relay thread: the HTTP of every blocking client in this process. A client (a pool thread,
// a pool process's main thread, the main thread in inline mode) posts one call of sync-request's
// worker function and blocks in Atomics.wait; this thread runs that function (then-request over
// node:http, through http-hooks.ts) on its own event loop and wakes the client with the reply.
// Nothing listens for it and nothing names code to it: it runs only sync-request's own worker,
// found here, so no peer, local user or server can make it load anything (see SECURITY.md).

import { createServer as createHttpServer } from 'node:http';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { installHooks } from './http-hooks.js';
import { syncRequestWorker } from './internals.js';
import type { RelayCall, RelayClient, RelayData, RelayReply } from './protocol.js';

const { maxSize } = workerData as RelayData;
installHooks(maxSize);

type WorkerFn = (args: unknown) => Promise<unknown>;
/** sync-request's worker module exports init(), which returns the function each call runs. */
const run = (syncRequestWorker() as () => WorkerFn)();

function serve({ port, flag }: RelayClient): void {
  const cell = new Int32Array(flag);
  const reply = (msg: RelayReply) => {
    port.postMessage(msg);
    // Queued before the number is raised, so the woken client always finds its reply.
    Atomics.store(cell, 0, msg.seq);
    Atomics.notify(cell, 0);
  };
  port.on('message', (call: RelayCall) => {
    Promise.resolve()
      .then(() => run(call.args))
      .then(
        (value) => reply({ seq: call.seq, ok: true, value }),
        (err: NodeJS.ErrnoException & { stale?: boolean }) =>
          reply({ seq: call.seq, ok: false, error: { code: err?.code, message: String(err?.message ?? err), stale: err?.stale === true } }),
      );
  });
  (port as MessagePort).start();
}

// A tiny local endpoint to warm each blocking client on before the clock starts: the first
// requests through a fresh client run cold code, and the user's server should not see (or count)
// warm-up traffic. It answers "warm" and nothing else, and it is closed (Relay.endWarmUp) as soon
// as this process's clients are warm: during the run nothing of fetchall listens, for any local
// user to connect to (each connection would cost this process a descriptor and this loop's time).
const warm = createHttpServer((_req, res) => res.end('warm'));

parentPort!.on('message', (msg: RelayClient | { endWarmUp: true }) => {
  if ('endWarmUp' in msg) {
    warm.close();
    warm.closeAllConnections();
  } else serve(msg);
});
warm.listen(0, '127.0.0.1', () => {
  warm.unref();
  parentPort!.postMessage({ ready: true, warmUrl: `http://127.0.0.1:${(warm.address() as { port: number }).port}/` });
});
