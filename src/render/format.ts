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

/**
 * Milliseconds, readable at any scale: '0.4 ms', '501 ms', '1.50 s', '2 m 05 s'. Each scale rounds
 * first and then picks its unit, so a carry moves up a unit (999.6 ms → '1.00 s', 119,600 ms →
 * '2 m 00 s', never '1 m 60 s').
 */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 0) return `-${duration(-ms)}`;
  if (ms < 0.95) return `${ms.toFixed(1)} ms`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.round(ms / 10) < 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
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

/** Text as the terminal shows it: colour codes take no columns. */
export function visibleLength(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * A URL cut to `width` for a terminal line: the host stays, then an ellipsis, then the end of the
 * path (the part that tells URLs on one host apart); the scheme goes first when room is short. A
 * host too long even then keeps its start, as the path keeps its end.
 */
export function shortenUrl(url: string, width: number): string {
  const w = Math.max(8, width);
  if (url.length <= w) return url;
  const m = /^((?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)([^/?#]*)(.*)$/.exec(url)!;
  const [, scheme, host, rest] = m as unknown as [string, string, string, string];
  const slash = rest.startsWith('/') ? '/' : '';
  // Some of the path's end must stay, or every URL on the host would look alike.
  const tail = Math.min(rest.length, Math.max(8, Math.floor(w / 4)));
  for (const head of [scheme + host, host]) {
    if (head.length + rest.length <= w) return head + rest;
    if (head.length + slash.length + 1 + tail <= w) {
      const room = w - head.length - slash.length - 1;
      return `${head}${slash}…${rest.slice(rest.length - room)}`;
    }
  }
  const t = Math.min(tail, w - 2);
  return `${host.slice(0, w - 1 - t)}…${rest.slice(rest.length - t)}`;
}

/**
 * A line of figures fitted to `width` without cutting a word: figures (separated by two or more
 * spaces) move whole to continuation lines, indented under the first figure of a labelled line
 * ('  latency      min …') or two columns in otherwise; a figure wider than a line breaks at its
 * own spaces. Colour codes take no columns and never separate a figure from its text.
 */
export function wrapFigures(line: string, width: number): string[] {
  if (visibleLength(line) <= width) return [line];
  const lead = /^ */.exec(line)![0].length;
  const parts = line.slice(lead).split(/( {2,})/);
  // A chunk that is only a colour code joins the next one ('\x1b[2m' + '   (per URL…)').
  const chunks: { sep: string; text: string }[] = [];
  let pending = '';
  for (let i = 0; i < parts.length; i += 2) {
    const sep = i === 0 ? '' : parts[i - 1]!;
    const text = pending + parts[i]!;
    if (visibleLength(text) === 0 && i + 2 < parts.length) {
      pending = text;
      continue;
    }
    pending = '';
    chunks.push({ sep: chunks.length === 0 ? '' : sep, text });
  }
  const first = chunks[0]!;
  const labelled = chunks.length > 1 && /^[a-z][a-z ]*$/.test(first.text) && chunks[1]!.sep.length >= 2;
  const indentCol = labelled ? lead + first.text.length + chunks[1]!.sep.length : lead + 2;
  const indent = ' '.repeat(indentCol > width / 2 ? lead + 2 : indentCol);
  const out: string[] = [];
  let cur = ' '.repeat(lead);
  let fresh = true;
  for (const c of chunks) {
    const next = fresh ? cur + c.text : cur + c.sep + c.text;
    if (fresh || visibleLength(next) <= width) {
      cur = next;
      fresh = false;
      continue;
    }
    out.push(cur);
    cur = indent + c.text;
  }
  out.push(cur);
  return out.flatMap((l) => breakWords(l, width, indent));
}

/** A line still too wide breaks at single spaces; a word wider than the line stays whole. */
function breakWords(line: string, width: number, indent: string): string[] {
  if (visibleLength(line) <= width) return [line];
  const lead = /^ */.exec(line)![0];
  const words = line.slice(lead.length).split(' ');
  const out: string[] = [];
  let cur = lead + words[0]!;
  for (const w of words.slice(1)) {
    if (visibleLength(`${cur} ${w}`) <= width) cur = `${cur} ${w}`;
    else {
      out.push(cur);
      cur = indent + w;
    }
  }
  out.push(cur);
  return out;
}
