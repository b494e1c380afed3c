// The one clock: epoch milliseconds with sub-ms precision, comparable across worker threads.

import { performance } from 'node:perf_hooks';

export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The last second formatted by iso(): records come in bursts within one second. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/** '2026-11-25T12:00:01.123Z' */
export function iso(t: number): string {
  const ms = Math.round(t);
  const second = Math.floor(ms / 1000);
  // A Date and its formatting per second, not per record (two per record, 100,000s of records).
  if (second !== isoSecond) {
    const text = new Date(second * 1000).toISOString();
    // Years outside 0000-9999 take another form: formatted whole, every time.
    if (text.length !== 24) return new Date(ms).toISOString();
    isoSecond = second;
    isoPrefix = text.slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

/** Local wall-clock time of day to the millisecond: '12:00:01.123'. */
export function clockTime(t: number): string {
  const d = new Date(Math.round(t));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The longest delay Node's timers take; anything above fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A delay derived from a user value, made safe for setTimeout: above MAX_TIMER_MS it would fire at
 * once, so a huge `-t` would mean no time at all. ~24.8 days is as good as forever for one run.
 */
export function clampTimer(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, clampTimer(ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
