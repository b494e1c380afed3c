// Politeness: token buckets (burst 1) that space attempt starts, over the run (--rate) and per
// origin (--per-host-rate). Retries take a token too, so a retry storm cannot exceed the rate.

import { now as clockNow, sleep } from '../core/clock.js';
import { originOf } from '../core/rules.js';
import type { HopGate } from '../core/types.js';

/**
 * A token bucket holding at most one token, refilled at `perSec`: starts are spaced at least
 * 1/perSec apart, and an idle bucket does not save up a burst. Any window of 1 s then holds at
 * most perSec + 1 starts (both ends of a closed window can hold one).
 */
export class TokenBucket {
  private readonly intervalMs: number;
  /** When the next token is there; in the past means one is waiting now. */
  private next = Number.NEGATIVE_INFINITY;

  constructor(perSec: number) {
    this.intervalMs = 1000 / perSec;
  }

  /** How long until a token is there, 0 if now. */
  delay(t: number): number {
    return Math.max(0, this.next - t);
  }

  /** Take the token at `t`; the caller has checked delay(t) is 0. */
  take(t: number): void {
    this.next = t + this.intervalMs;
  }

  /** A bucket full again is as good as a new one, so it can be forgotten. */
  idle(t: number): boolean {
    return this.next <= t;
  }
}

/** Origins with a bucket, past which idle buckets are swept (a list of a million hosts stays small). */
const SWEEP_AT = 4096;

/** The global bucket and one bucket per origin; an attempt starts when both have a token. */
export class RateGate implements HopGate {
  private readonly global: TokenBucket | null;
  private readonly hosts = new Map<string, TokenBucket>();
  private sweepAt = SWEEP_AT;

  constructor(
    perSec: number | null,
    private readonly perHostPerSec: number | null,
    private readonly clock: () => number = clockNow,
  ) {
    this.global = perSec === null ? null : new TokenBucket(perSec);
  }

  /** Whether this gate limits anything per origin (the queue then lets other origins go first). */
  get perHost(): boolean {
    return this.perHostPerSec !== null;
  }

  /** How long until an attempt at `url` may start, 0 if now. */
  delay(url: string): number {
    const t = this.clock();
    const host = this.perHostPerSec === null ? 0 : (this.hosts.get(originOf(url))?.delay(t) ?? 0);
    return Math.max(this.global?.delay(t) ?? 0, host);
  }

  /** Start now: take both tokens. The caller has checked delay(url) is 0. */
  take(url: string): void {
    const t = this.clock();
    this.global?.take(t);
    if (this.perHostPerSec === null) return;
    const origin = originOf(url);
    let bucket = this.hosts.get(origin);
    if (!bucket) {
      if (this.hosts.size >= this.sweepAt) this.sweep(t);
      bucket = new TokenBucket(this.perHostPerSec);
      this.hosts.set(origin, bucket);
    }
    bucket.take(t);
  }

  /** A redirect hop: take both tokens if they are there (0), else how long until they may be. */
  tryTake(url: string): number {
    const wait = this.delay(url);
    if (wait <= 0) this.take(url);
    return Math.max(0, wait);
  }

  /** Wait for both tokens and take them (a retry, which already holds its place); false when stopped first. */
  async acquire(url: string, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const wait = this.delay(url);
      if (wait <= 0) {
        this.take(url);
        return true;
      }
      // Another start may take the token first; then wait again.
      await sleep(Math.ceil(wait), signal);
    }
  }

  private sweep(t: number): void {
    for (const [origin, bucket] of this.hosts) if (bucket.idle(t)) this.hosts.delete(origin);
    // Every origin still busy: sweep again only when the map has doubled, so sweeping stays cheap.
    this.sweepAt = Math.max(SWEEP_AT, this.hosts.size * 2);
  }
}

/** The gate for a run, or null when neither rate is set. */
export function createGate(perSec: number | null | undefined, perHostPerSec: number | null | undefined): RateGate | null {
  if ((perSec ?? null) === null && (perHostPerSec ?? null) === null) return null;
  return new RateGate(perSec ?? null, perHostPerSec ?? null);
}
