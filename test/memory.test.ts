// The process tree's peak memory with big bodies in flight: a blocking mode must not hold copies
// of each body (sync-request's helper would buffer, encode and send every body back).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ndjson, start } from './helpers/cli.js';
import { processesTagged } from './helpers/procs.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

/** Peak resident memory (VmHWM, bytes) of a process, or 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const MiB = 1024 * 1024;
const BODY = 50 * MiB;
// Before the fix, 4 × 50 MiB peaked at ~3.1 GB (threads) and ~1.2 GB (inline); now ~0.5 and
// ~0.2 GB, most of which is the processes themselves (node, a worker per thread; in processes mode a node per member).
const BOUND = 700 * MiB;

describe.each(['threads', 'processes', 'inline'] as const)('%s mode', (mode) => {
  it('keeps the process tree’s peak memory bounded with 4 × 50 MiB bodies at -c 4', async () => {
    const list = Array.from({ length: 4 }, (_, i) => `${ctx.server.url}/bytes/${BODY}?i=${i}`);
    const cli = start(['-m', mode, '-c', '4', '-t', '60000', '--max-size', '1GB', '-f', 'ndjson', '-q', ...list], { stdin: 'ignore' });
    // VmHWM only grows, so sampling until exit sees each process's peak (helpers live until then).
    const peaks = new Map<number, number>();
    const sample = () => {
      for (const pid of [cli.child.pid!, ...processesTagged(cli.tag)]) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, peakRss(pid)));
    };
    const timer = setInterval(sample, 20);
    let r: Awaited<typeof cli.done>;
    try {
      r = await cli.done;
    } finally {
      clearInterval(timer);
      cli.child.kill('SIGKILL');
    }
    const recs = ndjson(r.stdout) as { status: number; bytes: number; error: unknown }[];
    expect(recs).toHaveLength(4);
    for (const x of recs) expect(x).toMatchObject({ status: 200, bytes: BODY, error: null });
    const total = [...peaks.values()].reduce((a, b) => a + b, 0);
    // threads and inline are one process (their HTTP on a relay thread); processes adds its 4 members
    expect(peaks.size, 'the CLI and its pool processes were sampled').toBe(mode === 'processes' ? 5 : 1);
    expect(total, `peak RSS of the tree: ${(total / MiB).toFixed(0)} MiB`).toBeLessThan(BOUND);
  }, 120_000);
});
