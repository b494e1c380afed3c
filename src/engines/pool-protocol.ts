// The messages between the threads engine and its pool workers (threads-worker.ts).

import type { AttemptResult, Job, RequestOptions } from '../core/types.js';
import type { RelayClient } from '../sync/protocol.js';

/** What a pool worker is started with. */
export interface WorkerData {
  relay: RelayClient;
  options: RequestOptions;
  warmUrl: string;
}

export type ToWorker = { type: 'fetch'; job: Job };

export type FromWorker =
  | { type: 'helper'; pid: number }
  | { type: 'ready' }
  | { type: 'start'; index: number; t: number }
  | { type: 'result'; index: number; result: AttemptResult };
