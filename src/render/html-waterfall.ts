// The HTML report's waterfall: every mode stacked, each on its own time axis, one bar per URL, or for
// big runs the bars binned into rows × pixels; above each, a band marking every failure. Pure:
// summaries in, SVG text out.

import type { RunSummary, Span } from '../measure/stats.js';
import { escapeControls } from './escape.js';
import { bytes, clipStart, duration, fixed } from './format.js';
import { esc, px, type TimeFrame, timeGrid, xOf } from './svg.js';

/** A bar with what a record knows beyond a Span (the records reader fills these in). */
export interface BarSpan extends Span {
  bytes?: number;
  attempts?: number;
}

/** As the live meter: a bar's URL is cut here, so a report of long URLs stays small. */
const MAX_URL = 200;

/** A bar from a record (live or read back from ndjson). */
export function barOf(r: Omit<BarSpan, 'code'> & { error: { code: string } | null }): BarSpan {
  return {
    index: r.index,
    url: r.url.length > MAX_URL ? `${r.url.slice(0, MAX_URL - 1)}…` : r.url,
    start: r.start,
    end: r.end,
    ok: r.ok,
    status: r.status,
    code: r.error?.code ?? null,
    worker: r.worker,
    bytes: r.bytes,
    attempts: r.attempts,
  };
}

/** One mode's drawn run. `note`: which run it is, when a mode ran several times. */
export interface Lane {
  mode: string;
  run: RunSummary;
  note?: string;
}

/** Above this many bars (or when bars were dropped) the waterfall is binned. */
export const BIN_ABOVE = 2000;
/** Rows of a binned waterfall; each row is a run of consecutive URLs. */
export const BIN_ROWS = 200;
const ROW_PX = 11;
const BODY_MAX = 250;
const HEAD = 34;
/** Under each lane: its time axis's labels. */
const TICKS = 20;
const GAP = 16;
/** The failure band above a lane with failures, and the space under it. */
const BAND = 8;
const BAND_GAP = 4;

export const isBinned = (s: RunSummary): boolean => s.spansDropped > 0 || s.spans.length > BIN_ABOVE;

function bodyHeight(s: RunSummary): number {
  if (isBinned(s)) return BIN_ROWS * 2;
  return Math.max(ROW_PX, Math.min(s.spans.length * ROW_PX, BODY_MAX));
}

/** How far a run reaches on the time axis, from its own start. */
export function extentMs(s: RunSummary): number {
  // A loop, not Math.max(...spans): a spread of 100,000 arguments can overflow the stack.
  return s.spans.reduce((m, x) => Math.max(m, x.end - s.startedAt), Math.max(0, s.wallMs));
}

export function outcomeClass(s: Span): 'ok' | 'http' | 'err' {
  if (s.ok) return 'ok';
  return s.code === 'HTTP_STATUS' ? 'http' : 'err';
}

function outcomeText(s: Span): string {
  if (s.ok) return `status ${s.status}`;
  if (s.code === 'HTTP_STATUS') return `failed: status ${s.status}`;
  return `failed: ${s.code ?? 'error'}${s.status === null ? '' : ` (status ${s.status})`}`;
}

export function barTitle(s: BarSpan, t0: number): string {
  const facts = [outcomeText(s)];
  if (s.bytes !== undefined) facts.push(bytes(s.bytes));
  facts.push(duration(s.end - s.start));
  if (s.attempts !== undefined) facts.push(`${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`);
  if (s.worker !== null) facts.push(`worker ${s.worker}`);
  return `#${s.index} ${escapeControls(s.url)}\n${escapeControls(facts.join(' · '))}\nfrom +${duration(s.start - t0)} to +${duration(s.end - t0)}`;
}

function shortLabel(url: string): string {
  try {
    const u = new URL(url);
    return clipStart(`${u.pathname}${u.search}`, 26);
  } catch {
    return clipStart(url, 26);
  }
}

/** One rect per span, in input order, with its times (ms from the run's start) as data. */
function bars(lane: Lane, f: TimeFrame, top: number): string {
  const s = lane.run;
  const spans = [...s.spans].sort((a, b) => a.index - b.index);
  const rowH = bodyHeight(s) / Math.max(1, spans.length);
  const h = rowH >= 4 ? rowH - 2 : rowH;
  const labels = rowH >= 9;
  const drawn = spans.map((x, i) => {
    const t0 = x.start - s.startedAt;
    const t1 = x.end - s.startedAt;
    const x0 = xOf(f, t0);
    const w = Math.max(2, xOf(f, t1) - x0);
    // A failure keeps 2 px however thin the rows, so it is not lost among hundreds of bars.
    const hh = x.ok ? h : Math.max(h, 2);
    const y = top + i * rowH + (rowH - hh) / 2;
    const label = labels
      ? `<text class="row" x="${px(f.left - 8)}" y="${px(y + h / 2 + 3.5)}" text-anchor="end">${esc(shortLabel(x.url))}</text>`
      : '';
    return `${label}<rect class="bar ${outcomeClass(x)}" data-index="${x.index}" data-t0="${px(t0)}" data-t1="${px(t1)}" x="${px(x0)}" y="${px(y)}" width="${px(w)}" height="${px(hh)}"><title>${esc(barTitle(x, s.startedAt), true)}</title></rect>`;
  });
  // Failures last, so they are drawn over their neighbours rather than under them.
  return [...drawn.filter((_, i) => spans[i]!.ok), ...drawn.filter((_, i) => !spans[i]!.ok)].join('');
}

interface Bins {
  rows: number;
  per: number;
  cols: number;
  ok: Float64Array;
  fail: Float64Array;
  sorted: Span[];
}

/** Time in flight per row (a run of `per` consecutive URLs) and pixel column, ok and failed apart. */
export function binSpans(s: RunSummary, f: TimeFrame): Bins {
  const sorted = [...s.spans].sort((a, b) => a.index - b.index);
  const per = Math.max(1, Math.ceil(sorted.length / BIN_ROWS));
  const rows = Math.max(1, Math.ceil(sorted.length / per));
  const cols = Math.max(1, Math.round(f.width));
  const colMs = f.totalMs / cols;
  const ok = new Float64Array(rows * cols);
  const fail = new Float64Array(rows * cols);
  sorted.forEach((x, i) => {
    const into = x.ok ? ok : fail;
    const a = Math.min(cols, Math.max(0, (x.start - s.startedAt) / colMs));
    const b = Math.min(cols, Math.max(a, (x.end - s.startedAt) / colMs));
    const base = Math.floor(i / per) * cols;
    for (let c = Math.min(cols - 1, Math.floor(a)); c <= Math.min(cols - 1, Math.floor(b)); c++) {
      // A span shorter than a pixel still marks its pixel.
      into[base + c]! += Math.max(1e-3, Math.min(b, c + 1) - Math.max(a, c));
    }
  });
  return { rows, per, cols, ok, fail, sorted };
}

/** Each row's pixels merged into runs of one shade: a few rects per row, whatever the row's size. */
function binRow(b: Bins, r: number, max: number, f: TimeFrame, y: number): string {
  const rects: string[] = [];
  let from = 0;
  let prev = '';
  const shade = (c: number): string => {
    const o = b.ok[r * b.cols + c]!;
    const x = b.fail[r * b.cols + c]!;
    if (o + x <= 0) return '';
    // A pixel that held any failure is red at full strength, however many ok URLs shared it.
    return x > 0 ? 'f4' : `o${Math.min(4, Math.ceil((4 * o) / max))}`;
  };
  for (let c = 0; c <= b.cols; c++) {
    const cls = c < b.cols ? shade(c) : '';
    if (cls === prev) continue;
    if (prev) {
      const x0 = f.left + (from / b.cols) * f.width;
      rects.push(`<rect class="bin ${prev}" x="${px(x0)}" y="${px(y)}" width="${px(((c - from) / b.cols) * f.width)}" height="2"/>`);
    }
    prev = cls;
    from = c;
  }
  return rects.join('');
}

function binRowTitle(b: Bins, r: number, t0: number): string {
  const group = b.sorted.slice(r * b.per, (r + 1) * b.per);
  const failed = group.filter((x) => !x.ok).length;
  const first = Math.min(...group.map((x) => x.start)) - t0;
  const last = Math.max(...group.map((x) => x.end)) - t0;
  const range = `URLs #${group[0]!.index}–#${group[group.length - 1]!.index}`;
  return `${range} (${group.length}): ${group.length - failed} ok, ${failed} failed\nfrom +${duration(first)} to +${duration(last)}`;
}

function binned(lane: Lane, f: TimeFrame, top: number): string {
  const b = binSpans(lane.run, f);
  let max = 0;
  for (let i = 0; i < b.ok.length; i++) max = Math.max(max, b.ok[i]! + b.fail[i]!);
  const rows: string[] = [];
  for (let r = 0; r < b.rows; r++) {
    const g = b.sorted[r * b.per]!;
    const title = esc(binRowTitle(b, r, lane.run.startedAt), true);
    rows.push(`<g class="bin-row" data-first="${g.index}"><title>${title}</title>${binRow(b, r, max, f, top + r * 2)}</g>`);
  }
  return rows.join('');
}

/** How a binned lane was drawn: every bar, or which of them were kept. */
function binnedNote(s: RunSummary, drawn: number): string {
  if (s.spansDropped === 0) return `binned: rows of ${Math.ceil(drawn / BIN_ROWS)} URLs`;
  if ((s.spansEvery ?? 1) > 1) return `binned: a sample, every ${s.spansEvery}th of ${drawn} URLs by index`;
  return `binned: the first ${s.spans.length} of ${drawn} URLs`;
}

/** Which pixel columns of a lane's plot held a failed request, and how many failed. */
export interface FailureMarks {
  /** Failed requests, counted from every record (bad input lines, never requested, are not). */
  count: number;
  /** 1 where a failure was in flight, per column of `f.width / cols.length` px. */
  cols: Uint8Array;
}

/**
 * Every failure's time span, from its start to its end: from the bars when the summary has every
 * one; else (bars sampled, records read back) from the in-flight series, counted from every record.
 */
export function failureMarks(s: RunSummary, f: TimeFrame): FailureMarks {
  const cols = new Uint8Array(Math.max(1, Math.round(f.width)));
  const colMs = f.totalMs / cols.length;
  const mark = (fromMs: number, toMs: number): void => {
    const a = Math.min(cols.length - 1, Math.max(0, Math.floor(fromMs / colMs)));
    const b = Math.min(cols.length - 1, Math.max(a, Math.floor(toMs / colMs)));
    cols.fill(1, a, b + 1);
  };
  if (s.spansDropped === 0) {
    let count = 0;
    for (const x of s.spans) {
      if (x.ok) continue;
      count++;
      mark(x.start - s.startedAt, x.end - s.startedAt);
    }
    return { count, cols };
  }
  const { origin, sliceMs, failed, failing } = s.inFlight;
  const off = origin - s.startedAt;
  const n = Math.max(failed?.length ?? 0, failing?.length ?? 0);
  for (let i = 0; i < n; i++) {
    // A failure in flight during the slice, or one that ended in it (a 0 ms failure is in flight for no time).
    if ((failing?.[i] ?? 0) > 0 || (failed?.[i] ?? 0) > 0) mark(off + i * sliceMs, off + (i + 1) * sliceMs - 1e-9);
  }
  const count = failed ? failed.reduce((a, v) => a + v, 0) : s.failed - s.badInput;
  return { count, cols };
}

/** The red band above a lane: a mark wherever a failed URL was in flight, and their count. */
function failureBand(lane: Lane, f: TimeFrame, top: number): string {
  const { count, cols } = failureMarks(lane.run, f);
  if (count <= 0) return '';
  const colPx = f.width / cols.length;
  const marks: string[] = [];
  for (let c = 0; c < cols.length; c++) {
    if (!cols[c]) continue;
    const from = c;
    while (c < cols.length && cols[c]) c++;
    // At least 2 px, so one short failure among thousands still shows.
    const w = Math.max(2, (c - from) * colPx);
    const x = Math.min(f.left + from * colPx, f.left + f.width - w);
    marks.push(`<rect class="fail-mark" x="${px(x)}" y="${px(top)}" width="${px(w)}" height="${BAND}"/>`);
  }
  const title = `${count} failed URL${count === 1 ? '' : 's'} of ${lane.run.total}, counted from every record: marked red from each one's start to its end`;
  return `<g class="fail-band" data-failed="${count}"><title>${esc(title)}</title><rect class="band" x="${px(f.left)}" y="${px(top)}" width="${px(f.width)}" height="${BAND}"/><text class="fail-count" x="${px(f.left - 8)}" y="${px(top + BAND - 0.5)}" text-anchor="end">${esc(`${count} failed`)}</text>${marks.join('')}</g>`;
}

/** Whether a lane draws the failure band (and makes room for it). */
const hasBand = (lane: Lane): boolean => lane.run.failed - lane.run.badInput > 0;

function laneHeading(lane: Lane, f: TimeFrame, top: number): string {
  const s = lane.run;
  const drawn = s.spans.length + s.spansDropped;
  const facts = [
    `${drawn} URL${drawn === 1 ? '' : 's'} in ${duration(s.wallMs)}`,
    // In words first, for a learner: the staircase and the overlap, named.
    s.peakInFlight <= 1 ? 'one at a time' : `up to ${s.peakInFlight} at once`,
    `achieved concurrency ${fixed(s.achievedConcurrency, 2)}`,
  ];
  if (s.failed > 0) facts.push(`${s.failed} failed`);
  if (isBinned(s)) facts.push(binnedNote(s, drawn));
  if (lane.note) facts.push(lane.note);
  const y = top + 20;
  return `<text class="mode" x="${px(f.left - 8)}" y="${px(y)}" text-anchor="end">${esc(lane.mode)}</text><text class="facts" x="${px(f.left)}" y="${px(y)}">${esc(facts.join('  ·  '))}</text>`;
}

/** Said under a lane's scale when its axis is shorter than the longest mode's: bar lengths do not compare across modes. */
export function scaleNote(lane: Lane, longest: Lane): string | null {
  const ratio = extentMs(longest.run) / Math.max(1, extentMs(lane.run));
  if (lane === longest || !(ratio >= 1.5)) return null;
  return `${ratio < 10 ? ratio.toFixed(1) : ratio.toFixed(0)} × shorter than ${longest.mode}'s`;
}

/** Under a lane's axis, its scale, named as this lane's own. */
export function scaleLabel(f: TimeFrame): string {
  return `own axis, 0–${duration(f.totalMs)}`;
}

/** The dashed line where the mode's run ended: the staircase's length is its wall time. */
function endMarker(lane: Lane, f: TimeFrame, top: number, bottom: number): string {
  const x = px(xOf(f, lane.run.wallMs));
  return `<line class="end" x1="${x}" y1="${px(top)}" x2="${x}" y2="${px(bottom)}"/>`;
}

export function laneHeight(lane: Lane): number {
  return HEAD + (hasBand(lane) ? BAND + BAND_GAP : 0) + bodyHeight(lane.run) + TICKS + GAP;
}

/** The lane whose run reaches furthest in time (the others' axes are shorter). */
export function longestLane(lanes: readonly Lane[]): Lane | undefined {
  return lanes.reduce<Lane | undefined>((a, l) => (a === undefined || extentMs(l.run) > extentMs(a.run) ? l : a), undefined);
}

/**
 * The stacked waterfall; `width` is the SVG's. Each lane on its own time axis (`frameOf`), scaled
 * to its own run and labelled so, with its failure band above it.
 */
export function waterfallSvg(lanes: Lane[], frameOf: (lane: Lane) => TimeFrame, width: number): string {
  const top = 8;
  const parts: string[] = [];
  const longest = longestLane(lanes);
  let y = top;
  for (const lane of lanes) {
    const f = frameOf(lane);
    const body = bodyHeight(lane.run);
    const band = hasBand(lane) ? y + HEAD : null;
    const plot = y + HEAD + (band === null ? 0 : BAND + BAND_GAP);
    parts.push(`<g class="lane" data-mode="${esc(lane.mode)}">`);
    parts.push(timeGrid(f, band ?? plot, plot + body, scaleLabel(f), scaleNote(lane, longest ?? lane)));
    parts.push(`<rect class="plot" x="${px(f.left)}" y="${px(plot)}" width="${px(f.width)}" height="${px(body)}"/>`);
    parts.push(laneHeading(lane, f, y));
    if (band !== null) parts.push(failureBand(lane, f, band));
    parts.push(endMarker(lane, f, plot - 4, plot + body + 4));
    parts.push(isBinned(lane.run) ? binned(lane, f, plot) : bars(lane, f, plot));
    parts.push('</g>');
    y += laneHeight(lane);
  }
  const height = y - GAP + 8;
  return `<svg class="waterfall" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${px(height)}" viewBox="0 0 ${width} ${px(height)}" role="img" aria-label="waterfall">${parts.join('')}</svg>`;
}
