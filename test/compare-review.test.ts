// compare's edges found in review: --report keeps the end-to-end verdict, an interrupted run is
// left out of the statistics, -q still says what an interrupt left, exports' directories checked as usage.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, start } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

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

/** Wait for `test` to hold, polling; fail with `what` at the deadline. */
async function until(test: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const seen = (tag: string) => ctx.server.stats().requests.filter((x) => x.path.includes(tag)).length;

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
    const list = urls(ctx.server.url, '/delay/150', 4, '&cpart');
    const s = start(['compare', '--modes', 'async,inline', '-c', '2', '--runs', '2', '--no-timeline', '--json', json, ...list]);
    try {
      // async, inline, async, then inline's second run: stop it at its first request
      await until(() => seen('cpart') >= 13, 'the last run under way');
      s.child.kill('SIGINT');
      const r = await s.done;
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
    }
  });

  it('-q still says what an interrupt left: the partial table, or one line during the warm-up', async () => {
    const list = urls(ctx.server.url, '/delay/150', 4, '&cq1');
    const s = start(['compare', '--modes', 'async,inline', '-c', '2', '-q', ...list]);
    try {
      await until(() => seen('cq1') >= 5, 'inline under way');
      s.child.kill('SIGINT');
      const r = await s.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^Comparison.*interrupted by SIGINT/m);
      expect(r.stderr).toMatch(/^partial: inline interrupted by SIGINT/m);
    } finally {
      s.child.kill('SIGKILL');
    }
    const list2 = urls(ctx.server.url, '/delay/150', 4, '&cq2');
    const w = start(['compare', '--modes', 'async,inline', '-c', '2', '-q', '--warmup', '1', ...list2]);
    try {
      await until(() => seen('cq2') >= 1, 'the warm-up under way');
      w.child.kill('SIGINT');
      const r = await w.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/^Comparison interrupted by SIGINT during warm-up \(0 of 2 warm-up runs done\): no run finished/m);
    } finally {
      w.child.kill('SIGKILL');
    }
  });
});
