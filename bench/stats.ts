// The bench's statistics: medians and extremes over rounds, ignoring runs that gave no number.

/** One timed run of one tool, as saved in bench/out/results.json. */
export interface Run {
  tool: string;
  round: number;
  wallMs: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Requests the server saw during the run, and its peak in flight. */
  served: number | null;
  serverPeakInFlight: number | null;
  hwmKB: number | null;
  stderrHead: string[];
  problems: string[];
  /** P3: figures from fetchall compare's JSON. */
  json?: P3Figures | null;
  /** P4: peak RSS from /usr/bin/time, the figure used (time, else the VmHWM poll), the list size. */
  timeMaxRssKB?: number | null;
  peakRssKB?: number | null;
  urls?: number;
}

export interface P3Figures {
  mode: string | undefined;
  wallMs: number | null;
  startupMs: number | null;
  ok: number | undefined;
  failed: number | undefined;
  peakInFlight: number | undefined;
  threads: number | undefined;
  helpers: number | undefined;
  optionsConcurrency: number | undefined;
  optionsFormat: string | undefined;
  optionsQuiet: boolean | undefined;
  selfPeakBytes: number | undefined;
  helpersPeakBytes: number | undefined;
  cpuTotalMs: number | undefined;
}

type Maybe = number | null | undefined;

const finite = (xs: Maybe[]): number[] => xs.filter((x): x is number => Number.isFinite(x));

export function median(xs: Maybe[]): number | null {
  const v = finite(xs).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

export function minOf(xs: Maybe[]): number | null {
  const v = finite(xs);
  return v.length ? Math.min(...v) : null;
}

export function maxOf(xs: Maybe[]): number | null {
  const v = finite(xs);
  return v.length ? Math.max(...v) : null;
}

export interface Summary {
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
  /** Every distinct problem any of its runs had. */
  problems: string[];
  /** Median of the server's peak in flight. */
  peak: number | null;
}

/** One tool's runs, summarised (by whole-process wall time unless told otherwise). */
export function summarise(runs: Run[], toolName: string, pick: (r: Run) => Maybe = (r) => r.wallMs): Summary {
  const mine = runs.filter((r) => r.tool === toolName);
  const xs = mine.map(pick);
  return {
    n: mine.length,
    median: median(xs),
    min: minOf(xs),
    max: maxOf(xs),
    problems: [...new Set(mine.flatMap((r) => r.problems))],
    peak: median(mine.map((r) => r.serverPeakInFlight)),
  };
}

/** a ÷ b, or null when either is missing or b is zero. */
export const ratio = (a: number | null, b: number | null): number | null => (a !== null && b ? a / b : null);
