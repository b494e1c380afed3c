// curl habits: -t takes units (a bare number is ms, and a small one says so), and --fail-on
// decides which failed URLs make the exit status 1 — from the built CLI, on a real server.

import { describe, expect, it } from 'vitest';
import { parseFailOn } from '../src/options.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

describe('-t/--timeout with units', () => {
  it('takes 5s as 5000 ms: a 300 ms URL is ok, no warning', async () => {
    const r = await run(['-t', '5s', '-f', 'ndjson', '-q', `${ctx.server.url}/delay/300?t5s`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('takes 500ms and 2m; a bad unit is a usage error naming the flag', async () => {
    expect((await run(['-t', '500ms', '-q', `${ctx.server.url}/delay/1?t500`])).code).toBe(0);
    expect((await run(['-t', '2m', '-q', `${ctx.server.url}/delay/1?t2m`])).code).toBe(0);
    const bad = await run(['-t', '5 parsecs', `${ctx.server.url}/delay/1`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout/);
    expect(bad.stderr).toMatch(/duration like 500ms, 5s or 2m/);
    const zero = await run(['-t', '0', `${ctx.server.url}/delay/1`]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/at least 1 ms/);
  });

  it('warns once, on stderr, that a bare number under 100 means milliseconds — and means it', async () => {
    const r = await run(['-t', '50', '-f', 'ndjson', '-q', `${ctx.server.url}/delay/400?t50`]);
    const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
    expect(warnings).toEqual(["fetchall: warning: -t/--timeout 50 means 50 ms (a bare number is milliseconds); for seconds write '50s'"]);
    // 50 ms it is: the 400 ms URL times out.
    expect((ndjson(r.stdout)[0]!.error as { code: string }).code).toBe('TIMEOUT');
    expect(r.code).toBe(1);
    // 100 and more, or a unit, say nothing.
    for (const t of ['100', '50ms', '0.05s']) {
      const q = await run(['-t', t, '-f', 'ndjson', '-q', `${ctx.server.url}/delay/1?t=${t}`]);
      expect(q.stderr, t).not.toMatch(/warning/);
    }
  });
});

describe('--fail-on', () => {
  it('parses a class, a comma list, none; refuses the rest', () => {
    expect(parseFailOn('--fail-on', 'error,4xx,5xx')).toEqual(['error', '4xx', '5xx']);
    expect(parseFailOn('--fail-on', '5XX')).toEqual(['5xx']);
    expect(parseFailOn('--fail-on', ' 4xx , error ')).toEqual(['4xx', 'error']);
    expect(parseFailOn('--fail-on', 'none')).toEqual([]);
    expect(() => parseFailOn('--fail-on', 'none,4xx')).toThrow(/none cannot be combined/);
    expect(() => parseFailOn('--fail-on', '404')).toThrow(/error, 4xx, 5xx/);
    expect(() => parseFailOn('--fail-on', '')).toThrow();
    expect(() => parseFailOn('--fail-on', '4xx,')).toThrow(/stray comma/);
    expect(() => parseFailOn('--fail-on', ',5xx')).toThrow(/stray comma/);
  });

  it('none: a 404 is data, exit 0', async () => {
    const list = [`${ctx.server.url}/status/404?n`, `${ctx.server.url}/delay/1?n`];
    const r = await run(['--fail-on', 'none', '-f', 'ndjson', '-q', ...list]);
    expect(r.code, r.stderr).toBe(0);
    // The 404 is still recorded as the failure it is; only the status ignores it.
    const recs = ndjson(r.stdout).sort((a, b) => (a.index as number) - (b.index as number));
    expect(recs.map((x) => [x.index, x.url, x.ok, x.status, (x.error as { code: string } | null)?.code ?? null])).toEqual([
      [0, list[0], false, 404, 'HTTP_STATUS'],
      [1, list[1], true, 200, null],
    ]);
  });

  it('error: a 200 cut by --max-size is an error, not a 2xx, so it exits 1', async () => {
    const url = `${ctx.server.url}/bytes/5000?cut`;
    const r = await run(['--fail-on', 'error', '--max-size', '1000', '-f', 'ndjson', '-q', url]);
    expect(ndjson(r.stdout)).toMatchObject([{ index: 0, ok: false, status: 200, error: { code: 'SIZE_LIMIT' } }]);
    expect(r.code, r.stderr).toBe(1);
    expect((await run(['--fail-on', '4xx,5xx', '--max-size', '1000', '-q', url])).code).toBe(0);
  });

  it('5xx: a 404 exits 0, a 500 exits 1', async () => {
    expect((await run(['--fail-on', '5xx', '-q', `${ctx.server.url}/status/404?f5`])).code).toBe(0);
    expect((await run(['--fail-on', '5xx', '-q', `${ctx.server.url}/status/500?f5`])).code).toBe(1);
  });

  it('error: a refused port exits 1 while a 404 and a 503 exit 0; 4xx,5xx leaves the refused port at 0', async () => {
    expect((await run(['--fail-on', 'error', '-q', 'http://127.0.0.1:9/'])).code).toBe(1);
    expect((await run(['--fail-on', 'error', '-q', `${ctx.server.url}/status/404?fe`, `${ctx.server.url}/status/503?fe`])).code).toBe(0);
    expect((await run(['--fail-on', '4xx,5xx', '-q', 'http://127.0.0.1:9/'])).code).toBe(0);
  });

  it('a bad input line is an error', async () => {
    expect((await run(['--fail-on', 'error', '-q', 'ftp://example.com/x'])).code).toBe(1);
    expect((await run(['--fail-on', '4xx', '-q', 'ftp://example.com/x'])).code).toBe(0);
  });

  it('the default is error,4xx,5xx: a 404 exits 1', async () => {
    expect((await run(['-q', `${ctx.server.url}/status/404?d`])).code).toBe(1);
  });

  it('a bad class is a usage error naming the flag', async () => {
    const r = await run(['--fail-on', '404', `${ctx.server.url}/delay/1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fail-on/);
  });

  it('compare honours it too', async () => {
    const r = await run(['compare', '--modes', 'async', '--fail-on', 'none', '-q', `${ctx.server.url}/status/404?cmp`]);
    expect(r.code, r.stderr).toBe(0);
    const strict = await run(['compare', '--modes', 'async', '-q', `${ctx.server.url}/status/404?cmp2`]);
    expect(strict.code).toBe(1);
  });
});
