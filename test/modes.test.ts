// The three engines, end to end through the built CLI, against the built-in server: the
// server's own count of concurrent requests is the witness.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ndjson, run, start } from './helpers/cli.js';
import { leftover, processesTagged } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const ctx = useServer();

interface Rec {
  index: number;
  start: string;
  end: string;
  worker: number | null;
  ok: boolean;
  mode: string;
}

function times(recs: Rec[]) {
  return recs.map((r) => ({ ...r, s: Date.parse(r.start), e: Date.parse(r.end) }));
}

describe('async mode', () => {
  it('runs ten 600 ms requests at -c 10 all at once: every start before the first finish', async () => {
    const { server } = ctx;
    server.reset();
    const list = urls(server.url, '/delay/600', 10, '&t=async');
    const r = await run(['-c', '10', '-f', 'ndjson', '-q', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const recs = times(ndjson(r.stdout) as unknown as Rec[]);
    expect(recs).toHaveLength(10);
    expect(server.stats().peak).toBe(10);
    const firstEnd = Math.min(...recs.map((x) => x.e));
    for (const x of recs) expect(x.s).toBeLessThan(firstEnd);
    expect(recs.every((x) => x.worker === null && x.mode === 'async')).toBe(true);
  });

  it('prints every start line before the first done line in text mode', async () => {
    const { server } = ctx;
    const list = urls(server.url, '/delay/400', 6, '&t=text');
    const r = await run(['-c', '6', '--no-timeline', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const starts = lines.map((l, i) => (/ {2}start {2}#/.test(l) ? i : -1)).filter((i) => i >= 0);
    const firstDone = lines.findIndex((l) => /\bdone\b/.test(l));
    expect(starts).toHaveLength(6);
    expect(Math.max(...starts)).toBeLessThan(firstDone);
    expect(r.stdout).toMatch(/peak in flight 6/);
  });

  it('never has more than -c in flight', async () => {
    const { server } = ctx;
    server.reset();
    const r = await run(['-c', '3', '-q', ...urls(server.url, '/delay/150', 9, '&t=c3')]);
    expect(r.code, r.stderr).toBe(0);
    expect(server.stats().peak).toBe(3);
    expect(r.stdout).toMatch(/peak in flight 3\b/);
  });
});

describe('threads mode', () => {
  it('runs ten 600 ms requests in a pool of 5 as two waves, on at most 5 threads, leaving no helper', async () => {
    const { server } = ctx;
    server.reset();
    const list = urls(server.url, '/delay/600', 10, '&t=threads');
    const r = await run(['-m', 'threads', '-c', '5', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const recs = times(ndjson(r.stdout) as unknown as Rec[]).sort((a, b) => a.s - b.s);
    expect(recs).toHaveLength(10);
    expect(server.stats().peak).toBe(5);
    const workers = new Set(recs.map((x) => x.worker));
    expect(workers.size).toBeLessThanOrEqual(5);
    expect([...workers].every((w) => typeof w === 'number' && w > 0)).toBe(true);
    // Two waves: the first five overlap each other; the second five start after a first finishes.
    const firstEnd = Math.min(...recs.map((x) => x.e));
    expect(recs.slice(0, 5).every((x) => x.s < firstEnd)).toBe(true);
    expect(recs.slice(5).every((x) => x.s >= firstEnd - 5)).toBe(true);
    // The summary (stderr in ndjson mode) reports the pool start-up apart from the fetch time.
    expect(r.stderr).toMatch(/start-up .*not included/);
    expect(r.stderr).toMatch(/threads +7 \(main, relay, 5 workers\) +processes 1$/m);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it.each([
    ['threads', 1, /threads +10 \(main, relay, 8 workers\) +processes 1$/m],
    ['processes', 9, /threads +17 \(main, and a main and a relay in each pool process\) +processes 9 \(main, 8 in the pool\)/],
  ] as const)(
    '-m %s -c 8: each of 8 members blocks in its own request; %i process(es) in all, none listening',
    async (mode, count, summary) => {
      const { server } = ctx;
      server.reset();
      const list = urls(server.url, '/delay/1500', 8, `&pool=${mode}`);
      const s = start(['-m', mode, '-c', '8', '-f', 'ndjson', ...list]);
      try {
        // All 8 requests in flight at the server at once, each held by its own member.
        await until(() => server.stats().inFlight >= 8, `8 requests in flight at the server (${mode})`, 30_000);
        expect(server.stats().inFlight).toBe(8);
        const pids = processesTagged(s.tag);
        expect(pids).toHaveLength(count);
        // No key on any command line (the old helper listened with its key in argv); that nothing of
        // the run listens, and its temp files are private, test/other-user.test.ts checks as nobody.
        for (const p of pids) expect(readFileSync(`/proc/${p}/cmdline`, 'utf8')).not.toMatch(/[0-9a-f]{64}/);
        const r = await s.done;
        expect(r.code, r.stderr).toBe(0);
        expect(server.stats().peak).toBe(8);
        expect(new Set((ndjson(r.stdout) as unknown as Rec[]).map((x) => x.worker)).size).toBe(8);
        expect(r.stderr).toMatch(summary);
        expect(await leftover(r.tag)).toEqual([]);
      } finally {
        s.child.kill('SIGKILL');
      }
    },
  );
});

describe('inline mode', () => {
  it('reports the loop blocked for a short request too', async () => {
    const r = await run(['-m', 'inline', '-q', `${ctx.server.url}/delay/60?short`]);
    const stall = /loop stall\s+([\d.]+) (ms|s)/.exec(r.stdout)!;
    expect(Number(stall[1]) * (stall[2] === 's' ? 1000 : 1)).toBeGreaterThanOrEqual(60);
  });

  it('runs strictly one request at a time and shows the loop blocked', async () => {
    const { server } = ctx;
    server.reset();
    const list = urls(server.url, '/delay/300', 4, '&t=inline');
    const r = await run(['-m', 'inline', '-c', '10', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(0);
    const recs = times(ndjson(r.stdout) as unknown as Rec[]).sort((a, b) => a.s - b.s);
    expect(recs).toHaveLength(4);
    expect(server.stats().peak).toBe(1);
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.s).toBeGreaterThanOrEqual(recs[i - 1]!.e - 1);
    expect(r.stderr).toMatch(/peak in flight 1\b/);
    const stall = /loop stall\s+([\d.]+) (ms|s)/.exec(r.stderr)!;
    const stallMs = Number(stall[1]) * (stall[2] === 's' ? 1000 : 1);
    expect(stallMs).toBeGreaterThanOrEqual(300);
    expect(await leftover(r.tag)).toEqual([]);
  });
});
