// The messages between the blocking side of sync-request (a pool worker, or the main thread in
// inline mode) and the relay thread, and between the pool and its workers. Shared, never duplicated.

import type { MessagePort } from 'node:worker_threads';
import type { AttemptResult, Job, RequestOptions } from '../engines/types.js';

/** Handed to the relay thread once per blocking client. */
export interface RelayClient {
  port: MessagePort;
  /** A 4-byte SharedArrayBuffer: 0 while a call is pending, 1 when the reply is queued. */
  flag: SharedArrayBuffer;
}

export type RelayCall =
  | {
      kind: 'rpc';
      port: number;
      input: string;
      /** Epoch ms (Date.now() clock) after which the relay gives up with TIMEOUT. */
      deadline: number;
    }
  /** A free loopback port for sync-rpc's helper (sync-rpc would spawn a node process to find one). */
  | { kind: 'free-port' };

export interface RelayReply {
  stdout: Uint8Array | null;
  error: { code: string; message: string } | null;
}

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
