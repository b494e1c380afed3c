// nginx, a server nobody here wrote (HTTP/1.1, keep-alive, its own redirects and error pages), against curl on the same URLs, in every mode:
// also its edges (sizes around 16 KiB, 12 MB, a chunked body, gzip sent as it is), a server that closes kept-alive connections early, and TLS.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from '../../src/core/types.js';
import { ndjson, run } from '../helpers/cli.js';
import { leftover } from '../helpers/procs.js';
import {
  type CurlResult,
  curlAll,
  EDGE_PATHS,
  edgeFiles,
  expectedFromCurl,
  FIXTURE_PATHS,
  fetchAsCurlSaw,
  makeFixtureRoot,
  makeTls,
  missing,
  type NginxServer,
  partFiles,
  type Rec,
  seenInRecords,
  sha256,
  startNginx,
  tool,
  writeFiles,
} from '../helpers/world.js';

const why = missing('nginx', 'nginx', 'curl', 'openssl');

/** The README's code for a server whose chain ends in a self-signed CA nobody trusted (nginx sends leaf + CA). */
const UNTRUSTED_CA = 'SELF_SIGNED_CERT_IN_CHAIN';

const noStack = /AssertionError|internal error|\bat \S+:\d+:\d+/;

/** Which connection served a /conn request and its place on it, as nginx says ("$connection $connection_requests"). */
const conn = (body: string) => {
  const [c, n] = body.trim().split(' ').map(Number);
  return { c: c!, n: n! };
};

describe.skipIf(why !== null)(`nginx, curl the reference${why ? ` (skipped: ${why})` : ''}`, () => {
  let root: string;
  let work: string;
  let server: NginxServer;
  /** The fixtures, then nginx's own: a 302, a 302 to that 302, a 500, and /dir (a 301 to /dir/). */
  let list: string[];
  let okList: string[];
  let ref: Map<string, CurlResult>;
  /** The edges (edgeFiles) and curl's view of them. */
  let edges: string[];
  let edgeRef: Map<string, CurlResult>;
  /** The TLS server's URLs, and curl --cacert's view of them. */
  let tlsList: string[];
  let tlsRef: Map<string, CurlResult>;
  let ca: string;

  beforeAll(async () => {
    root = makeFixtureRoot();
    writeFiles(root, edgeFiles());
    work = mkdtempSync(join(tmpdir(), 'fetchall-world-nginx-work-'));
    const certs = join(work, 'tls');
    mkdirSync(certs);
    const tls = makeTls(certs);
    ca = tls.ca;
    server = await startNginx(root, { keepalive: true, tls: { cert: tls.chain, key: tls.key } });
    list = [...FIXTURE_PATHS, '/redirect', '/redirect2', '/error', '/dir'].map((p) => server.base + p);
    ref = await curlAll(list, work);
    okList = list.filter((u) => ref.get(u)!.status < 400);
    edges = EDGE_PATHS.map((p) => server.base + p);
    edgeRef = await curlAll(edges, work);
    tlsList = ['/small.txt', '/100k.bin', '/edge/16385.bin', '/redirect', '/no-such-file'].map((p) => server.tlsBase + p);
    tlsRef = await curlAll(tlsList, work, ['--cacert', ca]);
  }, 60_000);
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

  it('curl, the reference, gets the edges as they are on disk: the chunked page chunked, the .gz files unopened', () => {
    const files = edgeFiles(); // fresh random bytes: compare with what is on disk, not these
    for (const path of EDGE_PATHS.filter((p) => p.startsWith('/edge/') || p.startsWith('/raw/'))) {
      const body = readFileSync(join(root, path));
      const c = edgeRef.get(server.base + path)!;
      expect({ path, status: c.status, bytes: c.bytes, sha256: c.sha256 }).toEqual({
        path,
        status: 200,
        bytes: body.length,
        sha256: sha256(body),
      });
      expect(files[path.slice(1)]!.length).toBe(body.length);
    }
    // gzip_static always: the .gz on disk, with Content-Encoding: gzip; curl without --compressed keeps it as sent.
    const gz = readFileSync(join(root, 'gzs/hello.txt.gz'));
    expect([edgeRef.get(`${server.base}/gzs/hello.txt`)!.sha256, edgeRef.get(`${server.base}/gzs/hello.txt`)!.bytes]).toEqual([
      sha256(gz),
      gz.length,
    ]);
    const head = (path: string) =>
      execFileSync(tool('curl')!, ['-s', '--noproxy', '*', '-D', '-', '-o', '/dev/null', server.base + path], { encoding: 'utf8' });
    expect(head('/gzs/hello.txt')).toMatch(/^content-encoding: gzip\r$/im);
    // SSI: nginx cannot know the length, so the page goes chunked; the include is in it.
    const chunked = head('/chunked/page.html');
    expect(chunked).toMatch(/^transfer-encoding: chunked\r$/im);
    expect(chunked).not.toMatch(/^content-length:/im);
    expect(edgeRef.get(`${server.base}/chunked/page.html`)!.bytes).toBe(
      readFileSync(join(root, 'chunked/page.html')).length - '<!--# include virtual="/100k.bin" -->'.length + 100 * 1024,
    );
    // TLS: curl trusts the test CA with --cacert, and fails without it (60: the peer's certificate cannot be verified).
    expect(tlsList.map((u) => tlsRef.get(u)!.status)).toEqual([200, 200, 200, 200, 404]);
    let code = 0;
    try {
      execFileSync(tool('curl')!, ['-s', '--noproxy', '*', '-o', '/dev/null', tlsList[0]!]);
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(60);
  });

  describe.each(MODES)('%s', (mode) => {
    it('-o: each URL recorded as curl -L saw it (status, bytes, final_url, redirects), bodies saved byte for byte, no .part left; exit 1 for the 404 and 500', async () => {
      const out = join(work, `out-${mode}`);
      const r = await fetchAsCurlSaw(mode, list, ref, out);
      // README, Exit status: 1 when one or more failed, a status ≥ 400 among them.
      expect(r.code).toBe(1);
    });

    it('no -o, every URL answering below 400: records as curl saw them, exit 0', async () => {
      const r = await fetchAsCurlSaw(mode, okList, ref, null);
      expect(r.code).toBe(0);
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

    it('edges: 0 B, 1 B, 16383/16384/16385 B, 1 MB, 12 MB, a chunked page, gzip as sent: as curl saw them, saved byte for byte', async () => {
      const out = join(work, `edges-${mode}`);
      const r = await fetchAsCurlSaw(mode, edges, edgeRef, out, 3);
      expect(r.code, r.stderr).toBe(0);
    });

    it('a server that closes kept-alive connections after 3 requests or 1 s idle: 20 at -c 1, then 4 at --rate 1/s, all ok', async () => {
      const base = server.keepaliveBase!;
      const urls = Array.from({ length: 20 }, (_, i) => `${base}/conn?i=${i}`);
      const byCurl = execFileSync(tool('curl')!, ['-s', '--noproxy', '*', ...urls], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l !== '')
        .map(conn);
      // The reference: 20 answers, never more than 3 on a connection.
      expect(byCurl).toHaveLength(20);
      expect(Math.max(...byCurl.map((s) => s.n))).toBe(3);
      const out = join(work, `ka-${mode}`);
      const r = await run(['-m', mode, '-c', '1', '-f', 'ndjson', '-o', out, ...urls]);
      expect(r.stderr).not.toMatch(noStack);
      const recs = (ndjson(r.stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
      expect(recs.map((x) => [x.index, x.status, x.error])).toEqual(urls.map((_, i) => [i, 200, null]));
      expect(r.code).toBe(0);
      const byUs = recs.map((x) => conn(readFileSync(x.file!, 'utf8')));
      expect(Math.max(...byUs.map((s) => s.n))).toBeLessThanOrEqual(3);
      expect(new Set(byUs.map((s) => s.c)).size).toBeGreaterThanOrEqual(7);
      expect(partFiles(out)).toEqual([]);

      // Starts 1 s apart: each next request meets a connection nginx is closing or has closed.
      const slow = Array.from({ length: 4 }, (_, i) => `${base}/conn?slow=${i}`);
      const s = await run(['-m', mode, '-c', '1', '--rate', '1/s', '-f', 'ndjson', ...slow]);
      expect(s.stderr).not.toMatch(noStack);
      const slowRecs = (ndjson(s.stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
      expect(slowRecs.map((x) => [x.index, x.status, x.error])).toEqual(slow.map((_, i) => [i, 200, null]));
      expect(s.code).toBe(0);
      expect(await leftover(s.tag)).toEqual([]);
    });

    it(`TLS with a CA made at test start: with --cacert as curl --cacert saw it; without, every URL fails ${UNTRUSTED_CA}`, async () => {
      const out = join(work, `tls-${mode}`);
      const r = await run(['-m', mode, '-c', '2', '-f', 'ndjson', '--cacert', ca, '-o', out, ...tlsList]);
      expect(r.stderr).not.toMatch(noStack);
      const recs = ndjson(r.stdout) as unknown as Rec[];
      expect(recs).toHaveLength(tlsList.length);
      expect(seenInRecords(recs, tlsList.length)).toEqual(expectedFromCurl(tlsList, tlsRef, true));
      expect(partFiles(out)).toEqual([]);
      expect(r.code).toBe(1); // the 404

      const bare = join(work, `tls-bare-${mode}`);
      const n = await run(['-m', mode, '-c', '2', '-f', 'ndjson', '-o', bare, ...tlsList]);
      expect(n.stderr).not.toMatch(noStack);
      const failed = (ndjson(n.stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
      expect(failed.map((x) => [x.index, x.ok, x.status, x.error?.code, x.file])).toEqual(
        tlsList.map((_, i) => [i, false, null, UNTRUSTED_CA, null]),
      );
      expect(n.code).toBe(1);
      expect(existsSync(bare) ? partFiles(bare) : []).toEqual([]);
      expect(await leftover(n.tag)).toEqual([]);
    });
  });
});
