// The timers endpoints set (delays, drips), kept in one set so close() can cancel all of them.

import type { ServerResponse } from 'node:http';

// setTimeout fires immediately for anything above this, which would turn a long delay into none.
const MAX_TIMER_MS = 2_147_483_647;

/** Runs `fn` after `ms`; one pending call at a time per response. */
export type Schedule = (fn: () => void, ms: number) => void;

export interface Timers {
  /** A schedule for one response, cancelled if the client leaves. */
  forResponse(res: ServerResponse): Schedule;
  /** Cancel every pending timer, so nothing holds the event loop open after close(). */
  clear(): void;
}

export function createTimers(): Timers {
  const pending = new Set<NodeJS.Timeout>();

  // One timer slot per response with a single 'close' listener, so a 20-slice drip does not
  // pile up listeners, and a client that leaves cancels whatever was still pending.
  const forResponse = (res: ServerResponse): Schedule => {
    let timer: NodeJS.Timeout | null = null;
    res.once('close', () => {
      if (timer) {
        clearTimeout(timer);
        pending.delete(timer);
        timer = null;
      }
    });
    return (fn, ms) => {
      const t = setTimeout(
        () => {
          pending.delete(t);
          timer = null;
          fn();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      timer = t;
      pending.add(t);
    };
  };

  const clear = (): void => {
    for (const t of pending) clearTimeout(t);
    pending.clear();
  };

  return { forResponse, clear };
}
