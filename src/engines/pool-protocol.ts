// The messages between a pool (pool.ts) and its members, worker threads (threads-worker.ts) or
// child processes (process-worker.ts): one set of shapes for both transports.

import type { AttemptResult, Job, RequestOptions } from '../core/types.js';
import type { RelayClient } from '../sync/protocol.js';

/** What a member needs to start: for a thread as its workerData (with its relay channel), for a process as its first message. */
export interface MemberSetup {
  /** The request options, --work's calibrated rounds among them. */
  options: RequestOptions;
}

export type ToMember =
  /** `gated`: the run has a rate gate, so each redirect hop asks the pool first. */
  | { type: 'fetch'; job: Job; gated: boolean }
  /** A process member's setup (a thread gets it as workerData). */
  | { type: 'setup'; setup: MemberSetup };

export type FromMember =
  | { type: 'ready' }
  | { type: 'start'; index: number; t: number }
  /** A redirect hop waits for the rate gate; `until` is its deadline (Date.now() clock). */
  | { type: 'hop'; url: string; seq: number; until: number }
  | { type: 'result'; index: number; result: AttemptResult };

/** A thread member's workerData: its channel to the pool's relay thread, and its hop cell. */
export interface ThreadMemberData {
  setup: MemberSetup;
  relay: RelayClient;
  warmUrl: string;
  /** One Int32: the number of the last redirect hop the pool let go (--rate; see HopGate). */
  hopCell: SharedArrayBuffer;
}
