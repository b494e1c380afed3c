// nginx, a server nobody here wrote (HTTP/1.1, keep-alive, its own redirects and error pages), against curl on the same URLs, in every mode.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from '../../src/core/types.js';
import { ndjson, run } from '../helpers/cli.js';
import { leftover } from '../helpers/procs.js';
import {
  type CurlResult,
  curlAll,
  expectedFromCurl,
  FIXTURE_PATHS,
  makeFixtureRoot,
  missing,
  partFiles,
  type Rec,
  seenInRecords,
  sha256,
  startNginx,
  tool,
  type WorldServer,
} from '../helpers/world.js';

const why = missing('nginx', 'nginx', 'curl');

/** Which connection served a /conn request and its place on it, as nginx says ("$connection $connection_requests"). */
const conn = (body: string) => {
  const [c, n] = body.trim().split(' ').map(Number);
  return { c: c!, n: n! };
};

describe.skipIf(why !== null)(`nginx, curl the reference${why ? ` (skipped: ${why})` : ''}`, () => {
  let root: string;
  let work: string;
  let server: WorldServer;
  /** The fixtures, then nginx's own: a 302, a 302 to that 302, a 500, and /dir (a 301 to /dir/). */
  let list: string[];
  let okList: string[];
  let ref: Map<string, CurlResult>;

  beforeAll(async () => {
    root = makeFixtureRoot();
    work = mkdtempSync(join(tmpdir(), 'fetchall-world-nginx-work-'));
    server = await startNginx(root);
    list = [...FIXTURE_PATHS, '/redirect', '/redirect2', '/error', '/dir'].map((p) => server.base + p);
    ref = await curlAll(list, work);
    okList = list.filter((u) => ref.get(u)!.status < 400);
  });
  afterAll(async () => {
    // stop() rejects when the master or a worker is still alive after it.
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('curl, the reference, gets the fixtures as they are on disk and follows nginx redirects', () => {
    const at = (p: string) => ref.get(server.base + p)!;
    for (const [path, file] of [
      ['/small.txt', 'small.txt'],
      ['/100k.bin', '100k.bin'],
      ['/3m.bin', '3m.bin'],
      ['/empty.txt', 'empty.txt'],
      ['/with%20space%25.txt', 'with space%.txt'],
    ] as const) {
      const body = readFileSync(join(root, file));
      expect({ path, status: at(path).status, bytes: at(path).bytes, sha256: at(path).sha256 }).toEqual({
        path,
        status: 200,
        bytes: body.length,
        sha256: sha256(body),
      });
    }
    expect([at('/no-such-file').status, at('/error').status]).toEqual([404, 500]);
    expect([at('/redirect').status, at('/redirect').redirects, at('/redirect').urlEffective]).toEqual([200, 1, `${server.base}/small.txt`]);
    expect([at('/redirect2').redirects, at('/redirect2').urlEffective]).toEqual([2, `${server.base}/small.txt`]);
    expect([at('/dir').redirects, at('/dir').urlEffective]).toEqual([1, `${server.base}/dir/`]);
  });

  describe.each(MODES)('%s', (mode) => {
    it('-o: each URL recorded as curl -L saw it (status, bytes, final_url, redirects), bodies saved byte for byte, no .part left; exit 1 for the 404 and 500', async () => {
      const out = join(work, `out-${mode}`);
      const r = await run(['-m', mode, '-c', '4', '-f', 'ndjson', '-o', out, ...list]);
      expect(r.stderr).not.toMatch(/AssertionError|internal error|\bat \S+:\d+:\d+/);
      const recs = ndjson(r.stdout) as unknown as Rec[];
      expect(recs).toHaveLength(list.length);
      expect(seenInRecords(recs, list.length)).toEqual(expectedFromCurl(list, ref, true));
      for (const rec of recs) if (rec.file !== null) expect(rec.file.startsWith(out)).toBe(true);
      expect(partFiles(out)).toEqual([]);
      // README, Exit status: 1 when one or more failed, a status ≥ 400 among them.
      expect(r.code).toBe(1);
      expect(await leftover(r.tag)).toEqual([]);
    });

    it('no -o, every URL answering below 400: records as curl saw them, exit 0', async () => {
      const r = await run(['-m', mode, '-c', '4', '-f', 'ndjson', ...okList]);
      expect(r.stderr).not.toMatch(/AssertionError|internal error|\bat \S+:\d+:\d+/);
      const recs = ndjson(r.stdout) as unknown as Rec[];
      expect(recs).toHaveLength(okList.length);
      expect(seenInRecords(recs, okList.length)).toEqual(expectedFromCurl(okList, ref, false));
      expect(r.code).toBe(0);
      expect(await leftover(r.tag)).toEqual([]);
    });

    it('-c 1, 20 requests: all ok, and on one kept-alive connection as curl uses (nginx counts them)', async () => {
      const urls = Array.from({ length: 20 }, (_, i) => `${server.base}/conn?i=${i}`);
      // curl, given all the URLs at once, reuses its connection: the reference.
      const byCurl = execFileSync(tool('curl')!, ['-s', '--noproxy', '*', ...urls], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l !== '')
        .map(conn);
      const out = join(work, `conn-${mode}`);
      const r = await run(['-m', mode, '-c', '1', '-f', 'ndjson', '-o', out, ...urls]);
      expect(r.code).toBe(0);
      const recs = ndjson(r.stdout) as unknown as Rec[];
      expect(recs).toHaveLength(20);
      expect(recs.every((x) => x.ok && x.status === 200 && x.error === null)).toBe(true);
      const byUs = recs.sort((a, b) => a.index - b.index).map((x) => conn(readFileSync(x.file!, 'utf8')));
      const connections = (seen: { c: number }[]) => new Set(seen.map((s) => s.c)).size;
      expect(connections(byCurl)).toBe(1);
      expect(connections(byUs)).toBe(connections(byCurl));
      // One request after another on it, none lost or repeated.
      expect(byUs.map((s) => s.n).sort((a, b) => a - b)).toEqual(byCurl.map((s) => s.n));
      expect(partFiles(out)).toEqual([]);
    });
  });
});
