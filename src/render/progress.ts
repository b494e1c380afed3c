// The live progress line for stderr (only when stdout is not a terminal and stderr is).

import { duration, fixed } from './format.js';

export interface Progress {
  done: number;
  total: number | null;
  inFlight: number;
  elapsedMs: number;
}

export function progressLine(p: Progress): string {
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  const of = p.total === null ? `${p.done} done` : `${p.done}/${p.total} done`;
  return `${of} · ${p.inFlight} in flight · ${fixed(rate, 1)} req/s · ${duration(p.elapsedMs)}`;
}

/** Carriage return + erase line: the progress line is redrawn in place and cleared the same way. */
export const CLEAR_LINE = '\r\x1b[K';
