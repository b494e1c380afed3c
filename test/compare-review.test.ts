// compare's edges found in review: --report keeps the end-to-end verdict, an interrupted run is
// left out of the statistics, -q still says what an interrupt left, exports' directories checked as usage.

import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, start } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';
import { until, within } from './helpers/wait.js';

const ctx = useServer();

describe('compare after review', () => {
  it('--report keeps the end-to-end measurement: both verdicts, in text and in the HTML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchall-crep-'));
    const html = join(dir, 'cr.html');
    const list = urls(ctx.server.url, '/delay/50', 4, '&crep');
    const r = await run(['compare', '--modes', 'threads,async', '-c', '4', '--no-timeline', '--report', html, ...list]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^fetch: \w+ ran /m);
    expect(r.stdout).toMatch(/^end to end \(start-up included\): \w+ ran /m);
    expect(r.stdout).toMatch(/^end to end\s+[\d.]+ m?s/m);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/end to end \(start-up included\): \w+ ran/);
  });
});

/**
 * A server that answers after 150 ms (as /delay/150), except that from its `holdFrom`-th request on
 * it holds the answer until release(): the test interrupts a run while its request is held, so the
 * run cannot finish before the signal, however slow the machine.
 */
async function holding(holdFrom: number) {
  let seen = 0;
  let released = false;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    seen++;
    req.resume();
    if (seen >= holdFrom && !released) held.push(res);
    else setTimeout(() => res.end('ok\n'), released ? 0 : 150);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen: () => seen,
    held: () => held.length,
    release() {
      released = true;
      for (const res of held.splice(0)) res.end('ok\n');
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Long enough for three runs of a compare on a loaded machine; a hang still fails with its name. */
const RUNS_DEADLINE_MS = 45_000;

describe('compare with one mode', () => {
  it('runs it and says in one line there is nothing to compare', async () => {
    const r = await run(['compare', '--modes', 'async', '-q', ...urls(ctx.server.url, '/delay/5', 2, '&one')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Comparison$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      'one mode (async): nothing to compare it with; --modes names two or more, e.g. --modes threads,async',
    );
  });
});

describe('compare interrupted', () => {
  it('leaves a partial run out of the means and verdicts, shows it as partial with its not-started count', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'fetchall-cpart-')), 'cmp.json');
    // async, inline, async, then inline's second run: its first request (the 13th) is held, and the
    // run stopped there; the held request is answered only after the signal.
    const srv = await holding(13);
    const list = urls(srv.url, '/delay/150', 4, '&cpart');
    const s = start(['compare', '--modes', 'async,inline', '-c', '2', '--runs', '2', '--no-timeline', '--json', json, ...list]);
    try {
      await until(() => srv.held() >= 1, 'the last run under way (its first request held)', RUNS_DEADLINE_MS);
      expect(srv.seen()).toBe(13);
      s.child.kill('SIGINT');
      srv.release();
      const r = await within(s.done, 'the exit after SIGINT');
      expect(r.code, r.stderr).toBe(130);
      const x = JSON.parse(readFileSync(json, 'utf8')) as {
        modes: {
          mode: string;
          runs: { wall_ms: number }[];
          partial_runs: Record<string, unknown>[];
          mean: { wall_ms: { mean: number } };
        }[];
      };
      const [async, inline] = x.modes;
      expect(async!.runs).toHaveLength(2);
      expect(inline!.runs).toHaveLength(1);
      expect(inline!.mean.wall_ms.mean).toBe(inline!.runs[0]!.wall_ms);
      expect(inline!.partial_runs).toHaveLength(1);
      const p = inline!.partial_runs[0]! as { total: number; interrupted: string; not_started: { count: number; more: boolean } };
      expect(p.interrupted).toBe('SIGINT');
      expect(p.not_started).toEqual({ count: 4 - p.total, more: false });
      expect(r.stderr).toMatch(/^partial: inline interrupted by SIGINT after .*: left out of the figures and verdicts$/m);
      expect(r.stderr).toMatch(/^fetch: async ran /m);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/input not read to the end/);
    } finally {
      s.child.kill('SIGKILL');
      await srv.close();
    }
  });

  it('-q still says what an interrupt left: the partial table, or one line during the warm-up', async () => {
    // async's 4 requests, then inline's first, held until the signal.
    const srv = await holding(5);
    const list = urls(srv.url, '/delay/150', 4, '&cq1');
    const s = start(['compare', '--modes', 'async,inline', '-c', '2', '-q', ...list]);
    try {
      await until(() => srv.held() >= 1, 'inline under way (its first request held)', RUNS_DEADLINE_MS);
      s.child.kill('SIGINT');
      srv.release();
      const r = await within(s.done, 'the exit after SIGINT');
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^Comparison.*interrupted by SIGINT/m);
      expect(r.stderr).toMatch(/^partial: inline interrupted by SIGINT/m);
    } finally {
      s.child.kill('SIGKILL');
      await srv.close();
    }
    // The warm-up's first request is held until the signal: no warm-up run can have finished.
    const srv2 = await holding(1);
    const list2 = urls(srv2.url, '/delay/150', 4, '&cq2');
    const w = start(['compare', '--modes', 'async,inline', '-c', '2', '-q', '--warmup', '1', ...list2]);
    try {
      await until(() => srv2.held() >= 1, 'the warm-up under way (its first request held)', RUNS_DEADLINE_MS);
      w.child.kill('SIGINT');
      srv2.release();
      const r = await within(w.done, 'the exit after SIGINT');
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^Comparison interrupted by SIGINT during warm-up \(0 of 2 warm-up runs done\): no run finished/m);
    } finally {
      w.child.kill('SIGKILL');
      await srv2.close();
    }
  });
});
