// The HTML report's in-flight chart: requests in flight over time per mode, each on its own time axis
// (the waterfall's for that mode) and one shared vertical scale, with the -c limit and the server's
// own peak drawn. Pure.

import type { RunSummary } from '../measure/stats.js';
import { fixed } from './format.js';
import { type Lane, longestLane, scaleLabel, scaleNote } from './html-waterfall.js';
import { esc, niceStep, px, type TimeFrame, timeGrid, xOf } from './svg.js';

export interface FlightLane extends Lane {
  /** The -c limit, when known. */
  limit: number | null;
  /** The most requests the server saw at once during this mode, when the caller knows it. */
  serverPeak: number | null;
}

const HEAD = 26;
const BODY = 96;
/** Under each panel: its time axis's labels. */
const TICKS = 20;
const GAP = 14;

/** Mode names are data: only the known ones become a CSS class. */
export function modeClass(mode: string): string {
  return ['async', 'threads', 'inline'].includes(mode) ? `m-${mode}` : 'm-other';
}

function topOfScale(lanes: FlightLane[]): number {
  let max = 1;
  for (const l of lanes) {
    for (const v of l.run.inFlight.values) max = Math.max(max, v);
    max = Math.max(max, l.run.peakInFlight, l.limit ?? 0, l.serverPeak ?? 0);
  }
  // Averages can land a hair above a whole number; that must not lift the scale a step.
  const step = Math.max(1, niceStep(max, 4));
  return Math.ceil(max / step - 1e-6) * step;
}

/** The average in flight per slice as a stepped area from the run's start. */
function area(s: RunSummary, f: TimeFrame, yOf: (v: number) => number): string {
  const { values, sliceMs, origin } = s.inFlight;
  const off = origin - s.startedAt;
  const base = px(yOf(0));
  const pts: string[] = [`M${px(xOf(f, off))} ${base}`];
  values.forEach((v, i) => {
    const y = px(yOf(v));
    pts.push(`L${px(xOf(f, off + i * sliceMs))} ${y}L${px(xOf(f, off + (i + 1) * sliceMs))} ${y}`);
  });
  pts.push(`L${px(xOf(f, off + values.length * sliceMs))} ${base}Z`);
  return pts.join('');
}

/** A horizontal line across the plot; its label above the line, or below it (`below`) so two equal levels both read. */
function level(cls: string, label: string, v: number, f: TimeFrame, yOf: (v: number) => number, below = false): string {
  const y = px(yOf(v));
  const x2 = px(f.left + f.width);
  const ty = px(below ? yOf(v) + 13 : yOf(v) - 4);
  return `<line class="${cls}" x1="${px(f.left)}" y1="${y}" x2="${x2}" y2="${y}"/><text class="${cls}-label" x="${px(f.left + f.width - 4)}" y="${ty}" text-anchor="end">${esc(label)}</text>`;
}

function yTicks(f: TimeFrame, top: number, max: number, yOf: (v: number) => number): string {
  const step = Math.max(1, niceStep(max, 2));
  const values: number[] = [];
  for (let v = 0; v <= max; v += step) values.push(v);
  return values
    .map((v) => `<text class="tick" x="${px(f.left - 6)}" y="${px(yOf(v) + 3.5)}" text-anchor="end">${v}</text>`)
    .join('')
    .concat(`<line class="axis-line" x1="${px(f.left)}" y1="${px(top)}" x2="${px(f.left)}" y2="${px(yOf(0))}"/>`);
}

function lanePanel(l: FlightLane, f: TimeFrame, top: number, max: number, longest: Lane): string {
  const body = top + HEAD;
  const grid = timeGrid(f, body, body + BODY, scaleLabel(f), scaleNote(l, longest));
  const yOf = (v: number) => body + BODY - (Math.min(v, max) / max) * BODY;
  const s = l.run;
  const head = `<text class="mode" x="${px(f.left - 8)}" y="${px(top + 18)}" text-anchor="end">${esc(l.mode)}</text><text class="facts" x="${px(f.left)}" y="${px(top + 18)}">${esc(`peak ${s.peakInFlight} in flight  ·  average ${fixed(s.achievedConcurrency, 2)}`)}</text>`;
  const parts = [
    `<g class="flight-lane" data-mode="${esc(l.mode)}">`,
    grid,
    head,
    `<rect class="plot" x="${px(f.left)}" y="${px(body)}" width="${px(f.width)}" height="${BODY}"/>`,
    `<path class="flight ${modeClass(l.mode)}" d="${area(s, f, yOf)}"/>`,
  ];
  if (l.limit !== null) parts.push(level('limit', `-c ${l.limit}`, l.limit, f, yOf));
  if (l.serverPeak !== null) parts.push(level('server', `server's peak ${l.serverPeak}`, l.serverPeak, f, yOf, l.serverPeak >= max * 0.8));
  parts.push(yTicks(f, body, max, yOf), '</g>');
  return parts.join('');
}

/** One panel per mode, each on its own time axis (`frameOf`, as the waterfall's), one vertical scale for all. */
export function inFlightSvg(lanes: FlightLane[], frameOf: (lane: Lane) => TimeFrame, width: number): string {
  const top = 8;
  const max = topOfScale(lanes);
  const step = HEAD + BODY + TICKS + GAP;
  const longest = longestLane(lanes);
  const panels = lanes.map((l, i) => lanePanel(l, frameOf(l), top + i * step, max, longest ?? l));
  const height = top + lanes.length * step - GAP + 8;
  return `<svg class="inflight" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${px(height)}" viewBox="0 0 ${width} ${px(height)}" role="img" aria-label="requests in flight">${panels.join('')}</svg>`;
}
