// A threads pool member's entry: sync-request, blocking this worker thread for each request.
// Its HTTP runs on the main process's relay thread (sync/relay-thread.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { startMember } from './pool-member.js';
import type { FromMember, ThreadMemberData, ToMember } from './pool-protocol.js';

const port = parentPort!;
const { relay, setup, warmUrl, hopCell } = workerData as ThreadMemberData;
const granted = new Int32Array(hopCell);

const run = startMember({
  relay,
  warmUrl,
  options: setup.options,
  worker: null,
  send: (msg: FromMember) => port.postMessage(msg),
  alive: () => true,
  // The pool raises the cell to the number of the hop it lets go.
  awaitGrant: (seq, until) => {
    for (let seen = Atomics.load(granted, 0); seen < seq; seen = Atomics.load(granted, 0)) {
      const left = until - Date.now();
      if (left <= 0) return;
      Atomics.wait(granted, 0, seen, left);
    }
  },
});

port.on('message', (msg: ToMember) => {
  if (msg.type === 'fetch') run(msg.job, msg.gated);
});
