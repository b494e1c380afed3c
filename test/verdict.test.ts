// compare's judgements by value on fixed summaries: both time verdicts, cost verdicts, the
// relative column, outliers, the hyperfine exports and the demo's plain words.

import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/measure/stats.js';
import {
  CSV_EXPORT_HEADER,
  costVerdicts,
  csvExport,
  fold,
  type ModeRuns,
  markdownExport,
  outliers,
  plainWords,
  relative,
  runFigures,
  timingTable,
  verdictLines,
  verdicts,
  workWords,
} from '../src/render/compare.js';
import { plain } from '../src/render/paint.js';

/** One run whose figures are exactly as given. */
function run(
  mode: string,
  o: { wall: number; startup?: number; shutdown?: number; rss?: number; helpersRss?: number; cpu?: number },
): RunSummary {
  const cpu = o.cpu ?? 100;
  return {
    mode,
    startedAt: 0,
    wallMs: o.wall,
    startupMs: o.startup ?? 0,
    shutdownMs: o.shutdown ?? 0,
    total: 4,
    ok: 4,
    failed: 0,
    badInput: 0,
    bytes: 40,
    reqPerSec: 4000 / o.wall,
    latency: { min: 100, p50: 100, p95: 100, max: 100 },
    achievedConcurrency: 1,
    peakInFlight: 4,
    loopStallMs: 1,
    cpu: { selfMs: cpu, helpersMs: 0, totalMs: cpu, systemMs: cpu / 4 },
    memory: { selfPeakBytes: o.rss ?? 60e6, helpersPeakBytes: o.helpersRss ?? 0 },
    threads: mode === 'threads' ? 6 : 1,
    helpers: mode === 'processes' ? 4 : 0,
    retries: 0,
    interrupted: null,
    spans: [],
    spansDropped: 0,
    inFlight: { origin: 0, sliceMs: 1, values: [] },
  };
}

/** The case: threads fetches nearly as fast, but its start-up dominates what a user waits for. */
const threads: ModeRuns = {
  mode: 'threads',
  runs: [1030, 1040, 1020].map((wall, i) => run('threads', { wall, startup: [2000, 2100, 1900][i]!, shutdown: 50 })),
};
const async: ModeRuns = {
  mode: 'async',
  runs: [1000, 1010, 990].map((wall) => run('async', { wall, startup: 5, shutdown: 1 })),
};

describe('time verdicts', () => {
  it('judges the fetch and end to end, each naming its basis', () => {
    const v = verdicts([threads, async]);
    expect(v.map((x) => x.basis)).toEqual(['fetch', 'end_to_end']);
    expect(v.map((x) => x.text)).toEqual([
      'fetch: async ran 1.03 ± 0.01 times faster than threads',
      'end to end (start-up included): async ran 3.06 ± 0.11 times faster than threads',
    ]);
    // end to end = start-up + fetch + shut-down
    expect(v[1]!.ratio).toBeCloseTo((2000 + 1030 + 50) / (5 + 1000 + 1), 6);
    expect(runFigures(threads.runs[0]!)).toMatchObject({ startup_ms: 2000, shutdown_ms: 50, end_to_end_ms: 3080 });
  });

  it('says "about as fast as" for a tie on either basis, and never divides by zero', () => {
    const a = { mode: 'async', runs: [run('async', { wall: 500, startup: 10 })] };
    const b = { mode: 'inline', runs: [run('inline', { wall: 501, startup: 10 })] };
    expect(verdicts([a, b]).map((x) => x.text)).toEqual([
      'fetch: async ran about as fast as inline (within noise: 1.00 times, under the 5 % one run can vary)',
      'end to end (start-up included): async ran about as fast as inline (within noise: 1.00 times, under the 5 % one run can vary)',
    ]);
    const zero = { mode: 'async', runs: [run('async', { wall: 0 })] };
    expect(verdicts([zero, b])[0]!.text).toBe('fetch: async took no measurable time; no ratio to inline');
  });

  it('leaves end to end out when a part of it was not measured (records read back)', () => {
    const unknown = (m: ModeRuns): ModeRuns => ({ mode: m.mode, runs: m.runs.map((s) => ({ ...s, startupMs: Number.NaN })) });
    expect(verdicts([unknown(threads), unknown(async)]).map((x) => x.basis)).toEqual(['fetch']);
    expect(runFigures(unknown(async).runs[0]!).end_to_end_ms).toBeNull();
  });
});

describe('verdicts within noise', () => {
  const walls = (mode: string, ws: number[]): ModeRuns => ({ mode, runs: ws.map((wall) => run(mode, { wall })) });

  it('one run each: under 5 % apart names no winner, 5 % and over does', () => {
    const v = (other: number) => verdicts([walls('async', [1000]), walls('threads', [other])])[0]!;
    expect(v(1049)).toMatchObject({
      fastest: 'async',
      other: 'threads',
      within_noise: true,
      text: 'fetch: async ran about as fast as threads (within noise: 1.05 times, under the 5 % one run can vary)',
    });
    expect(v(1049).ratio).toBeCloseTo(1.049, 10);
    expect(v(1050)).toMatchObject({ within_noise: false, text: 'fetch: async ran 1.05 times faster than threads' });
    expect(v(1200)).toMatchObject({ within_noise: false, text: 'fetch: async ran 1.20 times faster than threads' });
  });

  it('several runs: a difference within the ratio’s σ names no winner, one beyond it does', () => {
    // 1.10 ± 0.16: the runs overlap, so no winner, however big 10 % looks
    const noisy = verdicts([walls('async', [900, 1100]), walls('threads', [1100, 1100])])[0]!;
    expect(noisy.ratio).toBeCloseTo(1.1, 10);
    expect(noisy.sigma).toBeCloseTo((1.1 * (Math.SQRT2 * 100)) / 1000, 10);
    expect(noisy).toMatchObject({
      within_noise: true,
      text: 'fetch: async ran about as fast as threads (within noise: 1.10 ± 0.16 times)',
    });
    // 1.03 ± 0.01: steady runs, so 3 % is a real difference (and below the one-run 5 %)
    expect(verdicts([threads, async])[0]).toMatchObject({
      within_noise: false,
      text: 'fetch: async ran 1.03 ± 0.01 times faster than threads',
    });
  });

  it('a cost twice another’s names no winner when several runs’ σ covers it', () => {
    const rss = (mode: string, xs: number[]): ModeRuns => ({ mode, runs: xs.map((r) => run(mode, { wall: 1000, rss: r })) });
    const [v] = costVerdicts([rss('async', [20e6, 100e6]), rss('threads', [130e6, 110e6])]);
    // 2.0 ± 1.9 times: the cheaper mode's runs vary more than the difference
    expect(v).toMatchObject({ basis: 'memory', within_noise: true });
    expect(v!.text).toBe('memory: async used about as much as threads (peak RSS incl. pool processes; within noise: 2.0 ± 1.9 times)');
    const [steady] = costVerdicts([rss('async', [60e6, 62e6]), rss('threads', [130e6, 128e6])]);
    expect(steady).toMatchObject({
      within_noise: false,
      text: 'memory: async used 2.1 times less than threads (peak RSS incl. pool processes)',
    });
  });
});

describe('cost verdicts', () => {
  it('speak only where one mode costs at least twice another', () => {
    const a = { mode: 'async', runs: [run('async', { wall: 1000, rss: 60e6, cpu: 100 })] };
    const t = { mode: 'threads', runs: [run('threads', { wall: 1000, rss: 100e6, helpersRss: 206e6, cpu: 190 })] };
    expect(costVerdicts([t, a]).map((x) => x.text)).toEqual([
      'memory: async used 5.1 times less than threads (peak RSS incl. pool processes)',
    ]);
    const i = { mode: 'inline', runs: [run('inline', { wall: 1000, rss: 60e6, cpu: 200 })] };
    expect(costVerdicts([i, a]).map((x) => x.text)).toEqual([
      'CPU: async used 2.0 times less than inline (user + sys incl. pool processes)',
    ]);
    expect(costVerdicts([{ mode: 'inline', runs: [run('inline', { wall: 1000, rss: 119e6, cpu: 199 })] }, a])).toEqual([]);
    // printed after the time verdicts
    expect(verdictLines([t, a]).map((l) => l.split(':')[0])).toEqual(['fetch', 'end to end (start-up included)', 'memory']);
  });
});

describe('the timing block', () => {
  it('shows mean ± σ, min, max and a relative column with 1.00 for the best', () => {
    const rel = relative([threads, async], (s) => s.wallMs);
    expect(rel[1]).toEqual({ ratio: 1, sigma: 0 });
    expect(rel[0]!.ratio).toBeCloseTo(1.03, 6);
    expect(rel[0]!.sigma).toBeCloseTo(1.03 * Math.sqrt((10 / 1030) ** 2 + (10 / 1000) ** 2), 6);
    const lines = timingTable([threads, async], plain).split('\n');
    expect(lines[0]).toMatch(/^\s+mean ± σ\s+min\s+max\s+relative$/);
    expect(lines[1]).toBe('fetch (first start to last finish)');
    expect(lines[2]).toMatch(/^ {2}threads\s+1\.03 s ± 10 ms\s+1\.02 s\s+1\.04 s\s+1\.03 ± 0\.01$/);
    expect(lines[3]).toMatch(/^ {2}async\s+1\.00 s ± 10 ms\s+990 ms\s+1\.01 s\s+1\.00$/);
    expect(lines[4]).toBe('end to end (start-up + fetch + shut-down)');
    expect(lines[5]).toMatch(/^ {2}threads\s+3\.08 s ± 110 ms\s+2\.97 s\s+3\.19 s\s+3\.06 ± 0\.11$/);
    expect(lines[6]).toMatch(/^ {2}async\s+1\.01 s ± 10 ms\s+996 ms\s+1\.02 s\s+1\.00$/);
  });
});

describe('outliers', () => {
  const walls = (mode: string, ws: number[]): ModeRuns => ({ mode, runs: ws.map((wall) => run(mode, { wall })) });

  it('names a run beyond 1.5 × the median: mode, run and by how much', () => {
    const found = outliers([walls('threads', [1000, 1010, 990, 1800])]);
    expect(found.map((x) => [x.mode, x.run, x.basis])).toEqual([
      ['threads', 4, 'fetch'],
      ['threads', 4, 'end_to_end'],
    ]);
    expect(found[0]!.factor).toBeCloseTo(1800 / 1005, 6);
    expect(found[0]!.text).toBe('outlier: threads run 4 of 4, fetch: 1.80 s, 1.79 × the median (1.00 s), 80.0 σ from the other runs');
  });

  it('names a run more than 3 σ of the others away (by at least 10%), and not a steady set', () => {
    const found = outliers([walls('async', [1000, 1001, 999, 1000, 1150])]).filter((x) => x.basis === 'fetch');
    expect(found.map((x) => x.run)).toEqual([5]);
    expect(found[0]!.sigmas).toBeGreaterThan(3);
    expect(outliers([walls('async', [1000, 1001, 999, 1000, 1060])])).toEqual([]);
    expect(outliers([walls('async', [1000, 1100, 900, 1050])])).toEqual([]);
    // two runs say nothing of which one is odd
    expect(outliers([walls('async', [1000, 3000])])).toEqual([]);
  });
});

describe('exports in hyperfine’s shapes', () => {
  it('markdown: hyperfine’s header, a row per mode and basis, relative to the best on that basis', () => {
    const lines = markdownExport([threads, async]).split('\n');
    expect(lines[0]).toBe('| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |');
    expect(lines[1]).toBe('|:---|---:|---:|---:|---:|');
    expect(lines.slice(2)).toEqual([
      '| `threads (fetch)` | 1030.0 ± 10.0 | 1020.0 | 1040.0 | 1.03 ± 0.01 |',
      '| `async (fetch)` | 1000.0 ± 10.0 | 990.0 | 1010.0 | 1.00 |',
      '| `threads (end to end)` | 3080.0 ± 110.0 | 2970.0 | 3190.0 | 3.06 ± 0.11 |',
      '| `async (end to end)` | 1006.0 ± 10.0 | 996.0 | 1016.0 | 1.00 |',
    ]);
  });

  it('csv: hyperfine’s columns, in seconds', () => {
    const [head, ...rows] = csvExport([threads, async]).split('\n');
    expect(head).toBe(CSV_EXPORT_HEADER);
    expect(head).toBe('command,mean,stddev,median,user,system,min,max');
    expect(rows[0]).toBe('threads (fetch),1.03,0.01,1.03,0.075,0.025,1.02,1.04');
    expect(rows[3]).toBe('async (end to end),1.006,0.01,1.006,0.075,0.025,0.996,1.016');
  });
});

describe('plain words for the demo', () => {
  it('says the fetch was close but the start-up was not', () => {
    expect(plainWords([threads, async])).toEqual([
      'threads fetched the list about as fast as async, but it first spent 2.00 s starting its 4 worker threads: from start to finish async was 3.1 times faster.',
    ]);
    const processes = { mode: 'processes', runs: [run('processes', { wall: 1030, startup: 2000, shutdown: 50 })] };
    expect(plainWords([processes, { mode: 'async', runs: [async.runs[0]!] }])[0]).toContain('starting its 4 processes:');
    const inline = { mode: 'inline', runs: [run('inline', { wall: 3000, startup: 20 })] };
    expect(plainWords([inline, { mode: 'async', runs: [async.runs[0]!] }])).toEqual([
      'inline took 3.0 times as long as async to fetch the list: from start to finish async was 3.0 times faster.',
    ]);
  });

  it('folds between words, never inside one', () => {
    const lines = fold(plainWords([threads, async])[0]!, 60);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines.join(' ')).toBe(plainWords([threads, async])[0]);
  });
});

describe('plain words for the second act (--work)', () => {
  const act = { pages: 24, workMs: 100, cores: 2, load: 0.3 };
  const one = (mode: string, wall: number) => ({ mode, runs: [run(mode, { wall })] });

  it('says what it measured: async one step after another, threads and processes faster by their ratio', () => {
    expect(workWords([one('async', 2600), one('threads', 1300), one('processes', 1400)], act)).toBe(
      'CPU-bound work is the other half of the lesson. On one event loop (async) the 24 steps of about 100 ms ran one after another, whatever -c says: 2.60 s for 2.40 s of work. threads ran them on 2 cores at once: 1.30 s, 2.0 times faster. processes ran them on 2 cores at once: 1.40 s, 1.9 times faster. In Python the GIL leaves only processes for this; in Node threads do it too, and a process costs more to start and to hold.',
    );
  });

  it('never claims a speed-up it did not measure: a busy machine is named with its load', () => {
    const words = workWords([one('async', 2600), one('threads', 2500)], { ...act, load: 8.26 });
    expect(words).toContain(
      'threads took 2.50 s, not faster here: spreading the steps needs idle cores, and this machine has 2 with a load average of 8.3.',
    );
    expect(words).not.toMatch(/times faster/);
  });
});
