// The live progress line: done/total, failed, in flight, rate, ETA and elapsed time, fitted to
// the terminal's width by dropping the least useful fields first (a wrapped line cannot be redrawn).

import { fixed } from './format.js';

export interface Progress {
  done: number;
  total: number | null;
  failed: number;
  inFlight: number;
  elapsedMs: number;
}

interface Field {
  text: string;
  /** Lower is kept longer. */
  rank: number;
}

/**
 * The line for `p`, at most `width - 1` characters (the last column is left free: a terminal may
 * wrap a line that fills it). Fields are dropped in this order until it fits: elapsed time (when
 * an ETA stands in for it), rate, in flight, a zero failed count, the ETA, the failed count; then
 * 'done' goes; what still does not fit is cut.
 */
export function progressLine(p: Progress, width: number): string {
  const room = Math.max(1, width - 1);
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  const left = p.total !== null && p.done < p.total && rate > 0 ? ((p.total - p.done) / rate) * 1000 : null;
  const count = p.total === null ? String(p.done) : `${p.done}/${p.total}`;
  const fields: Field[] = [
    { text: `${count} done`, rank: 0 },
    { text: `${p.failed} failed`, rank: p.failed > 0 ? 2 : 4 },
    { text: `${p.inFlight} in flight`, rank: 5 },
    { text: `${fixed(rate, 1)} req/s`, rank: 6 },
    ...(left === null ? [] : [{ text: `ETA ${clock(left)}`, rank: 3 }]),
    { text: `${clock(p.elapsedMs)} elapsed`, rank: left === null ? 3 : 7 },
  ];
  for (let keep = fields.length; keep > 0; keep--) {
    const kept = [...fields].sort((a, b) => a.rank - b.rank).slice(0, keep);
    const line = fields
      .filter((f) => kept.includes(f))
      .map((f) => f.text)
      .join(' · ');
    if (line.length <= room) return line;
  }
  return count.slice(0, room);
}

/** Seconds for a line that changes every 200 ms: whole seconds, no jitter of decimals ('0:07', '12:05', '1:02:05'). */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Carriage return + erase line: the progress line is redrawn in place and cleared the same way. */
export const CLEAR_LINE = '\r\x1b[K';
