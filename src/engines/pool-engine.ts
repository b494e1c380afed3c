// An engine that is a pool of blocking members: threads and processes are this, each with its transport.

import type { AttemptResult, Engine, EngineInfo, HopGate, Job, Mode, RequestOptions } from '../core/types.js';
import { spoolBody, unspoolBody } from './blocking.js';
import { Pool, type Transport } from './pool.js';

export abstract class PoolEngine implements Engine {
  abstract readonly mode: Mode;
  private pool: Pool | null = null;

  constructor(
    private opts: RequestOptions,
    private readonly size: number,
  ) {}

  /** How this engine's members are made, for these options (the body already spooled). */
  protected abstract transport(opts: RequestOptions): Transport;

  async init(): Promise<EngineInfo> {
    this.opts = await spoolBody(this.opts);
    this.pool = new Pool(this.transport(this.opts), { options: this.opts }, this.size);
    return this.pool.init();
  }

  /** The member processes alive now (processes mode): their CPU and memory are this mode's. */
  helperPids(): number[] {
    return this.pool?.pids() ?? [];
  }

  fetch(
    job: Job,
    signal: AbortSignal,
    onStart: (t: number, worker: number | null) => void,
    gate: HopGate | null = null,
  ): Promise<AttemptResult> {
    return this.pool!.fetch(job, signal, onStart, gate);
  }

  async close(): Promise<void> {
    await this.pool?.close();
    await unspoolBody(this.opts);
  }
}
