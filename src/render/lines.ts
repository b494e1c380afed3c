// The live text lines: one as each request starts and one as it finishes.

import { clockTime } from '../core/clock.js';
import type { RunEvent } from '../core/types.js';
import { bytes, duration, printable, shortenUrl, visibleLength } from './format.js';
import type { Paint } from './paint.js';

/** A URL shortened this far still tells its host and path's end apart. */
const MIN_URL = 16;
/** Narrower terminals leave out the wall-clock column (the offset stays), on every line alike. */
const CLOCK_WIDTH = 80;

/**
 * One event → one line (no newline); `origin` is the run's start, for the +offset column.
 * `width`: a terminal's columns, to fit the line: the URL shortened; on a narrow terminal the
 * wall-clock column left out (the offset stays); a failure too wide says its code without the
 * message; and if a finish line still has no room for its URL, it names it by its #index only
 * (its start line showed it). null: the whole line, for a file or pipe.
 */
export function eventLine(e: RunEvent, origin: number, paint: Paint, width: number | null = null): string {
  const url = printable(e.kind === 'start' ? e.url : e.record.url);
  if (width === null) return `${eventHead(e, origin, paint, true)}${url}`;
  const clock = width >= CLOCK_WIDTH;
  let head = eventHead(e, origin, paint, clock);
  const terse = e.kind === 'fail' && visibleLength(head) >= width;
  if (terse) head = eventHead(e, origin, paint, clock, true);
  // Still too wide (threads' `thread N` column): that column as `tN`, and a finish line without its size or time.
  const over = e.kind === 'start' ? visibleLength(head) + MIN_URL : visibleLength(head.trimEnd());
  const compact = over > width - 1;
  if (compact) head = eventHead(e, origin, paint, clock, terse, true);
  const left = width - 1 - visibleLength(head);
  if (e.kind !== 'start' && left < Math.min(url.length, MIN_URL)) return head.trimEnd();
  // A compacted start line gives its URL what room is left (shortenUrl keeps at least a few characters).
  return `${head}${shortenUrl(url, compact ? left : Math.max(MIN_URL, left))}`;
}

/**
 * The line up to its URL; `clock`: with the wall-clock column; `terse`: a failure's code without
 * its message; `compact`: the worker as `tN`, a done line without its size, a fail line without its time (a narrow terminal).
 */
function eventHead(e: RunEvent, origin: number, paint: Paint, clock: boolean, terse = false, compact = false): string {
  const t = e.kind === 'start' ? e.t : e.record.end;
  const offset = paint.dim(`+${((t - origin) / 1000).toFixed(3)}s`);
  const head = clock ? `${paint.dim(clockTime(t))}  ${offset}` : offset;
  const worker = (w: number | null) => (w === null ? '' : `${paint.dim(compact ? `t${w}` : `thread ${w}`)}  `);
  if (e.kind === 'start') {
    const word = e.attempt > 1 ? paint.yellow('retry') : paint.cyan('start');
    const attempt = e.attempt > 1 ? `${paint.dim(`attempt ${e.attempt}`)}  ` : '';
    return `${head}  ${word}  ${`#${e.index}`.padEnd(4)}  ${worker(e.worker)}${attempt}`;
  }
  const r = e.record;
  const tries = r.attempts > 1 ? `  ${paint.dim(`${r.attempts} attempts`)}` : '';
  if (e.kind === 'done') {
    return `${head}  ${paint.green('done ')}  ${`#${r.index}`.padEnd(4)}  ${worker(r.worker)}${paint.green(String(r.status))}  ${compact ? '' : `${bytes(r.bytes)}  `}${duration(r.ms)}${tries}  `;
  }
  // The message may quote the server (a Location, a reason): escaped and cut like the URL.
  const code = r.error?.code ?? 'FAILED';
  const what = printable(code === 'HTTP_STATUS' ? r.error!.message : terse ? code : `${code}  ${r.error?.message ?? ''}`);
  const ms = r.attempts === 0 || compact ? '' : `  ${duration(r.ms)}`;
  return `${head}  ${paint.red('fail ')}  ${`#${r.index}`.padEnd(4)}  ${worker(r.worker)}${paint.red(what)}${ms}${tries}  `;
}

/** -q's line for a failed URL on stderr: 'fetchall: http://host/x: 404 Not Found', 'fetchall: URL: ECONNREFUSED connect refused'. */
export function failureLine(url: string, error: { code: string; message: string } | null): string {
  const why = error === null ? 'failed' : error.code === 'HTTP_STATUS' ? error.message : `${error.code} ${error.message}`;
  return `fetchall: ${printable(url)}: ${printable(why)}`;
}
