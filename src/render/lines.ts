// The live text lines: one as each request starts and one as it finishes.

import type { RunEvent } from '../core/types.js';
import { clockTime } from '../measure/clock.js';
import { bytes, duration, printable } from './format.js';
import type { Paint } from './paint.js';

/** One event → one line (no newline); `origin` is the run's start, for the +offset column. */
export function eventLine(e: RunEvent, origin: number, paint: Paint): string {
  const t = e.kind === 'start' ? e.t : e.record.end;
  const head = `${paint.dim(clockTime(t))}  ${paint.dim(`+${((t - origin) / 1000).toFixed(3)}s`)}`;
  const worker = (w: number | null) => (w === null ? '' : `${paint.dim(`thread ${w}`)}  `);
  if (e.kind === 'start') {
    const word = e.attempt > 1 ? paint.yellow('retry') : paint.cyan('start');
    const attempt = e.attempt > 1 ? `${paint.dim(`attempt ${e.attempt}`)}  ` : '';
    return `${head}  ${word}  ${`#${e.index}`.padEnd(4)}  ${worker(e.worker)}${attempt}${printable(e.url)}`;
  }
  const r = e.record;
  const tries = r.attempts > 1 ? `  ${paint.dim(`${r.attempts} attempts`)}` : '';
  if (e.kind === 'done') {
    return `${head}  ${paint.green('done ')}  ${`#${r.index}`.padEnd(4)}  ${worker(r.worker)}${paint.green(String(r.status))}  ${bytes(r.bytes)}  ${duration(r.ms)}${tries}  ${printable(r.url)}`;
  }
  // The message may quote the server (a Location, a reason): escaped and cut like the URL.
  const what = printable(r.error?.code === 'HTTP_STATUS' ? r.error.message : `${r.error?.code ?? 'FAILED'}  ${r.error?.message ?? ''}`);
  const ms = r.attempts === 0 ? '' : `  ${duration(r.ms)}`;
  return `${head}  ${paint.red('fail ')}  ${`#${r.index}`.padEnd(4)}  ${worker(r.worker)}${paint.red(what)}${ms}${tries}  ${printable(r.url)}`;
}
