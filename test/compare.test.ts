// compare and demo through the built CLI: every mode, every run, a verdict that names the
// faster mode, figures the server agrees with.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers/cli.js';
import { leftover } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();

interface Exported {
  urls: number;
  options: { concurrency: number; modes: string[]; runs: number } & Record<string, unknown>;
  modes: {
    mode: string;
    runs: {
      wall_ms: number;
      rss_bytes: number;
      helpers_rss_bytes: number;
      startup_ms: number;
      loop_stall_ms: number;
      peak_in_flight: number;
      ok: number;
      threads: number;
      helpers: number;
    }[];
    mean: Record<string, { mean: number | null; sd: number | null }>;
  }[];
  verdict: { basis: string; fastest: string; other: string; ratio: number; sigma: number; within_noise: boolean; text: string }[];
}

/** A CSV line split on commas (our exports never quote: mode names and numbers only). */
const csvRows = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));

/** The mean of one figure of one mode in an export. */
const meanOf = (x: Exported, mode: string, key: string) => x.modes.find((m) => m.mode === mode)!.mean[key]!.mean!;

describe('compare', () => {
  it('runs every mode on the same list, exports every run, and names the faster mode', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'fetchall-cmp-')), 'cmp.json');
    const list = urls(ctx.server.url, '/delay/300', 4, '&cmp');
    const r = await run(['compare', '--modes', 'inline,threads,processes,async', '-c', '4', '--runs', '2', '--json', json, ...list]);
    expect(r.code, r.stderr).toBe(0);
    const x = JSON.parse(readFileSync(json, 'utf8')) as Exported;
    expect(x.urls).toBe(4);
    expect(x.options).toMatchObject({ concurrency: 4, runs: 2, modes: ['inline', 'threads', 'processes', 'async'] });
    expect(x.modes.map((m) => m.mode)).toEqual(['inline', 'threads', 'processes', 'async']);
    for (const m of x.modes) {
      expect(m.runs).toHaveLength(2);
      for (const run of m.runs) {
        expect(run.ok).toBe(4);
        // every key snake_case, units in the names; nothing of the display labels
        for (const key of Object.keys(run)) expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(run).toMatchObject({ req_per_sec: expect.any(Number), p50_ms: expect.any(Number), cpu_ms: expect.any(Number) });
        expect(run.rss_bytes).toBeGreaterThan(1024 * 1024);
      }
      // the means carry the same keys as the runs, each {mean, sd}, and match them
      expect(Object.keys(m.mean)).toEqual(
        expect.arrayContaining(['wall_ms', 'req_per_sec', 'p50_ms', 'p95_ms', 'cpu_ms', 'rss_bytes', 'helpers_rss_bytes', 'startup_ms']),
      );
      for (const key of Object.keys(m.mean)) expect(key in m.runs[0]!, key).toBe(true);
      const walls = m.runs.map((r) => r.wall_ms);
      expect(m.mean.wall_ms!.mean).toBeCloseTo((walls[0]! + walls[1]!) / 2, 6);
      expect(m.mean.wall_ms!.sd).toBeCloseTo(Math.abs(walls[0]! - walls[1]!) / Math.SQRT2, 6);
    }
    expect(Object.keys(x.options)).toEqual(expect.arrayContaining(['timeout_ms', 'retry_max_wait_ms', 'max_size_bytes', 'per_host']));
    expect(JSON.stringify(x)).not.toMatch(/wall \(fetch\)|CPU \(incl|wallMs|peakInFlight/);
    const [inline, threads, processes, async] = x.modes;
    // inline blocks the loop for at least a request; never more than one in flight
    for (const run of inline!.runs) {
      expect(run.loop_stall_ms).toBeGreaterThanOrEqual(300);
      expect(run.peak_in_flight).toBe(1);
    }
    for (const run of [...threads!.runs, ...processes!.runs, ...async!.runs]) expect(run.peak_in_flight).toBe(4);
    // threads: main, relay and 4 workers in one process; processes: 4 pool processes, each a main and a relay thread
    for (const s of threads!.runs) expect(s).toMatchObject({ threads: 6, helpers: 0, helpers_rss_bytes: 0 });
    for (const s of processes!.runs) {
      expect(s).toMatchObject({ threads: 1 + 2 * 4, helpers: 4 });
      expect(s.startup_ms).toBeGreaterThan(0);
      // each process holds a node runtime: tens of MB apiece
      expect(s.helpers_rss_bytes).toBeGreaterThan(4 * 20e6);
    }
    // inline takes four latencies, the others one: the verdict must not name inline fastest
    expect(x.verdict.map((v) => v.other)).toContain('inline');
    expect(x.verdict[0]!.fastest).not.toBe('inline');
    const vsInline = x.verdict.find((v) => v.other === 'inline')!;
    expect(vsInline.ratio).toBeGreaterThan(2);
    // the text report has each mode's timeline, the table and the verdict with ± (two runs)
    expect(r.stdout.match(/── (inline|threads|processes|async) \(run \d\/2\) ──/g)).toHaveLength(8);
    expect(r.stdout).toMatch(/wall \(fetch\)/);
    expect(r.stdout).toMatch(new RegExp(`${x.verdict[0]!.fastest} ran [\\d.]+ ± [\\d.]+ times faster than inline`));
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('prints every mode’s records with -f ndjson, the report on stderr', async () => {
    const list = urls(ctx.server.url, '/delay/50', 3, '&cmpnd');
    const r = await run(['compare', '--modes', 'async,inline', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const recs = ndjson(r.stdout);
    expect(recs.filter((x) => x.mode === 'async')).toHaveLength(3);
    expect(recs.filter((x) => x.mode === 'inline')).toHaveLength(3);
    expect(r.stderr).toMatch(/times faster than|as fast as/);
  });

  it('reports the peak in flight the server saw', async () => {
    const { server } = ctx;
    for (const [mode, c] of [
      ['async', 7],
      ['threads', 3],
    ] as const) {
      server.reset();
      const r = await run(['-m', mode, '-c', String(c), '-q', ...urls(server.url, '/delay/200', 9, `&peak-${mode}`)]);
      const claimed = Number(/peak in flight (\d+)/.exec(r.stdout)![1]);
      expect(claimed).toBe(server.stats().peak);
      expect(claimed).toBe(c);
    }
  });
});

describe('compare: two verdicts, hyperfine-grade', () => {
  it('judges the fetch and end to end; end to end counts the start-up and fits inside the process timed from outside', async () => {
    const list = urls(ctx.server.url, '/delay/300', 8, '&e2e');
    const json = join(mkdtempSync(join(tmpdir(), 'fetchall-e2e-')), 'cmp.json');
    // A process per member: a start-up big enough to tell the verdicts apart on a loaded machine.
    const t0 = performance.now();
    const r = await run(['compare', '--modes', 'processes,async', '-c', '4', '-q', '--json', json, ...list]);
    const outside = performance.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^fetch: \w+ ran (about as fast as \w+ \(within noise: [^)]+\)|[\d.]+ times faster than \w+)$/m);
    expect(r.stdout).toMatch(/^end to end \(start-up included\): async ran [\d.]+ times faster than processes$/m);
    const x = JSON.parse(readFileSync(json, 'utf8')) as Exported;
    const run0 = x.modes[0]!.runs[0]! as unknown as Record<string, number>;
    expect(run0.end_to_end_ms).toBeCloseTo(run0.startup_ms! + run0.wall_ms! + run0.shutdown_ms!, 6);
    expect(x.verdict.map((v) => v.basis)).toEqual(['fetch', 'end_to_end']);
    expect(x.verdict[1]!.within_noise).toBe(false);
    // processes pays for its pool before the clock of the fetch starts: end to end shows it
    const fetchRatio = meanOf(x, 'processes', 'wall_ms') / meanOf(x, 'async', 'wall_ms');
    const e2eRatio = meanOf(x, 'processes', 'end_to_end_ms') / meanOf(x, 'async', 'end_to_end_ms');
    expect(e2eRatio).toBeGreaterThan(fetchRatio);
    // Every run's end to end happened inside the compare process, one run after another: together
    // they fit in its lifetime timed from outside (spawn to close), however loaded the machine.
    // (The ratio of two separate processes timed from outside, the check before, moved with load.)
    const inside = x.modes.flatMap((m) => m.runs as unknown as Record<string, number>[]).reduce((sum, run) => sum + run.end_to_end_ms!, 0);
    expect(inside).toBeLessThanOrEqual(outside);
    // And each run's end to end holds its start-up: a run is started, fetched and shut down in it.
    for (const m of x.modes)
      for (const run of m.runs as unknown as Record<string, number>[])
        expect(run.end_to_end_ms).toBeGreaterThan(run.wall_ms! + run.startup_ms! - 1e-6);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('--warmup runs uncounted; -q prints the table and verdicts only; --json - is stdout’s only content; exports parse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchall-exp-'));
    const md = join(dir, 'cmp.md');
    const csv = join(dir, 'cmp.csv');
    const list = urls(ctx.server.url, '/delay/20', 3, '&warm');
    ctx.server.reset();
    const args = ['compare', '--modes', 'async,inline', '--runs', '2', '--warmup', '1', '-q'];
    const r = await run([...args, '--json', '-', '--export-markdown', md, '--export-csv', csv, ...list]);
    expect(r.code, r.stderr).toBe(0);
    // every mode ran 1 warm-up + 2 counted runs of 3 URLs; only the counted ones are kept
    expect(ctx.server.stats().served).toBe(2 * 3 * 3);
    const x = JSON.parse(r.stdout) as Exported & { options: { warmup: number } };
    expect(x.options.warmup).toBe(1);
    for (const m of x.modes) expect(m.runs).toHaveLength(2);
    expect(Object.keys(x.modes[0]!.mean.wall_ms!)).toEqual(['mean', 'sd', 'min', 'max']);
    // the report went to stderr, and -q left only the table and the verdicts
    expect(r.stderr).toMatch(/^Comparison \(2 runs of each mode, after 1 warm-up run each\)$/m);
    expect(r.stderr).toMatch(/^ {2}inline\s.*\s[\d.]+ ± [\d.]+$/m);
    expect(r.stderr).toMatch(/^fetch: async ran [\d.]+ ± [\d.]+ times faster than inline$/m);
    expect(r.stderr).toMatch(/^end to end \(start-up included\): async ran/m);
    expect(r.stderr).not.toMatch(/127\.0\.0\.1|── |start +#|done +#|warming up|\d+ URLs/);
    const [head, ...rows] = csvRows(readFileSync(csv, 'utf8'));
    expect(head).toEqual(['command', 'mean', 'stddev', 'median', 'user', 'system', 'min', 'max']);
    expect(rows.map((row) => row[0])).toEqual(['async (fetch)', 'inline (fetch)', 'async (end to end)', 'inline (end to end)']);
    for (const row of rows) {
      expect(row).toHaveLength(8);
      const [mean, , , , , min, max] = row.slice(1).map(Number);
      expect(min! <= mean! && mean! <= max!).toBe(true);
    }
    // seconds in csv, ms in JSON
    expect(Number(rows[0]![1]) * 1000).toBeCloseTo(meanOf(x, 'async', 'wall_ms'), 1);
    const mdLines = readFileSync(md, 'utf8').trimEnd().split('\n');
    expect(mdLines[0]!.split('|').map((c) => c.trim())).toEqual(['', 'Command', 'Mean [ms]', 'Min [ms]', 'Max [ms]', 'Relative', '']);
    expect(mdLines).toHaveLength(2 + 4);
    expect(mdLines.filter((l) => / 1\.00 \|$/.test(l))).toHaveLength(2);
  });

  it('-q in text shows no per-URL line, no run title, no timeline, no per-run summary', async () => {
    const r = await run(['compare', '--modes', 'async,inline', '-q', ...urls(ctx.server.url, '/delay/10', 3, '&quiet')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/127\.0\.0\.1|── |\|=|req\/s .*p50|URLs/);
    expect(r.stdout).toMatch(/^Comparison$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^(end to end|memory|CPU)/);
  });

  it('--json - with records on stdout is a usage error in one line', async () => {
    const r = await run(['compare', '--modes', 'async', '-f', 'ndjson', '--json', '-', `${ctx.server.url}/delay/10`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--json/);
  });

  it('compare --help lists compare’s options, plain defaults and an example', async () => {
    const r = await run(['compare', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/-m, --mode/);
    expect(r.stdout).toMatch(/--modes <list>[\s\S]*\(default: threads,async\)/);
    expect(r.stdout).toMatch(/--warmup <n>[\s\S]*--export-markdown <file>[\s\S]*--export-csv <file>/);
    expect(r.stdout).toMatch(/^Example:\n {2}fetchall compare /m);
  });
});

describe('demo', () => {
  it('runs offline on its own server and shows the server agreeing with each mode', async () => {
    const r = await run(['demo', '--modes', 'inline,async', '-c', '6', '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fetchall demo: 12 URLs on the built-in server at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/inline: peak in flight claimed 1, seen by the server 1 {2}✓/);
    expect(r.stdout).toMatch(/async: peak in flight claimed 6, seen by the server 6 {2}✓/);
    expect(r.stdout).toMatch(/^fetch: async ran [\d.]+ times faster than inline$/m);
    expect(r.stdout).toMatch(/^end to end \(start-up included\): async ran [\d.]+ times faster than inline$/m);
    // and in words a learner understands
    expect(r.stdout).toMatch(/In plain words:\ninline took [\d.]+ times as long as async to fetch the list/);
    expect(r.stdout).toMatch(/404/);
    expect(await leftover(r.tag)).toEqual([]);
  });
});
