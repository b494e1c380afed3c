// The summary after a run: what it did and what it cost.

import type { RunSummary } from '../measure/stats.js';
import { bytes, duration, fixed, wrapFigures } from './format.js';
import type { Paint } from './paint.js';

export function memoryText(s: RunSummary): string {
  const self = bytes(s.memory.selfPeakBytes);
  return s.memory.helpersPeakBytes > 0 ? `${self} + pool ${bytes(s.memory.helpersPeakBytes)}` : self;
}

export function cpuText(s: RunSummary): string {
  const total = duration(s.cpu.totalMs);
  return s.helpers > 0 || s.cpu.helpersMs > 0 ? `${total} (self ${duration(s.cpu.selfMs)} + pool ${duration(s.cpu.helpersMs)})` : total;
}

/** What the threads are: a blocking mode has more than the main one. */
function threadsWhere(s: RunSummary): string {
  if (s.mode === 'threads' && s.threads > 2) return ` (main, relay, ${s.threads - 2} worker${s.threads === 3 ? '' : 's'})`;
  if (s.mode === 'inline' && s.threads === 2) return ' (main, relay)';
  if (s.mode === 'processes' && s.helpers > 0) return ` (main, and a main and a relay in each pool process)`;
  return '';
}

/** The processes: this one, and a processes pool's members (a blocking mode starts no helper process). */
function processesText(s: RunSummary): string {
  return s.helpers > 0 ? `processes ${1 + s.helpers} (main, ${s.helpers} in the pool)` : 'processes 1';
}

/** The summary; `width` (a terminal's columns) wraps a long line between figures, never inside a word. */
export function summaryText(s: RunSummary, paint: Paint, width = Number.POSITIVE_INFINITY): string {
  const lines: string[] = [];
  const startup = s.startupMs > 0 ? `  ${paint.dim(`(start-up ${duration(s.startupMs)}, not included)`)}` : '';
  const ns = s.notStarted;
  // URLs given but never started have no record, so `total` leaves them out: say how many.
  const notStarted = !ns
    ? ''
    : ns.count > 0
      ? `, ${ns.count}${ns.more ? '+' : ''} not started`
      : ns.more
        ? ', input not read to the end'
        : '';
  const stopped = s.interrupted ? `  ${paint.yellow(`interrupted by ${s.interrupted}: partial results${notStarted}`)}` : '';
  lines.push(`${paint.bold(s.mode)}: ${s.total} URL${s.total === 1 ? '' : 's'} in ${paint.bold(duration(s.wallMs))}${startup}${stopped}`);
  const failed = s.failed > 0 ? paint.red(`${s.failed} failed`) : `${s.failed} failed`;
  const bad = s.badInput > 0 ? ` (${s.badInput} bad input line${s.badInput === 1 ? '' : 's'})` : '';
  const retries = s.retries > 0 ? `   ${s.retries} retr${s.retries === 1 ? 'y' : 'ies'}` : '';
  lines.push(`  ${paint.green(`${s.ok} ok`)}   ${failed}${bad}   ${bytes(s.bytes)}   ${fixed(s.reqPerSec, 1)} req/s${retries}`);
  if (s.latency) {
    const l = s.latency;
    // A URL's latency runs from its first attempt to its last: with retries, their waits are in it.
    const waits = s.retries > 0 ? `   ${paint.dim('(per URL, retry waits included)')}` : '';
    lines.push(`  latency      min ${duration(l.min)}   p50 ${duration(l.p50)}   p95 ${duration(l.p95)}   max ${duration(l.max)}${waits}`);
  }
  lines.push(`  concurrency  achieved ${fixed(s.achievedConcurrency, 2)}   peak in flight ${s.peakInFlight}`);
  lines.push(`  loop stall   ${duration(s.loopStallMs)}   (longest time the event loop could not run)`);
  lines.push(`  cpu          ${cpuText(s)}`);
  lines.push(`  memory       ${memoryText(s)} peak RSS`);
  lines.push(`  threads      ${s.threads}${threadsWhere(s)}   ${processesText(s)}`);
  // One column short of the width: a line that fills the last column wraps on some terminals.
  return lines.flatMap((l) => wrapFigures(l, width - 1)).join('\n');
}
