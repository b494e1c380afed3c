// The server's own account of its requests: served, in flight, the peak, and a bounded log of arrivals and finishes.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ServerStats {
  /** Requests received since the last reset (the log below may hold fewer). */
  served: number;
  /** Requests whose response has not finished or been cut off yet. */
  inFlight: number;
  /** Highest `inFlight` seen since the last reset. */
  peak: number;
  /** The most recent requests, oldest first; `path` is the raw request target, query included. */
  requests: { path: string; arrival: number; finish: number | null; headers?: Record<string, string> }[];
}

export type RequestEntry = ServerStats['requests'][number];

// A 100k-request benchmark must not grow memory; the totals stay exact, only the log is trimmed.
export const LOG_CAP = 10_000;

// The one clock of the project: comparable with the client's times, across threads and processes.
const now = (): number => performance.timeOrigin + performance.now();

export interface StatsLog {
  /** Count a request and log it; its response's 'close' marks it finished. */
  record(req: IncomingMessage, res: ServerResponse): void;
  stats(): ServerStats;
  reset(): void;
}

/** The user-agent and x-* headers of a request (what a test wants to check), or undefined if none. */
function loggedHeaders(req: IncomingMessage): Record<string, string> | undefined {
  // rawHeaders avoids building the lazy req.headers object on the hot path.
  let headers: Record<string, string> | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if ((name.charCodeAt(0) === 120 && name.charCodeAt(1) === 45) || name === 'user-agent') {
      headers ??= {};
      const value = raw[i + 1] as string;
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
  }
  return headers;
}

/** The last `cap` items pushed, oldest first: a ring once full, so a long run costs no more memory. */
function ring<T>(cap: number) {
  const items: T[] = [];
  let start = 0;
  return {
    push(item: T): void {
      if (items.length < cap) {
        items.push(item);
      } else {
        items[start] = item;
        start = (start + 1) % cap;
      }
    },
    map<U>(fn: (item: T) => U): U[] {
      const out: U[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = fn(items[(start + i) % items.length] as T);
      return out;
    },
    clear(): void {
      items.length = 0;
      start = 0;
    },
  };
}

export function createStatsLog(cap = LOG_CAP): StatsLog {
  let served = 0;
  let inFlight = 0;
  let peak = 0;
  const log = ring<RequestEntry>(cap);

  const record = (req: IncomingMessage, res: ServerResponse): void => {
    served++;
    inFlight++;
    if (inFlight > peak) peak = inFlight;
    const entry: RequestEntry = { path: req.url ?? '/', arrival: now(), finish: null };
    const headers = loggedHeaders(req);
    if (headers) entry.headers = headers;
    log.push(entry);
    // 'close' also fires when the client aborts, so hung and cut-off requests leave inFlight too.
    res.once('close', () => {
      inFlight--;
      entry.finish = now();
    });
  };

  const stats = (): ServerStats => ({ served, inFlight, peak, requests: log.map((e) => ({ ...e })) });

  const reset = (): void => {
    served = 0;
    // Requests still open keep counting, so the peak restarts from them rather than from 0.
    peak = inFlight;
    log.clear();
  };

  return { record, stats, reset };
}
