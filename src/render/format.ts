// Small number and size formatters shared by every renderer.

import { escapeControls } from './escape.js';

/** 1234 → '1.2 kB' (SI, as curl and most HTTP tools print). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** Milliseconds, readable at any scale: '0.4 ms', '501 ms', '1.50 s', '2 m 05 s'. */
export function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')} s`;
}

export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

/** Shorten to `width` characters, keeping the end (the informative part of a URL). */
export function clipStart(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return `…${s.slice(s.length - width + 1)}`;
}

export function clipEnd(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return `${s.slice(0, width - 1)}…`;
}

/** Safe to print on a terminal: control characters escaped (\x1b…), very long text cut. */
export function printable(s: string, max = 300): string {
  return clipEnd(escapeControls(s), max);
}
