// What every pool member does, thread or process: load sync-request on a channel to a relay
// thread, warm it, say ready, then run one blocking request per 'fetch' and report it.

import type { Job, RequestOptions } from '../core/types.js';
import { loadSyncRequest, warmUp } from '../sync/client.js';
import type { RelayClient } from '../sync/protocol.js';
import { type HopWait, syncFetch } from './blocking.js';
import type { FromMember } from './pool-protocol.js';

export interface MemberIo {
  relay: RelayClient;
  warmUrl: string;
  options: RequestOptions;
  send(msg: FromMember): void;
  /** Blocks until the pool lets redirect hop `seq` go, or `until` (Date.now() clock) passes. */
  awaitGrant(seq: number, until: number): void;
  /** Whether to go on waiting for a reply (a process member's parent is alive). */
  alive(): boolean;
  /** A process's member number, for faults injected by the tests; null for a thread. */
  worker: number | null;
}

/** Start a member; returns what runs one job (blocking the calling thread for its whole duration). */
export function startMember(io: MemberIo): (job: Job, gated: boolean) => void {
  const request = loadSyncRequest(io.relay, io.alive);
  warmUp(request, io.warmUrl);
  let hops = 0;
  const hopWait: HopWait = (url, until) => {
    const seq = ++hops;
    io.send({ type: 'hop', url, seq, until });
    io.awaitGrant(seq, until);
  };
  // Test hook, off unless the environment asks for it: lets the tests make a member crash or
  // wedge, to prove the pool fails that URL, replaces the member, and carries on.
  const faults = process.env.FETCHALL_FAULT_INJECTION === '1';
  io.send({ type: 'ready' });
  return (job, gated) => {
    if (faults && job.url.includes('__crash__')) throw new Error('injected crash');
    if (faults && job.url.includes('__exit__')) process.exit(3);
    if (faults && job.url.includes('__wedge__')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    const onStart = (t: number) => io.send({ type: 'start', index: job.index, t });
    const result = syncFetch(request, job, io.options, null, onStart, gated ? hopWait : null);
    io.send({ type: 'result', index: job.index, result });
  };
}
