// The summary for a run rebuilt from saved records: figures the records cannot hold (CPU, memory,
// loop stall, threads) are said to be unknown rather than printed as numbers.

import type { RunSummary } from '../measure/stats.js';
import type { Paint } from './paint.js';
import { summaryText } from './summary.js';

/** Figures a summary may lack; each names the summary line that shows it. */
export const FIGURES = { loopStall: 'loop stall', cpu: 'cpu', memory: 'memory', threads: 'threads' } as const;
export type Figure = keyof typeof FIGURES;

/** summaryText, with the line of each unknown figure saying so. */
export function summaryKnownText(s: RunSummary, paint: Paint, unknown: readonly Figure[] = []): string {
  const text = summaryText(s, paint);
  if (unknown.length === 0) return text;
  const labels = new Set<string>(unknown.map((f) => FIGURES[f]));
  return text
    .split('\n')
    .map((line) => {
      const m = /^ {2}([a-z][a-z ]*?) {2,}/.exec(line);
      return m && labels.has(m[1]!) ? `  ${m[1]!.padEnd(11)}  ${paint.dim('unknown (not in the records)')}` : line;
    })
    .join('\n');
}
