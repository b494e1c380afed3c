// The messages between the threads engine and its pool workers (threads-worker.ts).

import type { AttemptResult, Job, RequestOptions } from '../core/types.js';
import type { RelayClient } from '../sync/protocol.js';
import type { SharedHelperAddress } from '../sync/shared-helper.js';

/** What a pool worker is started with. */
export interface WorkerData {
  relay: RelayClient;
  options: RequestOptions;
  warmUrl: string;
  /** The pool's one helper process; null: this worker's sync-request starts its own (--helper-per-thread). */
  shared: SharedHelperAddress | null;
}

export type ToWorker =
  | { type: 'fetch'; job: Job }
  /** The shared helper was replaced: use this one from the next request on. */
  | { type: 'helper'; helper: SharedHelperAddress };

export type FromWorker =
  | { type: 'helper'; pid: number }
  | { type: 'ready' }
  | { type: 'start'; index: number; t: number }
  | { type: 'result'; index: number; result: AttemptResult };
