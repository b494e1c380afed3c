// A processes pool member's entry (child_process.fork): sync-request, blocking this process's main
// thread for each request; its HTTP runs on this process's own relay thread. Talks only to the
// parent that forked it, over the inherited IPC channel (jobs, results) and its stdin (hop grants,
// read while blocked), and exits by itself as soon as that parent is gone, even after a kill -9.

import { readSync } from 'node:fs';
import { Relay } from '../sync/relay.js';
import { startMember } from './pool-member.js';
import type { FromMember, ToMember } from './pool-protocol.js';

const parent = process.ppid;
const alive = () => process.ppid === parent;
process.on('disconnect', () => process.exit(0));
// A terminal's Ctrl-C reaches the whole process group: the parent decides what stops, and stops us.
process.on('SIGINT', () => {});
setInterval(() => {
  if (!alive()) process.exit(0);
}, 200).unref();

/** The last hop number the parent let go, as 4-byte numbers on stdin; EOF means the parent is gone. */
let granted = 0;
const cell = new Int32Array(new SharedArrayBuffer(4));
function awaitGrant(seq: number, until: number): void {
  const buf = Buffer.alloc(4);
  while (granted < seq && Date.now() < until) {
    let got = 0;
    try {
      got = readSync(0, buf, 0, 4, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') process.exit(0);
      Atomics.wait(cell, 0, 0, 2);
      continue;
    }
    if (got === 0) process.exit(0);
    // The parent writes whole numbers; a short read would only delay this grant to the next one.
    if (got === 4) granted = Math.max(granted, buf.readInt32LE(0));
  }
}

process.once('message', (first: ToMember) => {
  if (first.type !== 'setup') process.exit(2);
  const { options } = first.setup;
  Relay.start(options.maxSize).then(
    (relay) => {
      const send = (msg: FromMember) => process.send!(msg);
      const run = startMember({ relay: relay.client(), warmUrl: relay.warmUrl, options, worker: null, send, alive, awaitGrant });
      // startMember warmed this process's only client: nothing of it listens from here on.
      relay.endWarmUp();
      process.on('message', (msg: ToMember) => {
        if (msg.type === 'fetch') run(msg.job, msg.gated);
      });
    },
    () => process.exit(1),
  );
});
