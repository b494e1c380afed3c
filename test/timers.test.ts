// Internal timers whose delay comes from a user value (-t, a retry wait) stay within Node's timer
// limit: above 2^31-1 ms setTimeout fires after 1 ms, which turned the largest -t into no time at all.

import { describe, expect, it } from 'vitest';
import { clampTimer, iso, MAX_TIMER_MS, sleep } from '../src/core/clock.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

// The largest value the -t flag accepts (src/cli.ts).
const T_MAX = '2147483647';

describe('clampTimer', () => {
  it('keeps a delay within what setTimeout honours', () => {
    expect(clampTimer(2 ** 31 + 2000)).toBe(MAX_TIMER_MS);
    expect(clampTimer(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
    expect(clampTimer(1500)).toBe(1500);
    expect(clampTimer(-5)).toBe(0);
    expect(clampTimer(Number.NaN)).toBe(0);
  });

  it('sleep with a delay beyond the limit waits instead of firing at once', async () => {
    const stop = new AbortController();
    let slept = false;
    const s = sleep(2 ** 33, stop.signal).then(() => {
      slept = true;
    });
    // A real timer of 100 ms must come first; the overflowing sleep used to end after 1 ms.
    await new Promise((r) => setTimeout(r, 100));
    expect(slept).toBe(false);
    stop.abort();
    await s;
    expect(slept).toBe(true);
  });
});

describe.each(['async', 'threads', 'inline'] as const)('%s mode at the largest -t', (mode) => {
  it('fetches a quick URL in one attempt, without a timer warning', async () => {
    const u = ctx.server.url;
    const r = await run(['-m', mode, '-c', '2', '-t', T_MAX, '-f', 'ndjson', `${u}/bytes/10`, `${u}/bytes/20`]);
    const recs = ndjson(r.stdout) as { ok: boolean; attempts: number; bytes: number; error: unknown }[];
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning|does not fit/);
    expect(recs).toHaveLength(2);
    for (const rec of recs) expect(rec).toMatchObject({ ok: true, attempts: 1, error: null });
    expect(recs.map((x) => x.bytes).sort((a, b) => a - b)).toEqual([10, 20]);
    expect(r.code).toBe(0);
  });
});

describe('iso', () => {
  it("formats exactly as Date's toISOString, across seconds, rounding and far years", () => {
    const base = Date.UTC(2026, 10, 25, 12, 0, 1);
    const times = [
      base,
      base + 0.4,
      base + 0.5,
      base + 9,
      base + 99.6,
      base + 999.5,
      base + 1000,
      base + 1001,
      base - 1,
      base + 5,
      0,
      -1.5,
    ];
    times.push(Date.UTC(10_000, 0, 1, 0, 0, 0, 7), Date.UTC(-1, 0, 1), base + 0.2);
    for (const t of times) expect(iso(t), String(t)).toBe(new Date(Math.round(t)).toISOString());
  });
});
