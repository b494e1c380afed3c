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

/**
 * One run's figures as exported by `compare --json`: stable snake_case keys, each carrying its
 * unit (_ms, _bytes, per_sec; a bare name is a count). The README documents them as a schema.
 */
export interface RunFigures {
  mode: string;
  /** When the run started, in ms since the Unix epoch. */
  started_at_ms: number;
  wall_ms: number;
  startup_ms: number;
  total: number;
  ok: number;
  failed: number;
  bad_input: number;
  retries: number;
  bytes: number;
  req_per_sec: number;
  min_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  max_ms: number | null;
  achieved_concurrency: number;
  peak_in_flight: number;
  loop_stall_ms: number;
  cpu_ms: number;
  cpu_self_ms: number;
  cpu_helpers_ms: number;
  rss_bytes: number;
  helpers_rss_bytes: number;
  threads: number;
  helpers: number;
  interrupted: string | null;
  not_started: { count: number; more: boolean } | null;
}

export function runFigures(s: RunSummary): RunFigures {
  return {
    mode: s.mode,
    started_at_ms: s.startedAt,
    wall_ms: s.wallMs,
    startup_ms: s.startupMs,
    total: s.total,
    ok: s.ok,
    failed: s.failed,
    bad_input: s.badInput,
    retries: s.retries,
    bytes: s.bytes,
    req_per_sec: s.reqPerSec,
    min_ms: s.latency?.min ?? null,
    p50_ms: s.latency?.p50 ?? null,
    p95_ms: s.latency?.p95 ?? null,
    max_ms: s.latency?.max ?? null,
    achieved_concurrency: s.achievedConcurrency,
    peak_in_flight: s.peakInFlight,
    loop_stall_ms: s.loopStallMs,
    cpu_ms: s.cpu.totalMs,
    cpu_self_ms: s.cpu.selfMs,
    cpu_helpers_ms: s.cpu.helpersMs,
    rss_bytes: s.memory.selfPeakBytes,
    helpers_rss_bytes: s.memory.helpersPeakBytes,
    threads: s.threads,
    helpers: s.helpers,
    interrupted: s.interrupted,
    not_started: s.notStarted ?? null,
  };
}

type Figure = { [K in keyof RunFigures]: RunFigures[K] extends number | null ? K : never }[keyof RunFigures];

export interface Metric {
  /** The export's key, for this figure and for its mean. */
  key: Figure;
  /** The text table's row label: display only, never a key. */
  label: string;
  get: (s: RunSummary) => number;
  show: (v: number) => string;
}

/** A row of the table, read from the figure the JSON export carries under `key`. */
function metric(key: Figure, label: string, show: (v: number) => string): Metric {
  return { key, label, show, get: (s) => runFigures(s)[key] ?? Number.NaN };
}

/** The figures the table shows (and the export averages), each from the same summaries the export carries. */
export const METRICS: Metric[] = [
  metric('wall_ms', 'wall (fetch)', duration),
  metric('req_per_sec', 'req/s', (v) => fixed(v, 1)),
  metric('p50_ms', 'p50', duration),
  metric('p95_ms', 'p95', duration),
  metric('achieved_concurrency', 'achieved conc.', (v) => fixed(v, 2)),
  metric('peak_in_flight', 'peak in flight', (v) => fixed(v, 0)),
  metric('loop_stall_ms', 'loop stall', duration),
  metric('cpu_ms', 'CPU (incl. helpers)', duration),
  metric('rss_bytes', 'memory (self)', bytes),
  metric('helpers_rss_bytes', 'memory (helpers)', bytes),
  metric('threads', 'threads', (v) => fixed(v, 0)),
  metric('helpers', 'helper processes', (v) => fixed(v, 0)),
  metric('startup_ms', 'start-up', duration),
  metric('failed', 'failed', (v) => fixed(v, 0)),
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
