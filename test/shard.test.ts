// --shard K/N and --shard-by: the documented hash, the parser and its env handling, and N shards
// run as separate CLI processes (in all three modes) against one server whose own log must show
// every URL fetched exactly once; the shards' records then merge back into the whole list.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../src/commands/report.js';
import { getExitCode } from '../src/exit.js';
import type { InputItem } from '../src/input.js';
import { parseShard } from '../src/options.js';
import { plain } from '../src/render/paint.js';
import { fnv1a32, inShard, shardOf } from '../src/shard.js';
import { ndjson, run, start } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

/** FNV-1a 32 as the README states it, written out again here so the documented formula is what is checked. */
function documentedShard(url: string, n: number): number {
  let h = 2166136261;
  for (const b of Buffer.from(new URL(url).origin, 'utf8')) h = Number((BigInt((h ^ b) >>> 0) * 16777619n) % 2n ** 32n);
  return h % n;
}

describe('the shard hash and parser', () => {
  it('fnv1a32 gives the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('by origin, by index, and bad lines by index: disjoint shards that cover the list exactly', () => {
    const items: InputItem[] = Array.from({ length: 500 }, (_, i) =>
      i % 37 === 5
        ? { kind: 'bad', index: i, where: `f:${i + 1}`, text: 'nope', reason: 'not a URL' }
        : { kind: 'job', job: { index: i, url: `http://h${i % 23}.example:${8000 + (i % 3)}/p?i=${i}` } },
    );
    for (const by of ['origin', 'index'] as const) {
      for (const n of [1, 2, 3, 7]) {
        const owners = items.map((item) => Array.from({ length: n }, (_, k) => k + 1).filter((k) => inShard(item, { k, n, by })));
        // Each item is in exactly one shard.
        expect(owners.every((o) => o.length === 1)).toBe(true);
        for (const [i, item] of items.entries()) {
          const want = item.kind === 'bad' || by === 'index' ? i % n : documentedShard(item.job.url, n);
          expect(owners[i]![0]! - 1).toBe(want);
        }
      }
    }
    // By origin, one origin's URLs stay together (the origin is normalized: case, default port).
    expect(shardOf({ kind: 'job', job: { index: 0, url: 'HTTP://Example.COM:80/a' } }, 5, 'origin')).toBe(
      shardOf({ kind: 'job', job: { index: 9, url: 'http://example.com/b?c' } }, 5, 'origin'),
    );
  });

  it.each([
    ['1/1', {}, { k: 1, n: 1 }],
    ['3/3', {}, { k: 3, n: 3 }],
    [' 2 / 5 ', {}, { k: 2, n: 5 }],
    ['auto/4', { JOB_COMPLETION_INDEX: '0' }, { k: 1, n: 4 }],
    ['auto/4', { JOB_COMPLETION_INDEX: '3' }, { k: 4, n: 4 }],
    ['auto/4', { FETCHALL_SHARD_INDEX: '2', JOB_COMPLETION_INDEX: '0' }, { k: 3, n: 4 }],
  ])('%j with %j → %j', (text, env, want) => {
    expect(parseShard('--shard', text, env)).toEqual(want);
  });

  it.each([
    ['0/3', {}, /K must be 1\.\.3/],
    ['4/3', {}, /K must be 1\.\.3/],
    ['1/0', {}, /N must be at least 1/],
    ['1/99999999999999999999', {}, /N must be at most 9007199254740991/],
    ['1', {}, /expected K\/N/],
    ['a/b', {}, /expected K\/N/],
    ['-1/3', {}, /expected K\/N/],
    ['auto/3', {}, /auto needs FETCHALL_SHARD_INDEX or JOB_COMPLETION_INDEX/],
    ['auto/3', { JOB_COMPLETION_INDEX: '3' }, /JOB_COMPLETION_INDEX=3 is not a shard index 0\.\.2/],
    ['auto/3', { JOB_COMPLETION_INDEX: 'x' }, /not a shard index/],
  ])('%j with %j is a usage error naming --shard', (text, env, re) => {
    expect(() => parseShard('--shard', text, env)).toThrow(re);
    expect(() => parseShard('--shard', text, env)).toThrow(/^--shard: /);
  });
});

/** A TCP port that forwards to `port`: another origin for URLs, the same server and log behind it. */
async function forwarder(port: number): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    upstream.connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${own}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('shards as separate processes against one server', () => {
  const s = useServer();
  const forwarders: Awaited<ReturnType<typeof forwarder>>[] = [];
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fetchall-shard-'));
    // Ports are random, and so is where their origins hash: add origins until each of 3 shards has one.
    const covered = () => new Set([s.server.url, ...forwarders.map((f) => f.url)].map((u) => documentedShard(u, 3))).size;
    while (forwarders.length < 5 || (covered() < 3 && forwarders.length < 40)) forwarders.push(await forwarder(s.server.port));
  });
  afterAll(async () => {
    for (const f of forwarders) await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** 60 URLs over 6 origins (the server and its forwarders), with two bad lines among them. */
  function list(tag: string): { file: string; lines: string[] } {
    const bases = [s.server.url, ...forwarders.map((f) => f.url)];
    // Every origin gets some URLs.
    expect(bases.length).toBeLessThanOrEqual(60);
    const lines = Array.from({ length: 60 }, (_, i) => `${bases[i % bases.length]}/delay/20?i=${i}&${tag}`);
    lines.splice(10, 0, 'not a url');
    lines.splice(40, 0, 'ftp://example.com/x');
    const file = join(dir, `${tag}.txt`);
    writeFileSync(file, `# shard test\n${lines.join('\n')}\n`);
    return { file, lines };
  }

  /** Paths the server saw for this tag, by their i= value. */
  function seen(tag: string): Map<number, number> {
    const counts = new Map<number, number>();
    for (const q of s.server.stats().requests) {
      if (!q.path.includes(`&${tag}`)) continue;
      const i = Number(/[?&]i=(\d+)/.exec(q.path)![1]);
      counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    return counts;
  }

  it('by origin, one shard per mode, all at once: every URL fetched exactly once, indexes kept', async () => {
    const { file, lines } = list('by-origin');
    const modes = ['async', 'threads', 'inline'];
    const children = modes.map((mode, k) => start(['-m', mode, '-c', '4', '-f', 'ndjson', '--shard', `${k + 1}/3`, file]));
    const results = await Promise.all(children.map((c) => c.done));
    type Rec = { index: number; url: string; error: { code: string } | null; shard: number };
    const records = results.flatMap((r, k) => ndjson(r.stdout).map((rec) => ({ ...rec, shard: k }) as Rec));
    // Exit 1 where a shard got a bad line, else 0.
    for (const r of results) expect([0, 1], r.stderr).toContain(r.code);
    // Every mode had a part of the list.
    for (const r of results) expect(ndjson(r.stdout).filter((rec) => rec.ok).length).toBeGreaterThan(0);

    const counts = seen('by-origin');
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // The shards' records are disjoint and cover the list; each keeps its input index.
    expect(records.map((r) => r.index).sort((a, b) => a - b)).toEqual(lines.map((_, i) => i));
    for (const r of records) expect(r.url).toBe(lines[r.index]);
    // The split follows the documented hash of the origin; bad lines go by index.
    for (const r of records) {
      const want = r.error?.code === 'BAD_INPUT' ? r.index % 3 : documentedShard(r.url, 3);
      expect(r.shard, String(r.url)).toBe(want);
    }
    // Each bad line is reported once, by the shard that owns it.
    const stderr = results.map((r) => r.stderr).join('');
    expect(stderr.match(/:12: not a URL/g)).toHaveLength(1);
    expect(stderr.match(/:42: unsupported scheme/g)).toHaveLength(1);
  }, 60_000);

  it('by index, merged back: fetchall report over the shard files gives the whole run', async () => {
    const { file } = list('by-index');
    const files = [1, 2, 3].map((k) => join(dir, `shard-${k}.ndjson`));
    const children = [1, 2, 3].map((k) => start(['-c', '4', '-f', 'ndjson', '--shard', `${k}/3`, '--shard-by', 'index', file]));
    const results = await Promise.all(children.map((c) => c.done));
    for (const [k, r] of results.entries()) {
      writeFileSync(files[k]!, r.stdout);
      const idx = ndjson(r.stdout).map((rec) => rec.index as number);
      expect(idx.length).toBeGreaterThan(0);
      expect(idx.every((i) => i % 3 === k)).toBe(true);
    }
    const counts = seen('by-index');
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // `fetchall report` is not registered in cli.ts on this branch: its command, called in-process.
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    const code = await reportCommand(
      files,
      { html: null, timeline: false },
      {
        stdout: sink,
        stderr: sink,
        stdinIsTTY: true,
        columns: 100,
        rows: 40,
        paint: plain,
        errPaint: plain,
      },
    );
    expect(getExitCode(code), out).toBe(0);
    expect(out).toMatch(/62 URLs/);
    expect(out).toMatch(/60 ok\s+2 failed/);
  }, 60_000);

  it('auto/N reads JOB_COMPLETION_INDEX (0-based), as a Kubernetes Indexed Job sets it', async () => {
    const { file } = list('auto');
    const indexes: number[][] = [];
    for (const k of [0, 1, 2]) {
      const r = await run(['-f', 'ndjson', '-c', '4', '--shard', 'auto/3', '--shard-by', 'index', file], {
        env: { JOB_COMPLETION_INDEX: String(k) },
      });
      expect([0, 1], r.stderr).toContain(r.code);
      indexes.push(ndjson(r.stdout).map((rec) => rec.index as number));
    }
    indexes.forEach((idx, k) => {
      expect(idx.every((i) => i % 3 === k)).toBe(true);
    });
    expect(indexes.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 62 }, (_, i) => i));
    const counts = seen('auto');
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(60);
  }, 60_000);

  it('bad --shard values: one usage line naming the flag, exit 2, nothing fetched', async () => {
    const url = `${s.server.url}/delay/0?bad-shard`;
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--shard', '4/3'], {}, /--shard.*K must be 1\.\.3/],
      [['--shard', 'auto/3'], { JOB_COMPLETION_INDEX: '', FETCHALL_SHARD_INDEX: '' }, /--shard.*auto needs/],
      [['--shard', 'auto/2'], { JOB_COMPLETION_INDEX: '2' }, /--shard.*JOB_COMPLETION_INDEX=2 is not a shard index 0\.\.1/],
      [['--shard', '1/2', '--shard-by', 'host'], {}, /--shard-by.*origin, index/],
    ];
    s.server.reset();
    for (const [args, env, re] of cases) {
      const r = await run([...args, url], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(s.server.stats().served).toBe(0);
  });

  it('a shard that holds none of the list says so and exits 0 (a job in an indexed set must not fail)', async () => {
    // One origin: all of it hashes to one shard; the other shard is empty.
    const url = `${s.server.url}/delay/0?empty-shard`;
    const mine = documentedShard(url, 2) + 1;
    const r = await run(['--shard', `${3 - mine}/2`, url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`nothing to fetch in shard ${3 - mine}/2`));
  });

  it('the example Kubernetes manifest runs an Indexed Job with --shard auto/N matching its completions', () => {
    const yaml = readFileSync(new URL('../examples/k8s-indexed-job.yaml', import.meta.url), 'utf8');
    expect(yaml).toMatch(/completionMode:\s*Indexed/);
    const completions = Number(/completions:\s*(\d+)/.exec(yaml)![1]);
    expect(Number(/"--shard"\s*\n\s*-\s*"auto\/(\d+)"/.exec(yaml)?.[1])).toBe(completions);
    expect(yaml).toMatch(/parallelism:\s*\d+/);
  });
});
