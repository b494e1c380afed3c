// The pool worker's entry: sync-request, blocking this thread for each request it runs.

import { parentPort, threadId, workerData } from 'node:worker_threads';
import { loadSyncRequest, warmUp } from '../sync/client.js';
import { type HopWait, syncFetch } from './blocking.js';
import type { FromWorker, ToWorker, WorkerData } from './pool-protocol.js';

const port = parentPort!;
const send = (msg: FromWorker) => port.postMessage(msg);
const { relay, options, warmUrl, hopCell, shared } = workerData as WorkerData;
const granted = new Int32Array(hopCell);
let hops = 0;

/** A redirect hop waits, blocked, until the main thread's rate gate lets it go (or its deadline). */
const hopWait: HopWait = (url, untilMs) => {
  const seq = ++hops;
  send({ type: 'hop', url, seq });
  for (let seen = Atomics.load(granted, 0); seen !== seq; seen = Atomics.load(granted, 0)) {
    const left = untilMs - Date.now();
    if (left <= 0) return;
    Atomics.wait(granted, 0, seen, left);
  }
};

let request = loadSyncRequest(relay, options.maxSize, (pid) => send({ type: 'helper', pid }), shared);
warmUp(request, warmUrl);
send({ type: 'ready' });

// Test hook, off unless the environment asks for it: lets the tests make a worker crash or wedge,
// to prove the pool fails that URL, replaces the worker, and carries on.
const faults = process.env.FETCHALL_FAULT_INJECTION === '1';

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'helper') {
    // Queued ahead of any later fetch, so no request goes to the helper that died.
    request = loadSyncRequest(relay, options.maxSize, () => {}, msg.helper);
    return;
  }
  const { job, gated } = msg;
  if (faults && job.url.includes('__crash__')) throw new Error('injected crash');
  if (faults && job.url.includes('__wedge__')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  const result = syncFetch(request, job, options, threadId, (t) => send({ type: 'start', index: job.index, t }), gated ? hopWait : null);
  send({ type: 'result', index: job.index, result });
});
