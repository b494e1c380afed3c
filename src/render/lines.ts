// The live text lines: one as each request starts and one as it finishes.

import type { RunEvent } from '../core/types.js';
import { clockTime } from '../measure/clock.js';
import { bytes, duration, printable, shortenUrl, visibleLength } from './format.js';
import type { Paint } from './paint.js';

/** A URL shortened this far still tells its host and path's end apart; a narrower terminal wraps the line. */
const MIN_URL = 24;

/**
 * One event → one line (no newline); `origin` is the run's start, for the +offset column.
 * `width`: a terminal's columns, to shorten the URL so the line fits (null: the whole URL, for a
 * file or pipe).
 */
export function eventLine(e: RunEvent, origin: number, paint: Paint, width: number | null = null): string {
  const head = eventHead(e, origin, paint);
  const url = printable(e.kind === 'start' ? e.url : e.record.url);
  if (width === null) return `${head}${url}`;
  return `${head}${shortenUrl(url, Math.max(MIN_URL, width - 1 - visibleLength(head)))}`;
}

/** The line up to its URL. */
function eventHead(e: RunEvent, origin: number, paint: Paint): string {
  const t = e.kind === 'start' ? e.t : e.record.end;
  const head = `${paint.dim(clockTime(t))}  ${paint.dim(`+${((t - origin) / 1000).toFixed(3)}s`)}`;
  const worker = (w: number | null) => (w === null ? '' : `${paint.dim(`thread ${w}`)}  `);
  if (e.kind === 'start') {
    const word = e.attempt > 1 ? paint.yellow('retry') : paint.cyan('start');
    const attempt = e.attempt > 1 ? `${paint.dim(`attempt ${e.attempt}`)}  ` : '';
    return `${head}  ${word}  ${`#${e.index}`.padEnd(4)}  ${worker(e.worker)}${attempt}`;
  }
  const r = e.record;
  const tries = r.attempts > 1 ? `  ${paint.dim(`${r.attempts} attempts`)}` : '';
  if (e.kind === 'done') {
    return `${head}  ${paint.green('done ')}  ${`#${r.index}`.padEnd(4)}  ${worker(r.worker)}${paint.green(String(r.status))}  ${bytes(r.bytes)}  ${duration(r.ms)}${tries}  `;
  }
  // The message may quote the server (a Location, a reason): escaped and cut like the URL.
  const what = printable(r.error?.code === 'HTTP_STATUS' ? r.error.message : `${r.error?.code ?? 'FAILED'}  ${r.error?.message ?? ''}`);
  const ms = r.attempts === 0 ? '' : `  ${duration(r.ms)}`;
  return `${head}  ${paint.red('fail ')}  ${`#${r.index}`.padEnd(4)}  ${worker(r.worker)}${paint.red(what)}${ms}${tries}  `;
}

/** -q's line for a failed URL on stderr: 'fetchall: http://host/x: 404 Not Found', 'fetchall: URL: ECONNREFUSED connect refused'. */
export function failureLine(url: string, error: { code: string; message: string } | null): string {
  const why = error === null ? 'failed' : error.code === 'HTTP_STATUS' ? error.message : `${error.code} ${error.message}`;
  return `fetchall: ${printable(url)}: ${printable(why)}`;
}
