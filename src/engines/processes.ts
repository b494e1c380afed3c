// The processes engine: a pool of child processes, each blocking in sync-request — the seed's
// ProcessPoolExecutor. The same pool as threads with another transport: each member is a forked
// node process with its own relay thread, and costs a process's start-up and memory.

import { PoolEngine } from './pool-engine.js';
import { ProcessTransport } from './pool-transports.js';

export class ProcessesEngine extends PoolEngine {
  readonly mode = 'processes' as const;

  protected transport(): ProcessTransport {
    return new ProcessTransport();
  }
}
