// The comparison: a side-by-side table of every mode and a verdict in the manner of hyperfine.

import type { RunSummary } from '../measure/stats.js';
import { bytes, duration, fixed } from './format.js';
import type { Paint } from './paint.js';

export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

export function meanSd(xs: number[]): MeanSd {
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

export interface ModeRuns {
  mode: string;
  runs: RunSummary[];
}

/** The figures the table shows, each from the same summaries the JSON export carries. */
export const METRICS: { label: string; get: (s: RunSummary) => number; show: (v: number) => string }[] = [
  { label: 'wall (fetch)', get: (s) => s.wallMs, show: duration },
  { label: 'req/s', get: (s) => s.reqPerSec, show: (v) => fixed(v, 1) },
  { label: 'p50', get: (s) => s.latency?.p50 ?? Number.NaN, show: duration },
  { label: 'p95', get: (s) => s.latency?.p95 ?? Number.NaN, show: duration },
  { label: 'achieved conc.', get: (s) => s.achievedConcurrency, show: (v) => fixed(v, 2) },
  { label: 'peak in flight', get: (s) => s.peakInFlight, show: (v) => fixed(v, 0) },
  { label: 'loop stall', get: (s) => s.loopStallMs, show: duration },
  { label: 'CPU (incl. helpers)', get: (s) => s.cpu.totalMs, show: duration },
  { label: 'memory (self)', get: (s) => s.memory.selfPeakBytes, show: bytes },
  { label: 'memory (helpers)', get: (s) => s.memory.helpersPeakBytes, show: bytes },
  { label: 'threads', get: (s) => s.threads, show: (v) => fixed(v, 0) },
  { label: 'helper processes', get: (s) => s.helpers, show: (v) => fixed(v, 0) },
  { label: 'start-up', get: (s) => s.startupMs, show: duration },
  { label: 'failed', get: (s) => s.failed, show: (v) => fixed(v, 0) },
];

function cell(m: MeanSd, show: (v: number) => string): string {
  if (!Number.isFinite(m.mean)) return '–';
  return m.n > 1 && m.sd > 0 ? `${show(m.mean)} ± ${show(m.sd)}` : show(m.mean);
}

export function compareTable(modes: ModeRuns[], paint: Paint): string {
  const header = ['', ...modes.map((m) => m.mode)];
  const rows = METRICS.map((metric) => [metric.label, ...modes.map((m) => cell(meanSd(m.runs.map(metric.get)), metric.show))]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  return [paint.bold(fmt(header)), ...rows.map(fmt)].join('\n');
}

export interface Verdict {
  fastest: string;
  other: string;
  /** other's mean wall ÷ fastest's mean wall */
  ratio: number;
  /** σ of the ratio by error propagation of both means; 0 with one run each */
  sigma: number;
  text: string;
}

/** Fastest first, as hyperfine: 'async ran 1.92 ± 0.05 times faster than threads'. */
export function verdicts(modes: ModeRuns[]): Verdict[] {
  const walls = modes.map((m) => ({ mode: m.mode, w: meanSd(m.runs.map((s) => s.wallMs)) })).sort((a, b) => a.w.mean - b.w.mean);
  const best = walls[0];
  if (!best || walls.length < 2) return [];
  return walls.slice(1).map(({ mode, w }) => {
    if (!(best.w.mean > 0)) {
      return {
        fastest: best.mode,
        other: mode,
        ratio: Number.NaN,
        sigma: Number.NaN,
        text: `${best.mode} took no measurable time; no ratio to ${mode}`,
      };
    }
    const ratio = w.mean / best.w.mean;
    const sigma = ratio * Math.sqrt((w.sd / w.mean) ** 2 + (best.w.sd / best.w.mean) ** 2);
    const withSd = w.n > 1 || best.w.n > 1;
    const text =
      ratio < 1.005
        ? `${best.mode} ran as fast as ${mode}`
        : `${best.mode} ran ${ratio.toFixed(2)}${withSd ? ` ± ${sigma.toFixed(2)}` : ''} times faster than ${mode}`;
    return { fastest: best.mode, other: mode, ratio, sigma: withSd ? sigma : 0, text };
  });
}
