// Small pieces the HTML report is drawn with: escaping, the shared time scale, axis ticks. Pure.

import { escapeControls } from './escape.js';
import { duration } from './format.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text from the network or the input, safe in HTML text and in a quoted attribute: control and bidi
 * characters shown as `\xNN` / `\uNNNN` (as on the terminal, by the one escaping function), then the five markup characters as entities.
 * `keepNewlines` for text made of lines (a <pre>, a hover title) whose data was escaped line by line.
 */
export function esc(s: string, keepNewlines = false): string {
  return escapeControls(s, keepNewlines ? '\n' : '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A coordinate for an attribute: at most two decimals, so the file stays small. */
export function px(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Where time goes in one mode's chart: each mode drawn from its own start, on its own axis. */
export interface TimeFrame {
  /** x of time 0, in px. */
  left: number;
  /** px from time 0 to `totalMs`. */
  width: number;
  totalMs: number;
}

export function xOf(f: TimeFrame, ms: number): number {
  return f.left + (Math.max(0, Math.min(ms, f.totalMs)) / f.totalMs) * f.width;
}

/** A round step (1, 2 or 5 × 10ⁿ) giving about `target` intervals over `total`. */
export function niceStep(total: number, target = 8): number {
  if (!(total > 0)) return 1;
  const raw = total / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const m = [1, 2, 5, 10].find((k) => k * mag >= raw) ?? 10;
  return m * mag;
}

/**
 * One chart's vertical grid lines from `top` to `bottom`, their time labels under `bottom`, and at
 * their left the scale named as this chart's own (`scale`, then `note` under it), so no one reads
 * lengths across charts.
 */
export function timeGrid(f: TimeFrame, top: number, bottom: number, scale: string, note: string | null = null): string {
  const step = niceStep(f.totalMs);
  const parts: string[] = [];
  const y = px(bottom + 13);
  for (let t = 0; t <= f.totalMs + step * 1e-9; t += step) {
    const x = px(xOf(f, t));
    const label = t === 0 ? '0' : duration(t);
    parts.push(`<line class="grid" x1="${x}" y1="${px(top)}" x2="${x}" y2="${px(bottom)}"/>`);
    parts.push(`<text class="tick" x="${x}" y="${y}" text-anchor="middle">${esc(label)}</text>`);
  }
  parts.push(`<text class="scale" x="${px(f.left - 8)}" y="${y}" text-anchor="end">${esc(scale)}</text>`);
  if (note) parts.push(`<text class="scale-note" x="${px(f.left - 8)}" y="${px(bottom + 27)}" text-anchor="end">${esc(note)}</text>`);
  return `<g class="time-axis" data-total-ms="${px(f.totalMs)}">${parts.join('')}</g>`;
}
