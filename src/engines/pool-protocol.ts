// The messages between the threads engine and its pool workers (threads-worker.ts).

import type { AttemptResult, Job, RequestOptions } from '../core/types.js';
import type { RelayClient } from '../sync/protocol.js';

/** What a pool worker is started with. */
export interface WorkerData {
  relay: RelayClient;
  options: RequestOptions;
  warmUrl: string;
  /** One Int32: the number of the last redirect hop the main thread let go (--rate; see HopGate). */
  hopCell: SharedArrayBuffer;
}

/** `gated`: the run has a rate gate, so each redirect hop asks the main thread first. */
export type ToWorker = { type: 'fetch'; job: Job; gated: boolean };

export type FromWorker =
  | { type: 'helper'; pid: number }
  | { type: 'ready' }
  | { type: 'start'; index: number; t: number }
  | { type: 'hop'; url: string; seq: number }
  | { type: 'result'; index: number; result: AttemptResult };
