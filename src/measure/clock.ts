// The one clock: epoch milliseconds with sub-ms precision, comparable across worker threads.

import { performance } from 'node:perf_hooks';

export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** '2026-11-25T12:00:01.123Z' */
export function iso(t: number): string {
  return new Date(Math.round(t)).toISOString();
}

/** Local wall-clock time of day to the millisecond: '12:00:01.123'. */
export function clockTime(t: number): string {
  const d = new Date(Math.round(t));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
