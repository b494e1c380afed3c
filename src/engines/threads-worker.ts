// The pool worker's entry: sync-request, blocking this thread for each request it runs.

import { parentPort, threadId, workerData } from 'node:worker_threads';
import { loadSyncRequest, syncFetch } from '../sync/client.js';
import type { FromWorker, ToWorker, WorkerData } from '../sync/protocol.js';

const port = parentPort!;
const send = (msg: FromWorker) => port.postMessage(msg);
const { relay, options } = workerData as WorkerData;

const request = loadSyncRequest(relay, (pid) => send({ type: 'helper', pid }));
send({ type: 'ready' });

port.on('message', (msg: ToWorker) => {
  const { job } = msg;
  const result = syncFetch(request, job, options, threadId, (t) => send({ type: 'start', index: job.index, t }));
  send({ type: 'result', index: job.index, result });
});
