// The messages between the threads engine and its pool workers (threads-worker.ts).

import type { AttemptResult, Job, RequestOptions } from '../core/types.js';
import type { RelayClient } from '../sync/protocol.js';
import type { SharedHelperAddress } from '../sync/shared-helper.js';

/** What a pool worker is started with. */
export interface WorkerData {
  relay: RelayClient;
  options: RequestOptions;
  warmUrl: string;
  /** One Int32: the number of the last redirect hop the main thread let go (--rate; see HopGate). */
  hopCell: SharedArrayBuffer;
  /** The pool's one helper process; null: this worker's sync-request starts its own (--helper-per-thread). */
  shared: SharedHelperAddress | null;
}

export type ToWorker =
  /** `gated`: the run has a rate gate, so each redirect hop asks the main thread first. */
  | { type: 'fetch'; job: Job; gated: boolean }
  /** The shared helper was replaced: use this one from the next request on. */
  | { type: 'helper'; helper: SharedHelperAddress };

export type FromWorker =
  | { type: 'helper'; pid: number }
  | { type: 'ready' }
  | { type: 'start'; index: number; t: number }
  | { type: 'hop'; url: string; seq: number }
  | { type: 'result'; index: number; result: AttemptResult };
