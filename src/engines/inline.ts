// The inline engine: sync-request called on the main thread. The pitfall: each request blocks
// the event loop for its whole duration, so requests run strictly one at a time. Its HTTP runs on
// this process's relay thread, as every blocking mode's does.

import { now } from '../core/clock.js';
import { fetchError } from '../core/errors.js';
import { noResponse } from '../core/rules.js';
import type { AttemptResult, Engine, EngineInfo, HopGate, Job, RequestOptions } from '../core/types.js';
import { loadSyncRequest, type SyncRequest, warmUp } from '../sync/client.js';
import { Relay } from '../sync/relay.js';
import { blockingHopWait, spoolBody, syncFetch, unspoolBody } from './blocking.js';

export class InlineEngine implements Engine {
  readonly mode = 'inline' as const;
  private relay: Relay | null = null;
  private request: SyncRequest | null = null;
  private longest = 0;

  longestBlockMs(): number {
    return this.longest;
  }

  constructor(private opts: RequestOptions) {}

  async init(): Promise<EngineInfo> {
    const t0 = now();
    this.opts = await spoolBody(this.opts);
    this.relay = await Relay.start(this.opts.maxSize);
    this.request = loadSyncRequest(this.relay.client());
    warmUp(this.request, this.relay.warmUrl);
    this.relay.endWarmUp();
    return { startupMs: now() - t0, threads: 2 };
  }

  helperPids(): number[] {
    return [];
  }

  async fetch(
    job: Job,
    signal: AbortSignal,
    onStart: (t: number, worker: number | null) => void,
    gate: HopGate | null = null,
  ): Promise<AttemptResult> {
    if (signal.aborted) return cancelled();
    // Let the loop turn between requests, so timers and signals run there; during a request
    // it cannot, and the loop-stall figure shows exactly that.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.aborted) return cancelled();
    const t0 = performance.now();
    const hopWait = gate ? blockingHopWait(gate) : null;
    const result = syncFetch(this.request!, job, this.opts, null, (t) => onStart(t, null), hopWait);
    this.longest = Math.max(this.longest, performance.now() - t0);
    // A signal that came while the loop was blocked is handled only when the loop turns: let it
    // turn now, so a stop during this request (even the last one) is seen before its result is used.
    await new Promise((resolve) => setImmediate(resolve));
    return result;
  }

  async close(): Promise<void> {
    await this.relay?.close();
    this.relay = null;
    await unspoolBody(this.opts);
  }
}

function cancelled(): AttemptResult {
  return noResponse(now(), fetchError('ABORTED'));
}
