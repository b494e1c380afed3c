// One run: feeds jobs to an engine (at most -c in flight, the queue's per-host policy, retries
// with backoff), turns attempts into records and events for the sinks, measures, and stops on request.

import { setMaxListeners } from 'node:events';
import { now, sleep } from '../core/clock.js';
import type { AttemptResult, Engine, Job, Mode, RequestOptions, RunEvent, UrlRecord } from '../core/types.js';
import type { InputItem } from '../input.js';
import { RunMeter, type RunSummary } from '../measure/stats.js';
import type { Sink } from '../sinks/types.js';
import { createQueue, type JobQueue } from './queue.js';
import { createGate, type RateGate } from './rate.js';
import { badLineRecord, urlRecord } from './record.js';
import { backoffMs, refusedError, retryable } from './retry.js';

export interface RunConfig {
  mode: Mode;
  concurrency: number;
  perHost: number | null;
  retries: number;
  /** The longest wait before a retry: our backoff is capped at it; a longer Retry-After fails the URL. */
  retryMaxWaitMs: number;
  /** Attempt starts per second, over the run and per origin (--rate, --per-host-rate); null = no limit. */
  rate?: number | null;
  perHostRate?: number | null;
  request: RequestOptions;
}

export interface RunParams {
  items: AsyncIterable<InputItem>;
  /** Already initialised. */
  engine: Engine;
  config: RunConfig;
  /** Each event goes to every sink, in this order; then each sink's onEnd. */
  sinks: Sink[];
  signal: AbortSignal;
  setup: { startupMs: number; threads: number };
}

/**
 * Run the items through the engine. Resolves with the summary when every job is done, or soon
 * after `signal` aborts (in-flight requests are cancelled, not awaited).
 */
export async function runJobs(p: RunParams): Promise<RunSummary> {
  // Every request in flight listens for the stop; that is not a leak.
  setMaxListeners(0, p.signal);
  const run = new Run(p);
  await run.drive();
  const summary = run.finish();
  for (const sink of p.sinks) sink.onEnd?.(summary);
  return summary;
}

/** A run's state: what is running, waiting and read, and how the run ends. */
class Run {
  private readonly meter: RunMeter;
  private readonly iterator: AsyncIterator<InputItem>;
  private readonly queue: JobQueue;
  /** Jobs read ahead and waiting are bounded, so an endless input is not read ahead of the work. */
  private readonly deferCap: number;
  private readonly gate: RateGate | null;
  /** The timer that starts queued jobs when the rate gate next has a token. */
  private wake: { timer: NodeJS.Timeout; at: number } | null = null;
  private running = 0;
  // Read from the input after a stop, never started (jobs still queued are counted at the end).
  private readAfterStop = 0;
  private exhausted = false;
  private pulling = false;
  private settled = false;
  private resolve: () => void = () => {};
  private reject: (err: unknown) => void = () => {};

  constructor(private readonly p: RunParams) {
    this.meter = new RunMeter(p.config.mode, () => p.engine.helperPids());
    this.iterator = p.items[Symbol.asyncIterator]();
    this.gate = createGate(p.config.rate, p.config.perHostRate);
    this.queue = createQueue(p.config.perHost, this.gate?.perHost);
    this.deferCap = p.config.concurrency * 4;
  }

  /** Resolves when every job is done, or at a stop. */
  drive(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.p.signal.addEventListener('abort', () => this.settle(), { once: true });
      this.pump();
    });
  }

  /** Start what may start, read more input if there is room, and end the run when all is done. */
  private pump(): void {
    if (this.p.signal.aborted) return this.settle();
    this.startQueued();
    const room = this.running < this.p.config.concurrency && this.queue.size < this.deferCap;
    if (room && !this.exhausted && !this.pulling) this.pull();
    this.settle();
  }

  /**
   * A job held back by the rate gate stays queued, holding no slot, and a timer starts it when its
   * token is there; a retry, already holding its slot, waits for its token in runUrl.
   */
  private startQueued(): void {
    const gate = this.gate;
    let soonest = Number.POSITIVE_INFINITY;
    const mayStart = gate
      ? (job: Job) => {
          const wait = gate.delay(job.url);
          if (wait > 0) soonest = Math.min(soonest, wait);
          return wait <= 0;
        }
      : undefined;
    while (this.running < this.p.config.concurrency) {
      const job = this.queue.shift(mayStart);
      if (job === null) break;
      gate?.take(job.url);
      this.launch(job);
    }
    if (this.running < this.p.config.concurrency && soonest < Number.POSITIVE_INFINITY) this.wakeIn(soonest);
  }

  private wakeIn(ms: number): void {
    const at = now() + ms;
    if (this.wake && this.wake.at <= at) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = null;
      this.pump();
    }, Math.ceil(ms));
    this.wake = { timer, at };
  }

  private pull(): void {
    this.pulling = true;
    this.iterator.next().then(
      (r) => {
        this.pulling = false;
        this.take(r);
        this.pump();
      },
      (err) => this.fail(err),
    );
  }

  private take(r: IteratorResult<InputItem>): void {
    if (r.done) this.exhausted = true;
    else if (this.p.signal.aborted) this.readAfterStop++;
    else if (r.value.kind === 'bad') this.finishRecord(badLineRecord(r.value, this.p.config.mode, now()));
    else this.queue.push(r.value.job);
  }

  private launch(job: Job): void {
    this.running++;
    this.runUrl(job).then(
      () => {
        this.running--;
        this.queue.release(job);
        this.pump();
      },
      (err) => this.fail(err),
    );
  }

  /** One URL, attempt after attempt until it succeeds, fails for good, runs out of retries or is stopped. */
  private async runUrl(job: Job): Promise<void> {
    const { config, signal } = this.p;
    const tries = { first: null as number | null, started: 0 };
    let result: AttemptResult;
    let stoppedAt: number | null = null;
    for (let attempt = 1; ; attempt++) {
      result = await this.attempt(job, attempt, tries);
      if (signal.aborted || attempt > config.retries || !retryable(result)) break;
      const wait = backoffMs(attempt, result.retryAfterMs, config.retryMaxWaitMs);
      if (wait === null) {
        result = { ...result, error: refusedError(result.error!, result.retryAfterMs!, config.retryMaxWaitMs) };
        break;
      }
      await sleep(wait, signal);
      // A retry takes its tokens here (the first attempt took them as it left the queue).
      if (this.gate && !signal.aborted) await this.gate.acquire(job.url, signal);
      // A stop during a retry wait ends the URL then, not at its last attempt's end.
      if (signal.aborted) {
        stoppedAt = now();
        break;
      }
    }
    const span = { start: tries.first!, end: stoppedAt ?? result.end, attempts: tries.started };
    this.finishRecord(urlRecord(job, config.mode, span, result));
  }

  /** One attempt, metered; `tries` learns when the URL first started and how many attempts did. */
  private async attempt(job: Job, attempt: number, tries: { first: number | null; started: number }): Promise<AttemptResult> {
    let began: number | null = null;
    const result = await this.p.engine.fetch(
      job,
      this.p.signal,
      (t, worker) => {
        began = t;
        tries.started++;
        tries.first ??= t;
        this.meter.attemptStarted(attempt);
        this.emit({ kind: 'start', index: job.index, url: job.url, t, worker, attempt });
      },
      this.gate,
    );
    if (began !== null) this.meter.attemptEnded(began, result.end);
    // An attempt that never started (cancelled while queued) still dates the URL from its call.
    tries.first ??= result.start;
    return result;
  }

  private finishRecord(r: UrlRecord): void {
    this.meter.record(r);
    this.emit(r.ok ? { kind: 'done', record: r } : { kind: 'fail', record: r });
  }

  private emit(e: RunEvent): void {
    for (const sink of this.p.sinks) sink.onEvent(e);
  }

  private settle(): void {
    // On a stop, a pull still waiting for input (an endless stdin) is abandoned, not awaited.
    // Jobs held back by the rate gate are still to come.
    const over = this.p.signal.aborted || (this.exhausted && !this.pulling && this.queue.size === 0);
    if (!this.settled && this.running === 0 && over) {
      this.settled = true;
      if (this.wake) clearTimeout(this.wake.timer);
      this.resolve();
    }
  }

  private fail(err: unknown): void {
    this.settled = true;
    this.reject(err);
  }

  /** The summary; after a stop, with what was given but never started. */
  finish(): RunSummary {
    const { signal, engine, setup } = this.p;
    if (signal.aborted) void this.iterator.return?.(undefined);
    return this.meter.finish({
      startupMs: setup.startupMs,
      threads: setup.threads,
      helpers: engine.helperPids().length,
      interrupted: signal.aborted ? String(signal.reason ?? 'aborted') : null,
      notStarted: signal.aborted ? { count: this.queue.size + this.readAfterStop, more: !this.exhausted } : null,
      blockedMs: engine.longestBlockMs?.() ?? 0,
    });
  }
}
