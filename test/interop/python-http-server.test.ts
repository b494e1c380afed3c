// python3 -m http.server, a server nobody here wrote (HTTP/1.0: every body ends with the connection), against curl on the same URLs, in every mode.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from '../../src/core/types.js';
import { ndjson, run } from '../helpers/cli.js';
import {
  type CurlResult,
  curlAll,
  FIXTURE_PATHS,
  fetchAsCurlSaw,
  makeFixtureRoot,
  missing,
  partFiles,
  type Rec,
  sha256,
  startPython,
  type WorldServer,
} from '../helpers/world.js';

const why = missing('python http.server', 'python3', 'curl');

describe.skipIf(why !== null)(`python3 -m http.server, curl the reference${why ? ` (skipped: ${why})` : ''}`, () => {
  let root: string;
  let work: string;
  let server: WorldServer;
  /** Every fixture path, and /dir, which python answers with a 301 to /dir/. */
  let list: string[];
  /** The URLs curl found below 400. */
  let okList: string[];
  let ref: Map<string, CurlResult>;

  beforeAll(async () => {
    root = makeFixtureRoot();
    work = mkdtempSync(join(tmpdir(), 'fetchall-world-python-'));
    server = await startPython(root);
    list = [...FIXTURE_PATHS, '/dir'].map((p) => server.base + p);
    ref = await curlAll(list, work);
    okList = list.filter((u) => ref.get(u)!.status < 400);
  });
  afterAll(async () => {
    // stop() rejects when python (or anything it started) is still alive after it.
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('curl, the reference, gets the fixtures as they are on disk', () => {
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
    expect(at('/dir/').status).toBe(200);
    expect(at('/').status).toBe(200);
    expect(at('/no-such-file').status).toBe(404);
    expect([at('/dir').redirects, at('/dir').urlEffective]).toEqual([1, `${server.base}/dir/`]);
  });

  describe.each(MODES)('%s', (mode) => {
    it('-o: each URL recorded as curl saw it, each body saved byte for byte, no .part left; exit 1 for the 404', async () => {
      const out = join(work, `out-${mode}`);
      const r = await fetchAsCurlSaw(mode, list, ref, out);
      // README, Exit status: 1 when one or more failed, a status ≥ 400 among them.
      expect(r.code).toBe(1);
    });

    it('no -o, every URL answering below 400: records as curl saw them, exit 0', async () => {
      const r = await fetchAsCurlSaw(mode, okList, ref, null);
      expect(r.code).toBe(0);
    });
  });

  // The case that once crashed async mode: undici 7's assert(!this.paused) when python closed the
  // connection under a body paused for a slow -o file (README, undici#5360).
  it('async, -c 2: six 3 MB bodies, two at a time, saved whole to -o', async () => {
    const big = Array.from({ length: 6 }, (_, i) => `${server.base}/3m.bin?n=${i}`);
    const want = ref.get(`${server.base}/3m.bin`)!;
    const out = join(work, 'out-big');
    const r = await run(['-m', 'async', '-c', '2', '-f', 'ndjson', '-o', out, ...big]);
    expect(r.stderr).not.toMatch(/AssertionError|internal error|\bat \S+:\d+:\d+/);
    expect(r.code).toBe(0);
    const recs = ndjson(r.stdout) as unknown as Rec[];
    expect(recs.map((x) => x.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const rec of recs) {
      expect([rec.ok, rec.status, rec.bytes, rec.error]).toEqual([true, 200, want.bytes, null]);
      expect(sha256(readFileSync(rec.file!))).toBe(want.sha256);
    }
    expect(partFiles(out)).toEqual([]);
  });
});
