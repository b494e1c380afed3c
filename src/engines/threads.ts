// The threads engine: a pool of worker threads, each blocking in sync-request — the
// run_in_executor pattern. Its HTTP runs on one relay thread in this process (sync/relay-thread.ts).

import type { RequestOptions } from '../core/types.js';
import { PoolEngine } from './pool-engine.js';
import { ThreadTransport } from './pool-transports.js';

export class ThreadsEngine extends PoolEngine {
  readonly mode = 'threads' as const;

  protected transport(opts: RequestOptions): ThreadTransport {
    return new ThreadTransport(opts.maxSize);
  }
}
