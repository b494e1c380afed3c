// Every limit at its boundary, end to end in every mode against the built-in server: a body of
// exactly --max-size and one byte more, a body still arriving at the -t deadline, --max-redirects
// N and N+1 hops, and a Retry-After that the retry really waits out.

import { describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers/cli.js';
import { leftover } from './helpers/procs.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

type Rec = {
  index: number;
  ok: boolean;
  status: number | null;
  bytes: number;
  ms: number;
  attempts: number;
  error: { code: string; message: string } | null;
};
const byIndex = (stdout: string) => (ndjson(stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);

describe.each(['async', 'threads', 'processes', 'inline'] as const)('%s mode', (mode) => {
  it('takes a body of exactly --max-size bytes and fails one byte more', async () => {
    const u = ctx.server.url;
    const list = [
      `${u}/bytes/1000?max-${mode}`,
      `${u}/bytes/1001?max-${mode}`,
      `${u}/drip/1000/50?max-${mode}`,
      `${u}/drip/1001/50?max-${mode}`,
    ];
    const r = await run(['-m', mode, '-c', '2', '--max-size', '1000', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(1);
    const recs = byIndex(r.stdout);
    expect(recs.map((x) => [x.ok, x.bytes, x.error?.code ?? null])).toEqual([
      [true, 1000, null],
      [false, 0, 'SIZE_LIMIT'],
      [true, 1000, null],
      [false, 0, 'SIZE_LIMIT'],
    ]);
    expect(recs[1]!.error!.message).toMatch(/1000 bytes/);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('fails a body still arriving at the -t deadline with TIMEOUT: the deadline covers the body', async () => {
    // Headers at once, then 10 bytes over 4 s: the headers beat a 1 s deadline, the body cannot.
    const path = `/drip/10/4000?deadline-${mode}`;
    const r = await run(['-m', mode, '-t', '1000', '-f', 'ndjson', `${ctx.server.url}${path}`]);
    expect(r.code, r.stderr).toBe(1);
    const [rec] = byIndex(r.stdout);
    expect(rec).toMatchObject({ ok: false, attempts: 1, error: { code: 'TIMEOUT' } });
    // It stopped at the deadline, not when the body ended.
    expect(rec!.ms).toBeLessThan(3500);
    expect(rec!.ms).toBeGreaterThanOrEqual(900);
    // and the server saw the request start
    expect(ctx.server.stats().requests.some((q) => q.path === path)).toBe(true);
  });

  it('--max-redirects 2 follows two hops and fails on the third', async () => {
    const u = ctx.server.url;
    const list = [`${u}/redirect/2`, `${u}/redirect/3`, `${u}/absolute-redirect/2`, `${u}/absolute-redirect/3`];
    const r = await run(['-m', mode, '-c', '2', '--max-redirects', '2', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(1);
    expect(byIndex(r.stdout).map((x) => [x.status, x.error?.code ?? null])).toEqual([
      [200, null],
      [302, 'TOO_MANY_REDIRECTS'],
      [200, null],
      [302, 'TOO_MANY_REDIRECTS'],
    ]);
    const r1 = await run(['-m', mode, '--max-redirects', '1', '-f', 'ndjson', `${u}/redirect/1`, `${u}/redirect/2`]);
    expect(byIndex(r1.stdout).map((x) => x.error?.code ?? x.status)).toEqual([200, 'TOO_MANY_REDIRECTS']);
  });

  it('waits out Retry-After: 1 before the retry, by the server’s arrival times', { timeout: 30_000 }, async () => {
    const key = `ra-${mode}-${Date.now()}`;
    const path = `/flaky/1?key=${key}&retry-after=1`;
    const r = await run(['-m', mode, '--retries', '2', '-f', 'ndjson', `${ctx.server.url}${path}`]);
    expect(r.code, r.stderr).toBe(0);
    const [rec] = byIndex(r.stdout);
    expect(rec).toMatchObject({ ok: true, status: 200, attempts: 2 });
    const seen = ctx.server.stats().requests.filter((q) => q.path === path);
    expect(seen).toHaveLength(2);
    // Our own backoff for a first retry is at most 100 ms: only the header explains a second.
    expect(seen[1]!.arrival - seen[0]!.arrival).toBeGreaterThanOrEqual(950);
    // The record's time runs from the first attempt, the wait included.
    expect(rec!.ms).toBeGreaterThanOrEqual(950);
  });
});
