// A run at a low open-file limit (ulimit -n): a measurement never ends it, every URL gets a record
// (EMFILE where its socket could not be opened), the limit is named once, and a pool starts with
// the members it can, saying so.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, type CliResult, NODE, ndjson, track } from './helpers/cli.js';
import { leftover } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();

type Rec = { index: number; ok: boolean; error: { code: string; message: string } | null };

/** The built CLI under `ulimit -n limit`, as a user's shell runs it. */
function runLimited(limit: number, args: string[]): Promise<CliResult> {
  const tag = `fetchall-test-fd-${Date.now()}-${Math.random()}`;
  const quoted = [NODE, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const child = track(
    spawn('bash', ['-c', `ulimit -n ${limit} && exec ${quoted}`], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1', FETCHALL_TEST_TAG: tag },
    }),
    tag,
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, tag })));
}

function tally(r: CliResult): { total: number; ok: number; codes: Set<string> } {
  const recs = ndjson(r.stdout) as unknown as Rec[];
  return { total: recs.length, ok: recs.filter((x) => x.ok).length, codes: new Set(recs.flatMap((x) => (x.error ? [x.error.code] : []))) };
}

describe('ulimit -n 64', () => {
  it('async at -c 100: 200 records, the failed ones EMFILE, the limit named once, the summary printed, exit 1', async () => {
    const list = urls(ctx.server.url, '/delay/50', 200, '&fd-async');
    const r = await runLimited(64, ['-m', 'async', '-c', '100', '-f', 'ndjson', '-t', '20s', ...list]);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+|uv_resident_set_memory/);
    const t = tally(r);
    expect(t.total).toBe(200);
    expect(t.ok).toBeGreaterThan(0);
    expect([...t.codes]).toEqual(['EMFILE']);
    const rec = (ndjson(r.stdout) as unknown as Rec[]).find((x) => !x.ok)!;
    expect(rec.error!.message).toMatch(/^too many open files: .*ulimit -n/);
    expect(
      r.stderr.match(/^fetchall: out of file descriptors: the open-file limit is 64 \(ulimit -n\).*-c 100 cannot work/gm),
    ).toHaveLength(1);
    expect(r.stderr).toMatch(/^async: 200 URLs in /m);
    expect(r.code).toBe(1);
  });

  it('threads at -c 10: the pool starts with fewer workers and says so; every URL ok', async () => {
    const list = urls(ctx.server.url, '/delay/5', 40, '&fd-threads');
    const r = await runLimited(64, ['-m', 'threads', '-c', '10', '-f', 'ndjson', ...list]);
    expect(r.stderr).toMatch(
      /^fetchall: threads mode started [1-9] of 10 worker threads: the open-file limit is 64 \(ulimit -n\); running with [1-9]/m,
    );
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
    expect(tally(r)).toMatchObject({ total: 40, ok: 40 });
    expect(r.stderr).toMatch(/^threads: 40 URLs in /m);
    expect(r.code).toBe(0);
    expect(await leftover(r.tag)).toEqual([]);
  });
});

describe('ulimit -n 40', () => {
  it('processes at -c 10: the pool starts with fewer processes and says so; every URL ok', async () => {
    const list = urls(ctx.server.url, '/delay/5', 20, '&fd-processes');
    const r = await runLimited(40, ['-m', 'processes', '-c', '10', '-f', 'ndjson', ...list]);
    expect(r.stderr).toMatch(/^fetchall: processes mode started [1-9] of 10 processes: the open-file limit is 40 \(ulimit -n\)/m);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+|internal error/);
    expect(tally(r)).toMatchObject({ total: 20, ok: 20 });
    expect(r.code).toBe(0);
    expect(await leftover(r.tag)).toEqual([]);
  });
});
