// The jobs waiting to start, and which one may start next: a plain FIFO, or one that keeps at
// most --per-host requests in flight per origin (the model: piscina's src/task_queue).

import { originOf } from '../core/rules.js';
import type { Job } from '../core/types.js';

export interface JobQueue {
  /** Jobs waiting, not yet started. */
  readonly size: number;
  push(job: Job): void;
  /**
   * The next job allowed to start now, taken off the queue; null when none may start yet.
   * `mayStart` (the rate gate) can hold a job back: a per-origin queue then tries other origins.
   */
  shift(mayStart?: (job: Job) => boolean): Job | null;
  /** A job taken by shift() has finished: its place is free again. */
  release(job: Job): void;
}

/** First in, first out; every job may start. */
export class FifoQueue implements JobQueue {
  private readonly jobs: Job[] = [];

  get size(): number {
    return this.jobs.length;
  }

  push(job: Job): void {
    this.jobs.push(job);
  }

  shift(mayStart?: (job: Job) => boolean): Job | null {
    const head = this.jobs[0];
    if (head === undefined || (mayStart && !mayStart(head))) return null;
    return this.jobs.shift()!;
  }

  release(_job: Job): void {}
}

/**
 * At most `limit` jobs in flight per origin. Jobs of a full origin wait, in order, while other
 * origins' jobs go ahead; origins are served in the order they first had a job waiting.
 */
export class PerHostQueue implements JobQueue {
  private readonly waiting = new Map<string, FifoQueue>();
  private readonly inFlight = new Map<string, number>();
  private count = 0;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.count;
  }

  push(job: Job): void {
    const origin = originOf(job.url);
    const q = this.waiting.get(origin) ?? new FifoQueue();
    if (q.size === 0) this.waiting.set(origin, q);
    q.push(job);
    this.count++;
  }

  shift(mayStart?: (job: Job) => boolean): Job | null {
    for (const [origin, q] of this.waiting) {
      if ((this.inFlight.get(origin) ?? 0) >= this.limit) continue;
      const job = q.shift(mayStart);
      if (job === null) continue;
      if (q.size === 0) this.waiting.delete(origin);
      this.inFlight.set(origin, (this.inFlight.get(origin) ?? 0) + 1);
      this.count--;
      return job;
    }
    return null;
  }

  release(job: Job): void {
    const origin = originOf(job.url);
    const left = (this.inFlight.get(origin) ?? 0) - 1;
    if (left > 0) this.inFlight.set(origin, left);
    else this.inFlight.delete(origin);
  }
}

/**
 * The queue for a run: per origin when --per-host is given, or when `byOrigin` (--per-host-rate:
 * an origin waiting for its token must not hold up the others).
 */
export function createQueue(perHost: number | null, byOrigin = false): JobQueue {
  if (perHost === null && !byOrigin) return new FifoQueue();
  return new PerHostQueue(perHost ?? Number.POSITIVE_INFINITY);
}
