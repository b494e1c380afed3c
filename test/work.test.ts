// --work: a CPU-bound step after each successful page, where the mode runs its request. Its time is
// in the record; a failed page has none; on async's one event loop the steps never overlap.

import { describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { calibrate, doWork } from '../src/engines/work.js';
import { ndjson, run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();

interface Rec {
  index: number;
  ok: boolean;
  status: number | null;
  end_ms: number;
  work_ms: number | null;
}

describe('--work', () => {
  it('calibrates a fixed number of rounds for the asked length, proportional to it', () => {
    const a = calibrate(10);
    const b = calibrate(40);
    expect(a.ms).toBe(10);
    expect(a.rounds).toBeGreaterThan(0);
    // Two calibrations agree within a factor the machine's noise allows; 4 × the length ≈ 4 × the rounds.
    expect(b.rounds / a.rounds).toBeGreaterThan(1.5);
    expect(b.rounds / a.rounds).toBeLessThan(10);
    // A real computation: it takes time, and a step of 0 rounds takes next to none.
    expect(doWork({ ms: 40, rounds: b.rounds }, '00'.repeat(32))).toBeGreaterThan(0);
  });

  it.each(MODES)('%s: every ok page has its step’s time, a failed page none', async (mode) => {
    const list = [...urls(ctx.server.url, '/delay/0', 5, `&work-${mode}`), `${ctx.server.url}/status/404?work-${mode}`];
    const r = await run(['-m', mode, '-c', '2', '--work', '20', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(1);
    const recs = ndjson(r.stdout) as unknown as Rec[];
    expect(recs).toHaveLength(6);
    for (const x of recs) {
      if (x.ok) expect(x.work_ms, JSON.stringify(x)).toBeGreaterThan(0);
      else expect(x, JSON.stringify(x)).toMatchObject({ status: 404, work_ms: null });
    }
  });

  it('async: the steps take the one event loop in turn, never two at once', async () => {
    const list = urls(ctx.server.url, '/delay/0', 8, '&work-serial');
    const r = await run(['-m', 'async', '-c', '4', '--work', '20', '-f', 'ndjson', ...list]);
    expect(r.code, r.stderr).toBe(0);
    // Each step ends as its record does (end_ms); it began work_ms before. Sorted, each begins after the last ended.
    const spans = (ndjson(r.stdout) as unknown as Rec[])
      .map((x) => ({ from: x.end_ms - x.work_ms!, to: x.end_ms }))
      .sort((a, b) => a.from - b.from);
    expect(spans).toHaveLength(8);
    // records carry 0.001 ms offsets and 0.1 ms work times: 0.1 ms of rounding slack
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.from, JSON.stringify(spans)).toBeGreaterThanOrEqual(spans[i - 1]!.to - 0.1);
  });
});
