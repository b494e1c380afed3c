// compare and demo through the built CLI: every mode, every run, a verdict that names the
// faster mode, figures the server agrees with.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  verdict: { fastest: string; other: string; ratio: number; sigma: number; text: string }[];
}

describe('compare', () => {
  it('runs every mode on the same list, exports every run, and names the faster mode', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'fetchall-cmp-')), 'cmp.json');
    const list = urls(ctx.server.url, '/delay/300', 4, '&cmp');
    const r = await run(['compare', '--modes', 'inline,threads,async', '-c', '4', '--runs', '2', '--json', json, ...list]);
    expect(r.code, r.stderr).toBe(0);
    const x = JSON.parse(readFileSync(json, 'utf8')) as Exported;
    expect(x.urls).toBe(4);
    expect(x.options).toMatchObject({ concurrency: 4, runs: 2, modes: ['inline', 'threads', 'async'] });
    expect(x.modes.map((m) => m.mode)).toEqual(['inline', 'threads', 'async']);
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
    const [inline, threads, async] = x.modes;
    // inline blocks the loop for at least a request; never more than one in flight
    for (const run of inline!.runs) {
      expect(run.loop_stall_ms).toBeGreaterThanOrEqual(300);
      expect(run.peak_in_flight).toBe(1);
    }
    for (const run of [...threads!.runs, ...async!.runs]) expect(run.peak_in_flight).toBe(4);
    expect(threads!.runs.every((s) => s.startup_ms > 0 && s.helpers === 4)).toBe(true);
    expect(threads!.runs.every((s) => s.helpers_rss_bytes > 0)).toBe(true);
    // inline takes four latencies, the others one: the verdict must not name inline fastest
    expect(x.verdict.map((v) => v.other)).toContain('inline');
    expect(x.verdict[0]!.fastest).not.toBe('inline');
    const vsInline = x.verdict.find((v) => v.other === 'inline')!;
    expect(vsInline.ratio).toBeGreaterThan(2);
    // the text report has each mode's timeline, the table and the verdict with ± (two runs)
    expect(r.stdout.match(/── (inline|threads|async) \(run \d\/2\) ──/g)).toHaveLength(6);
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

describe('demo', () => {
  it('runs offline on its own server and shows the server agreeing with each mode', async () => {
    const r = await run(['demo', '--modes', 'inline,async', '-c', '6', '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fetchall demo: 12 URLs on the built-in server at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/inline: peak in flight claimed 1, seen by the server 1 {2}✓/);
    expect(r.stdout).toMatch(/async: peak in flight claimed 6, seen by the server 6 {2}✓/);
    expect(r.stdout).toMatch(/async ran [\d.]+ times faster than inline/);
    expect(r.stdout).toMatch(/404/);
    expect(await leftover(r.tag)).toEqual([]);
  });
});
