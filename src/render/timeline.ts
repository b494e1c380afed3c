// The timeline: a waterfall (one bar per URL on a shared time axis) or, for lists longer than a
// screen, a chart of requests in flight over time. Pure: summary and sizes in, text out.

import { originOf } from '../core/rules.js';
import type { RunSummary, Span } from '../measure/stats.js';
import { clipEnd, clipStart, duration, printable } from './format.js';
import type { Paint } from './paint.js';

export interface TimelineOptions {
  width: number;
  /** Bars that fit on a screen; more URLs than this get the in-flight chart. */
  maxBars: number;
  paint: Paint;
}

function label(span: Span, withHost: boolean): string {
  try {
    const u = new URL(span.url);
    return `${withHost ? u.host : ''}${u.pathname}${u.search}`;
  } catch {
    return span.url;
  }
}

function axis(left: string, right: string, pad: number, barWidth: number, totalMs: number): string {
  const mid = duration(totalMs / 2);
  const inner = barWidth - left.length - right.length;
  if (inner < 1) return `${' '.repeat(pad)}${left}`.slice(0, pad + barWidth);
  const midAt = Math.floor((barWidth - mid.length) / 2) - left.length;
  const line =
    inner > mid.length + 2 && midAt > 1 && midAt + mid.length < inner
      ? `${left}${' '.repeat(midAt)}${mid}${' '.repeat(inner - midAt - mid.length)}${right}`
      : `${left}${' '.repeat(inner)}${right}`;
  return `${' '.repeat(pad)}${line}`;
}

export function waterfall(s: RunSummary, o: TimelineOptions): string {
  const { paint } = o;
  const spans = [...s.spans].sort((a, b) => a.index - b.index);
  const t0 = s.startedAt;
  const total = Math.max(1, s.wallMs, ...spans.map((x) => x.end - t0));
  // A code read back from a record file is data like a URL: escaped.
  const tag = (x: Span) => (x.ok ? String(x.status) : x.code === 'HTTP_STATUS' ? String(x.status) : printable(x.code ?? 'fail', 40));
  const right = (x: Span) => ` ${tag(x)} ${duration(x.end - x.start)}`;
  const idWidth = Math.max(...spans.map((x) => String(x.index).length)) + 1;
  // Fit the width: the bar keeps at least 10 columns; the label gives way first, then the tail.
  const fixed = idWidth + 4;
  let rightWidth = Math.min(24, Math.max(...spans.map((x) => right(x).length), 8));
  let labelWidth = Math.max(8, Math.min(28, Math.floor(o.width * 0.3)));
  let barWidth = o.width - fixed - labelWidth - rightWidth;
  if (barWidth < 10) labelWidth = Math.max(0, labelWidth - (10 - barWidth));
  barWidth = o.width - fixed - labelWidth - rightWidth;
  if (barWidth < 10) rightWidth = Math.max(0, rightWidth - (10 - barWidth));
  barWidth = Math.max(1, o.width - fixed - labelWidth - rightWidth);
  const withHost = new Set(spans.map((x) => originOf(x.url))).size > 1;
  const full = paint.enabled ? '█' : '=';
  const failChar = paint.enabled ? '█' : 'x';
  const rows = spans.map((x) => {
    // A start may lie a fraction of a ms before the run's start (which is on the records' whole-ms grid).
    const a = Math.max(0, Math.min(barWidth - 1, Math.floor(((x.start - t0) / total) * barWidth)));
    const b = Math.max(a + 1, Math.min(barWidth, Math.ceil(((x.end - t0) / total) * barWidth)));
    const bar = (x.ok ? full : failChar).repeat(b - a);
    const painted = x.ok ? paint.green(bar) : paint.red(bar);
    const id = `#${x.index}`.padStart(idWidth);
    const name = clipStart(printable(label(x, withHost), 1000), labelWidth).padEnd(labelWidth);
    const whole = right(x);
    // Cut to whole words: '404' rather than '404 12 m'; a first word too long for the room is cut, not dropped.
    const cut = whole.slice(0, rightWidth);
    const tail = whole.length <= rightWidth ? whole : (cut.replace(/ \S*$/, '') || cut).padEnd(rightWidth);
    return `${paint.dim(id)} ${name} |${' '.repeat(a)}${painted}${' '.repeat(barWidth - b)}|${x.ok ? tail : paint.red(tail)}`;
  });
  const pad = idWidth + 1 + labelWidth + 1;
  rows.push(paint.dim(axis('0', duration(total), pad + 1, barWidth, total)));
  return rows.join('\n');
}

const LEVELS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export function inFlightChart(s: RunSummary, o: TimelineOptions, height = 8): string {
  const { paint } = o;
  const values = s.inFlight.values;
  const yWidth = 6;
  const cols = Math.max(10, o.width - yWidth - 2);
  // Resample the slices onto the columns, averaging.
  const perCol: number[] = [];
  for (let c = 0; c < cols; c++) {
    const lo = (c * values.length) / cols;
    const hi = ((c + 1) * values.length) / cols;
    let sum = 0;
    let weight = 0;
    for (let i = Math.floor(lo); i < Math.ceil(hi) && i < values.length; i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      sum += values[i]! * w;
      weight += w;
    }
    perCol.push(weight > 0 ? sum / weight : 0);
  }
  const max = Math.max(1, ...perCol);
  const top = Math.ceil(max);
  const lines: string[] = [paint.dim(clipEnd('requests in flight (average per time slice)', o.width))];
  for (let row = height - 1; row >= 0; row--) {
    const yLabel = row === height - 1 ? String(top) : '';
    let line = '';
    for (const v of perCol) {
      const cells = (v / top) * height - row;
      if (paint.enabled) line += LEVELS[Math.max(0, Math.min(8, Math.round(cells * 8)))];
      else line += cells >= 0.5 ? '#' : ' ';
    }
    lines.push(`${yLabel.padStart(yWidth)} |${paint.cyan(line)}`);
  }
  lines.push(`${'0'.padStart(yWidth)} +${'-'.repeat(cols)}`);
  lines.push(paint.dim(axis('0', duration(s.wallMs), yWidth + 2, cols, s.wallMs)));
  return lines.join('\n');
}

/** The waterfall when every URL fits on a screen, the in-flight chart otherwise. */
export function timeline(s: RunSummary, o: TimelineOptions): string {
  const n = s.spans.length + s.spansDropped;
  if (n === 0) return '';
  return n <= o.maxBars ? waterfall(s, o) : inFlightChart(s, o);
}
