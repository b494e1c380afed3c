// The bench's text: figures, aligned tables and verdict lines, as strings (the cases print them).

import { type Run, summarise } from './stats.js';

/** Milliseconds as seconds with 3 decimals; a dash for no figure. */
export const s3 = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(3));
/** A ratio with 2 decimals; a dash for none. */
export const x2 = (r: number | null): string => (r === null ? '—' : r.toFixed(2));
export const mb = (kB: number | null): string => (kB === null ? '—' : (kB / 1024).toFixed(1));

export type Cell = string | number | null | undefined;

/** Columns aligned: the first and last left, the others right; a rule under the header. */
export function table(header: string[], rows: Cell[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: Cell[]) =>
    `  ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? String(c ?? '').padEnd(widths[i]!) : String(c ?? '').padStart(widths[i]!))).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export const COMPARISON_HEADER = ['tool', 'median s', 'min s', 'fetchall/peer', 'srv peak', 'runs', 'notes'];

/** Each tool's median and best run, fetchall's median over each peer's, against the ideal if any. */
export function comparisonTable(runs: Run[], primary: string, names: string[], idealMs: number | null): string {
  const base = summarise(runs, primary).median;
  const rows = names.map((name) => {
    const s = summarise(runs, name);
    const ratio = name === primary || base === null || s.median === null ? '—' : (base / s.median).toFixed(2);
    const notes: string[] = [];
    if (idealMs && s.median !== null) notes.push(`${(s.median / idealMs).toFixed(2)}× ideal`);
    if (s.problems.length) notes.push(`!! ${s.problems.join('; ')}`);
    return [name, s3(s.median), s3(s.min), ratio, s.peak ?? '—', s.n, notes.join('  ')];
  });
  return table(COMPARISON_HEADER, rows);
}

export function verdict(label: string, pass: boolean | null): string {
  return `  Target ${label}: ${pass === null ? 'N/A' : pass ? 'PASS' : 'FAIL'}`;
}

/** What the tools wrote on stderr, each distinct line once with its count (pids masked). */
export function stderrNotes(runs: Run[]): string[] {
  const seen = new Map<string, number>();
  for (const r of runs) {
    for (const l of r.stderrHead) {
      const key = `${r.tool}: ${l.replace(/\(node:\d+\)/, '(node:PID)')}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  if (seen.size === 0) return [];
  return ['  stderr seen:', ...[...seen].slice(0, 12).map(([k, n]) => `    ${k}${n > 1 ? `  (×${n})` : ''}`)];
}

export const firstLines = (text: string, n = 3): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, n);
