// --retry-max-wait: the backoff and Retry-After limit by value, then end to end in every mode
// against a server that asks for a very long wait; and a URL stopped during its retry wait.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { RunMeter } from '../src/measure/stats.js';
import { parseDuration } from '../src/options.js';
import { plain } from '../src/render/paint.js';
import { summaryText } from '../src/render/summary.js';
import { backoffMs } from '../src/scheduler/retry.js';
import { ndjson, run, start } from './helpers/cli.js';
import { leftover } from './helpers/procs.js';
import { useServer } from './helpers/server.js';
import { within } from './helpers/wait.js';

const ctx = useServer();

type Rec = {
  index: number;
  ok: boolean;
  status: number | null;
  ms: number;
  attempts: number;
  error: { code: string; message: string } | null;
};

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1500', 1500],
    ['0', 0],
    [' 10s ', 10_000],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDuration('--retry-max-wait', text)).toBe(ms);
  });

  it.each(['', 'abc', '5x', '-1', '1e3', 's', '3000000000'])('rejects %j, naming the flag', (text) => {
    expect(() => parseDuration('--retry-max-wait', text)).toThrow(UsageError);
    expect(() => parseDuration('--retry-max-wait', text)).toThrow(/--retry-max-wait/);
  });
});

describe('backoffMs', () => {
  it('grows exponentially with jitter, never above the limit', () => {
    expect(backoffMs(1, null, 10_000, () => 1)).toBe(100);
    expect(backoffMs(1, null, 10_000, () => 0)).toBe(50);
    expect(backoffMs(3, null, 10_000, () => 1)).toBe(400);
    expect(backoffMs(20, null, 10_000, () => 1)).toBe(10_000);
    // Our own backoff is clamped to the limit rather than failing the URL.
    expect(backoffMs(5, null, 150, () => 1)).toBe(150);
    expect(backoffMs(5, null, 0, () => 1)).toBe(0);
  });

  it("honours the server's Retry-After up to the limit, and refuses a longer one", () => {
    expect(backoffMs(1, 5000, 10_000, () => 1)).toBe(5000);
    expect(backoffMs(1, 10_000, 10_000, () => 1)).toBe(10_000);
    expect(backoffMs(1, 0, 10_000, () => 1)).toBe(100);
    expect(backoffMs(1, 10_001, 10_000, () => 1)).toBeNull();
    expect(backoffMs(1, 99_999_000, 10_000, () => 1)).toBeNull();
  });
});

describe('the summary', () => {
  const summaryOf = (attempts: number) => {
    const meter = new RunMeter('async', () => []);
    for (let a = 1; a <= attempts; a++) {
      meter.attemptStarted(a);
      meter.attemptEnded(meter.startedAt, meter.startedAt + 10);
    }
    meter.record({
      index: 0,
      url: 'http://127.0.0.1/',
      mode: 'async',
      ok: true,
      status: 200,
      bytes: 1,
      start: meter.startedAt,
      end: meter.startedAt + 500,
      ms: 500,
      attempts,
      worker: null,
      error: null,
      file: null,
      finalUrl: 'http://127.0.0.1/',
      redirects: 0,
      ttfbMs: 1,
      contentType: null,
    });
    return summaryText(meter.finish({ startupMs: 0, threads: 1, helpers: 0, interrupted: null, notStarted: null, blockedMs: 0 }), plain);
  };

  it('says latency includes retry waits when there were retries, and only then', () => {
    expect(summaryOf(2)).toMatch(/latency .*retry waits included/);
    expect(summaryOf(1)).not.toMatch(/retry waits/);
  });
});

describe.each(['async', 'threads', 'processes', 'inline'] as const)('%s mode', (mode) => {
  it('Retry-After: 99999 fails the URL at once with its status, naming the wait', { timeout: 30_000 }, async () => {
    const path = `/status/503?retry-after=99999&m=${mode}`;
    const r = await run(['-m', mode, '-c', '1', '--retries', '1', '-t', '2000', '-f', 'ndjson', `${ctx.server.url}${path}`]);
    expect(r.code, r.stderr).toBe(1);
    const [rec] = ndjson(r.stdout) as unknown as Rec[];
    expect(rec!.status).toBe(503);
    expect(rec!.attempts).toBe(1);
    expect(rec!.error!.code).toBe('HTTP_STATUS');
    expect(rec!.error!.message).toMatch(/Retry-After 99999 s/);
    expect(rec!.error!.message).toMatch(/--retry-max-wait 10 s/);
    expect(rec!.ms).toBeLessThan(5000);
    expect(ctx.server.stats().requests.filter((x) => x.path === path)).toHaveLength(1);
    expect(await leftover(r.tag)).toEqual([]);
  });
});

describe('--retry-max-wait end to end', () => {
  it('waits out a Retry-After within the limit, then retries', { timeout: 30_000 }, async () => {
    const path = '/status/503?retry-after=1&within';
    const r = await run(['--retries', '1', '--retry-max-wait', '3s', '-f', 'ndjson', `${ctx.server.url}${path}`]);
    expect(r.code).toBe(1);
    const [rec] = ndjson(r.stdout) as unknown as Rec[];
    expect(rec!.attempts).toBe(2);
    const seen = ctx.server.stats().requests.filter((x) => x.path === path);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.arrival - seen[0]!.arrival).toBeGreaterThanOrEqual(900);
  });

  it('a shorter limit fails a Retry-After that the default would allow', { timeout: 30_000 }, async () => {
    const r = await run([
      '--retries',
      '2',
      '--retry-max-wait',
      '500ms',
      '-f',
      'ndjson',
      `${ctx.server.url}/status/429?retry-after=2&short`,
    ]);
    const [rec] = ndjson(r.stdout) as unknown as Rec[];
    expect(rec!.status).toBe(429);
    expect(rec!.attempts).toBe(1);
    expect(rec!.error!.message).toMatch(/Retry-After 2 s.*--retry-max-wait 500 ms/);
  });

  it('a bad value is a usage error naming the flag', async () => {
    const r = await run(['--retry-max-wait', '5x', `${ctx.server.url}/delay/1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--retry-max-wait/);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
  });

  it('a URL stopped during its retry wait is recorded as ending when it was stopped', { timeout: 30_000 }, async () => {
    const path = '/status/503?retry-after=8&stopped-wait';
    const s = start(['--retries', '1', '-f', 'ndjson', `${ctx.server.url}${path}`]);
    try {
      const end = Date.now() + 15_000;
      while (!ctx.server.stats().requests.some((x) => x.path === path)) {
        if (Date.now() > end) throw new Error('the request never reached the server');
        await new Promise((r) => setTimeout(r, 20));
      }
      // Let real time pass inside the retry wait: that time belongs to the URL's record.
      await new Promise((r) => setTimeout(r, 1000));
      s.child.kill('SIGINT');
      const r = await within(s.done, 'the exit after SIGINT');
      expect(r.code).toBe(130);
      const [rec] = ndjson(r.stdout) as unknown as Rec[];
      expect(rec!.attempts).toBe(1);
      expect(rec!.ms).toBeGreaterThanOrEqual(900);
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});
