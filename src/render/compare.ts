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
  /** Complete runs only: the figures, means and verdicts are theirs. */
  runs: RunSummary[];
  /** Runs cut short by a stop: shown as such, never averaged (a half run would look fast). */
  partial?: RunSummary[];
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
  /** Closing the engine after the fetch: threads and helper processes stopped; null when not measured. */
  shutdown_ms: number | null;
  /** What a user waits for: start-up + fetch + shut-down. */
  end_to_end_ms: number | null;
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
  /** cpu_ms split into user and system time (null where not measured). */
  cpu_user_ms: number | null;
  cpu_system_ms: number | null;
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
    shutdown_ms: s.shutdownMs ?? null,
    end_to_end_ms: Number.isFinite(endToEndMs(s)) ? endToEndMs(s) : null,
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
    cpu_user_ms: s.cpu.systemMs === undefined ? null : s.cpu.totalMs - s.cpu.systemMs,
    cpu_system_ms: s.cpu.systemMs ?? null,
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
  metric('cpu_ms', 'CPU (incl. pool processes)', duration),
  metric('rss_bytes', 'memory (self)', bytes),
  metric('helpers_rss_bytes', 'memory (pool processes)', bytes),
  metric('threads', 'threads', (v) => fixed(v, 0)),
  metric('helpers', 'pool processes', (v) => fixed(v, 0)),
  metric('startup_ms', 'start-up', duration),
  metric('shutdown_ms', 'shut-down', duration),
  metric('end_to_end_ms', 'end to end', duration),
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

/** Start-up + fetch + shut-down: what a user waits for. NaN when a part was not measured. */
export function endToEndMs(s: RunSummary): number {
  return s.startupMs + s.wallMs + (s.shutdownMs ?? Number.NaN);
}

/** mean, σ, min, max and median of one figure over a mode's runs. */
export interface Spread extends MeanSd {
  min: number;
  max: number;
  median: number;
}

export function spread(xs: number[]): Spread {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { ...meanSd(xs), min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN, median };
}

/** The two times a comparison judges by, each named wherever it is shown. */
export type TimeBasis = 'fetch' | 'end_to_end';

export interface Basis {
  basis: TimeBasis;
  /** How a verdict names it. */
  label: string;
  get: (s: RunSummary) => number;
}

export const BASES: Basis[] = [
  { basis: 'fetch', label: 'fetch', get: (s) => s.wallMs },
  { basis: 'end_to_end', label: 'end to end (start-up included)', get: endToEndMs },
];

/** A mode's mean over the best mode's mean on one basis, σ by error propagation of both means (as hyperfine). */
export interface Relative {
  ratio: number;
  sigma: number;
}

/** Each mode's relative figure on `get` (1 for the best, as hyperfine); NaN where there is no ratio. */
export function relative(modes: ModeRuns[], get: (s: RunSummary) => number): Relative[] {
  const ms = modes.map((m) => meanSd(m.runs.map(get)));
  const finite = ms.filter((m) => Number.isFinite(m.mean));
  const best = finite.reduce<MeanSd | null>((b, m) => (b === null || m.mean < b.mean ? m : b), null);
  return ms.map((m) => {
    if (!best || !(best.mean > 0) || !Number.isFinite(m.mean)) return { ratio: Number.NaN, sigma: Number.NaN };
    if (m === best) return { ratio: 1, sigma: 0 };
    const ratio = m.mean / best.mean;
    return { ratio, sigma: ratio * Math.sqrt((m.sd / m.mean) ** 2 + (best.sd / best.mean) ** 2) };
  });
}

function relativeCell(r: Relative, several: boolean): string {
  if (!Number.isFinite(r.ratio)) return '–';
  return several && r.ratio !== 1 ? `${r.ratio.toFixed(2)} ± ${r.sigma.toFixed(2)}` : r.ratio.toFixed(2);
}

/**
 * The hyperfine-style block: per basis, each mode's mean ± σ, min, max and its time relative to
 * the best (1.00). Rows by mode, so it stays narrow with three modes.
 */
export function timingTable(modes: ModeRuns[], paint: Paint): string {
  const several = modes.some((m) => m.runs.length > 1);
  const head = ['', 'mean ± σ', 'min', 'max', 'relative'];
  const rows: (string[] | string)[] = [];
  for (const b of BASES) {
    rows.push(b.basis === 'fetch' ? 'fetch (first start to last finish)' : 'end to end (start-up + fetch + shut-down)');
    const rel = relative(modes, b.get);
    modes.forEach((m, i) => {
      const x = spread(m.runs.map(b.get));
      const ok = Number.isFinite(x.mean);
      rows.push([
        `  ${m.mode}`,
        ok ? cell(x, duration) : '–',
        ok ? duration(x.min) : '–',
        ok ? duration(x.max) : '–',
        relativeCell(rel[i]!, several),
      ]);
    });
  }
  const table = rows.filter((r): r is string[] => Array.isArray(r));
  const widths = head.map((_, i) => Math.max(...[head, ...table].map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  return [paint.bold(fmt(head).trimEnd()), ...rows.map((r) => (Array.isArray(r) ? fmt(r) : paint.dim(r)))].join('\n');
}

export interface Verdict {
  /** What was timed: the fetch alone, or end to end (start-up + fetch + shut-down). */
  basis: TimeBasis;
  fastest: string;
  other: string;
  /** other's mean ÷ fastest's mean, on this basis */
  ratio: number;
  /** σ of the ratio by error propagation of both means; 0 with one run each */
  sigma: number;
  /** The difference is within the noise (see `withinNoise`): no winner is named. */
  within_noise: boolean;
  text: string;
}

/** With one run each there is no σ: two runs of one mode can differ by this much (5 %) on a quiet machine. */
export const SINGLE_RUN_NOISE = 0.05;

/**
 * Whether `ratio` (≥ 1) tells two modes apart: not while its excess over 1 is within the ratio's
 * σ (several runs), or within SINGLE_RUN_NOISE (one run each, where there is no σ to go by).
 */
export function withinNoise(ratio: number, sigma: number, several: boolean): boolean {
  return ratio - 1 < (several ? sigma : SINGLE_RUN_NOISE);
}

/** '(within noise: 1.03 ± 0.05 times)', '(within noise: 1.03 times, under the 5 % one run can vary)' */
function noiseNote(ratio: number, sigma: number, several: boolean): string {
  return several
    ? `(within noise: ${ratio.toFixed(2)} ± ${sigma.toFixed(2)} times)`
    : `(within noise: ${ratio.toFixed(2)} times, under the ${SINGLE_RUN_NOISE * 100} % one run can vary)`;
}

/**
 * Fastest first, as hyperfine, once per basis, each naming it:
 * 'fetch: async ran 1.92 ± 0.05 times faster than threads',
 * 'end to end (start-up included): async ran 2.90 ± 0.20 times faster than threads';
 * within the noise, no winner: 'fetch: async ran about as fast as threads (within noise: …)'.
 */
export function verdicts(modes: ModeRuns[]): Verdict[] {
  return BASES.flatMap((b) => basisVerdicts(modes, b));
}

function basisVerdicts(modes: ModeRuns[], b: Basis): Verdict[] {
  const times = modes
    .map((m) => ({ mode: m.mode, w: meanSd(m.runs.map(b.get)) }))
    .filter((x) => Number.isFinite(x.w.mean))
    .sort((x, y) => x.w.mean - y.w.mean);
  const best = times[0];
  if (!best || times.length < 2) return [];
  return times.slice(1).map(({ mode, w }) => {
    const base = { basis: b.basis, fastest: best.mode, other: mode };
    if (!(best.w.mean > 0)) {
      return {
        ...base,
        ratio: Number.NaN,
        sigma: Number.NaN,
        within_noise: false,
        text: `${b.label}: ${best.mode} took no measurable time; no ratio to ${mode}`,
      };
    }
    const ratio = w.mean / best.w.mean;
    const sigma = ratio * Math.sqrt((w.sd / w.mean) ** 2 + (best.w.sd / best.w.mean) ** 2);
    const withSd = w.n > 1 || best.w.n > 1;
    const tie = withinNoise(ratio, sigma, withSd);
    const text = tie
      ? `${b.label}: ${best.mode} ran about as fast as ${mode} ${noiseNote(ratio, sigma, withSd)}`
      : `${b.label}: ${best.mode} ran ${ratio.toFixed(2)}${withSd ? ` ± ${sigma.toFixed(2)}` : ''} times faster than ${mode}`;
    return { ...base, ratio, sigma: withSd ? sigma : 0, within_noise: tie, text };
  });
}

/** A cost is worth a verdict line only when one mode pays several times what another does. */
export const COST_FACTOR = 2;

export interface CostVerdict {
  basis: 'memory' | 'cpu';
  /** The mode that used less. */
  cheaper: string;
  other: string;
  /** other's mean ÷ cheaper's mean (≥ COST_FACTOR) */
  ratio: number;
  sigma: number;
  /** Twice the cost, but within the noise of several runs: no winner is named. */
  within_noise: boolean;
  text: string;
}

const COSTS: { basis: CostVerdict['basis']; label: string; what: string; get: (s: RunSummary) => number }[] = [
  {
    basis: 'memory',
    label: 'memory',
    what: 'peak RSS incl. pool processes',
    get: (s) => s.memory.selfPeakBytes + s.memory.helpersPeakBytes,
  },
  { basis: 'cpu', label: 'CPU', what: 'user + sys incl. pool processes', get: (s) => s.cpu.totalMs },
];

/** 'memory: async used 5.1 times less than processes (peak RSS incl. pool processes)', only where the ratio is ≥ COST_FACTOR. */
export function costVerdicts(modes: ModeRuns[]): CostVerdict[] {
  return COSTS.flatMap((c) => {
    const xs = modes
      .map((m) => ({ mode: m.mode, x: meanSd(m.runs.map(c.get)) }))
      .filter((v) => Number.isFinite(v.x.mean))
      .sort((a, b) => a.x.mean - b.x.mean);
    const best = xs[0];
    if (!best || !(best.x.mean > 0)) return [];
    return xs.slice(1).flatMap(({ mode, x }) => {
      const ratio = x.mean / best.x.mean;
      if (ratio < COST_FACTOR) return [];
      const sigma = ratio * Math.sqrt((x.sd / x.mean) ** 2 + (best.x.sd / best.x.mean) ** 2);
      // Only σ can undo a ratio of 2 or more: one run's 5 % is far below it.
      const several = x.n > 1 || best.x.n > 1;
      const tie = several && withinNoise(ratio, sigma, true);
      const text = tie
        ? `${c.label}: ${best.mode} used about as much as ${mode} (${c.what}; within noise: ${ratio.toFixed(1)} ± ${sigma.toFixed(1)} times)`
        : `${c.label}: ${best.mode} used ${ratio.toFixed(1)} times less than ${mode} (${c.what})`;
      return [{ basis: c.basis, cheaper: best.mode, other: mode, ratio, sigma, within_noise: tie, text }];
    });
  });
}

/** Every verdict line, time first, in the order they are printed. */
export function verdictLines(modes: ModeRuns[]): string[] {
  return [...verdicts(modes), ...costVerdicts(modes)].map((v) => v.text);
}

/** A run this far from its mode's median (either way) is named. */
export const OUTLIER_FACTOR = 1.5;
/** …or this many σ of the other runs away from their mean, and at least OUTLIER_FLOOR of it. */
export const OUTLIER_SIGMAS = 3;
export const OUTLIER_FLOOR = 0.1;

export interface Outlier {
  mode: string;
  /** 1-based among the counted runs of the mode. */
  run: number;
  basis: TimeBasis;
  value_ms: number;
  median_ms: number;
  /** value ÷ the median of all the mode's runs */
  factor: number;
  /** distance from the mean of the other runs, in their σ (null when they do not vary) */
  sigmas: number | null;
  text: string;
}

/**
 * Runs that lie far from the others of their mode: beyond OUTLIER_FACTOR × the median, or beyond
 * OUTLIER_SIGMAS σ of the rest (by at least OUTLIER_FLOOR of their mean, so a few ms on a steady
 * run are no outlier). Needs three runs of a mode to say anything.
 */
export function outliers(modes: ModeRuns[]): Outlier[] {
  const found: Outlier[] = [];
  for (const b of BASES) {
    const label = b.basis === 'fetch' ? 'fetch' : 'end to end';
    for (const m of modes) {
      const xs = m.runs.map(b.get);
      if (xs.length < 3 || !xs.every(Number.isFinite)) continue;
      const { median } = spread(xs);
      xs.forEach((x, i) => {
        const rest = meanSd(xs.filter((_, j) => j !== i));
        const off = Math.abs(x - rest.mean);
        const sigmas = rest.sd > 0 ? off / rest.sd : null;
        const farFromMedian = median > 0 && (x > OUTLIER_FACTOR * median || x * OUTLIER_FACTOR < median);
        const farFromRest = rest.n >= 3 && sigmas !== null && sigmas > OUTLIER_SIGMAS && off > OUTLIER_FLOOR * rest.mean;
        if (!farFromMedian && !farFromRest) return;
        const factor = median > 0 ? x / median : Number.NaN;
        const by = [`${factor.toFixed(2)} × the median (${duration(median)})`];
        if (sigmas !== null) by.push(`${sigmas.toFixed(1)} σ from the other runs`);
        found.push({
          mode: m.mode,
          run: i + 1,
          basis: b.basis,
          value_ms: x,
          median_ms: median,
          factor,
          sigmas,
          text: `outlier: ${m.mode} run ${i + 1} of ${xs.length}, ${label}: ${duration(x)}, ${by.join(', ')}`,
        });
      });
    }
  }
  return found;
}

/**
 * The verdicts in plain words, for a learner: per slower mode, how its fetch compares, what its
 * start-up cost, and so what the whole run cost. Empty when there is nothing to compare.
 */
export function plainWords(modes: ModeRuns[]): string[] {
  const e2e = relative(modes, endToEndMs);
  const bestAt = e2e.findIndex((r) => r.ratio === 1);
  if (bestAt < 0) return [];
  const best = modes[bestAt]!;
  const fetchOf = (m: ModeRuns) => meanSd(m.runs.map((s) => s.wallMs)).mean;
  const startOf = (m: ModeRuns) => meanSd(m.runs.map((s) => s.startupMs)).mean;
  const times = (r: number) => `${r < 10 ? r.toFixed(1) : r.toFixed(0)} times`;
  const lines: string[] = [];
  modes.forEach((m, i) => {
    if (i === bestAt) return;
    const rf = fetchOf(m) / fetchOf(best);
    const re = e2e[i]!.ratio;
    if (!Number.isFinite(rf) || !Number.isFinite(re)) return;
    const fetch =
      rf < 0.995
        ? `${m.mode} fetched the list ${times(1 / rf)} faster than ${best.mode}`
        : rf < 1.1
          ? `${m.mode} fetched the list about as fast as ${best.mode}`
          : `${m.mode} took ${times(rf)} as long as ${best.mode} to fetch the list`;
    const extra = startOf(m) - startOf(best);
    const { helpers, threads } = m.runs[0]!;
    const what =
      m.mode === 'processes'
        ? `its ${helpers} process${helpers === 1 ? '' : 'es'}`
        : m.mode === 'threads' && threads > 2
          ? `its ${threads - 2} worker threads`
          : m.mode === 'inline'
            ? 'its relay thread'
            : 'up';
    const start = extra >= 100 ? `, ${rf < 1.1 ? 'but' : 'and'} it first spent ${duration(startOf(m))} starting ${what}` : '';
    const whole = re < 1.005 ? 'from start to finish they took the same time' : `from start to finish ${best.mode} was ${times(re)} faster`;
    lines.push(`${fetch}${start}: ${whole}.`);
  });
  return lines;
}

/** What the demo's second act (--work on fast pages) measured, and what the machine had to give it. */
export interface WorkAct {
  pages: number;
  workMs: number;
  cores: number;
  /** The one-minute load average as the act began. */
  load: number;
}

/**
 * The second act in plain words, from its own figures: async's steps one after another on its loop;
 * whether threads and processes, spreading them over the cores, were faster here — and when they
 * were not, what they needed that the machine did not have (free cores).
 */
export function workWords(modes: ModeRuns[], act: WorkAct): string {
  const wallOf = (mode: string) => {
    const m = modes.find((x) => x.mode === mode);
    return m ? meanSd(m.runs.map((s) => s.wallMs)).mean : null;
  };
  const asyncWall = wallOf('async');
  const parts = ['CPU-bound work is the other half of the lesson.'];
  if (asyncWall !== null) {
    parts.push(
      `On one event loop (async) the ${act.pages} steps of about ${duration(act.workMs)} ran one after another, whatever -c says: ${duration(asyncWall)} for ${duration(act.pages * act.workMs)} of work.`,
    );
  }
  for (const mode of ['threads', 'processes']) {
    const wall = wallOf(mode);
    if (wall === null || asyncWall === null) continue;
    const r = asyncWall / wall;
    parts.push(
      r >= 1.25
        ? `${mode} ran them on ${act.cores} cores at once: ${duration(wall)}, ${fixed(r, 1)} times faster.`
        : `${mode} took ${duration(wall)}, not faster here: spreading the steps needs idle cores, and this machine has ${act.cores} with a load average of ${fixed(act.load, 1)}.`,
    );
  }
  parts.push('In Python the GIL leaves only processes for this; in Node threads do it too, and a process costs more to start and to hold.');
  return parts.join(' ');
}

/** Words folded into lines of at most `width` columns, breaking only between words. */
export function fold(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** One row of an export: a mode on one basis, hyperfine's figures for it (ms). */
interface ExportRow {
  command: string;
  x: Spread;
  user: number;
  system: number;
  rel: Relative;
}

function exportRows(modes: ModeRuns[]): ExportRow[] {
  return BASES.flatMap((b) => {
    const rel = relative(modes, b.get);
    return modes.map((m, i) => {
      const cpu = spread(m.runs.map((s) => s.cpu.totalMs)).mean;
      const system = spread(m.runs.map((s) => s.cpu.systemMs ?? Number.NaN)).mean;
      return {
        command: `${m.mode} (${b.basis === 'fetch' ? 'fetch' : 'end to end'})`,
        x: spread(m.runs.map(b.get)),
        user: cpu - system,
        system,
        rel: rel[i]!,
      };
    });
  });
}

const ms1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '');

/**
 * hyperfine's `--export-markdown` table, one row per mode and basis ('async (fetch)',
 * 'async (end to end)'); times in ms; relative to the best mode on the same basis.
 */
export function markdownExport(modes: ModeRuns[]): string {
  const several = modes.some((m) => m.runs.length > 1);
  const rows = exportRows(modes).map(({ command, x, rel }) => {
    const mean = several && Number.isFinite(x.sd) ? `${ms1(x.mean)} ± ${ms1(x.sd)}` : ms1(x.mean);
    const r = !Number.isFinite(rel.ratio)
      ? ''
      : rel.ratio === 1 || !several
        ? rel.ratio.toFixed(2)
        : `${rel.ratio.toFixed(2)} ± ${rel.sigma.toFixed(2)}`;
    return `| \`${command}\` | ${mean} | ${ms1(x.min)} | ${ms1(x.max)} | ${r} |`;
  });
  return ['| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |', '|:---|---:|---:|---:|---:|', ...rows].join('\n');
}

/** The header of hyperfine's `--export-csv`: times in seconds, as hyperfine writes them. */
export const CSV_EXPORT_HEADER = 'command,mean,stddev,median,user,system,min,max';

/**
 * hyperfine's `--export-csv`: one row per mode and basis; times in seconds (hyperfine's unit, so
 * its readers read ours); user and system are the mean CPU time of fetchall and its helpers.
 */
export function csvExport(modes: ModeRuns[]): string {
  const sec = (v: number) => (Number.isFinite(v) ? String(Number((v / 1000).toFixed(6))) : '');
  const rows = exportRows(modes).map(({ command, x, user, system }) =>
    [command, x.mean, x.sd, x.median, user, system, x.min, x.max].map((v) => (typeof v === 'string' ? v : sec(v))).join(','),
  );
  return [CSV_EXPORT_HEADER, ...rows].join('\n');
}
