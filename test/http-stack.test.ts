// Bodies the peer ends by closing (HTTP/1.0 as python's http.server, a close-delimited HTTP/1.1 body)
// saved with -o in every mode; and a fault inside async mode's HTTP stack, which must not end the run.

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { ndjson, run } from './helpers/cli.js';
import { keepAliveResponse, type RawServer, startRaw } from './helpers/raw-server.js';

type Rec = {
  index: number;
  ok: boolean;
  bytes: number;
  attempts: number;
  file: string | null;
  error: { code: string; message: string } | null;
};
const byIndex = (stdout: string) => (ndjson(stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Large enough that the file stream pushes back many times while the socket is still sending.
const BODY = Buffer.alloc(4 * 1024 * 1024);
for (let i = 0; i < BODY.length; i++) BODY[i] = (i * 7 + (i >> 11)) & 0xff;

let dir: string;
let http10: RawServer;
let closeDelimited: RawServer;
let keepAlive: RawServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fetchall-stack-'));
  // python3 -m http.server: HTTP/1.0, a Content-Length, and the connection closed after the body.
  http10 = await startRaw((_req, socket) => {
    socket.write(`HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BODY.length}\r\n\r\n`);
    socket.end(BODY);
  });
  // HTTP/1.1 with no length: the body ends where the connection does.
  closeDelimited = await startRaw((_req, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n');
    socket.end(BODY);
  });
  keepAlive = await startRaw((req, socket) => socket.write(keepAliveResponse(req.target)));
});
afterAll(async () => {
  await Promise.all([http10?.close(), closeDelimited?.close(), keepAlive?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a body ended by the peer closing, saved with -o', () => {
  it.each(MODES)('%s: every body complete, none left as a temporary', async (mode) => {
    const out = join(dir, mode);
    const list = [`${http10.url}/a.bin`, `${http10.url}/b.bin`, `${closeDelimited.url}/c.bin`, `${closeDelimited.url}/d.bin`];
    const r = await run(['-m', mode, '-c', '4', '-f', 'ndjson', '-o', out, ...list]);
    expect(r.stderr).not.toMatch(/AssertionError|\bat \S+:\d+:\d+/);
    expect(r.code).toBe(0);
    const recs = byIndex(r.stdout);
    expect(recs.map((x) => x.ok)).toEqual([true, true, true, true]);
    for (const rec of recs) {
      expect(rec.bytes).toBe(BODY.length);
      expect(sha256(readFileSync(rec.file!))).toBe(sha256(BODY));
    }
    expect(readdirSync(out).filter((f) => f.endsWith('.part'))).toEqual([]);
    // The summary is there too (stderr in a machine format).
    expect(r.stderr).toMatch(/4 ok/);
  });
});

describe('an error thrown inside undici, where nothing catches it', () => {
  it.each([1, 3])(
    'async at -c %d: the URLs in flight fail with REQUEST_FAILED naming it, the rest are fetched, the summary printed',
    async (c) => {
      const list = ['a', 'b', 'x__stackfault__', 'c', 'd', 'e'].map((p) => `${keepAlive.url}/${p}`);
      const r = await run(['-m', 'async', '-c', String(c), '-f', 'ndjson', ...list], { env: { FETCHALL_FAULT_INJECTION: '1' } });
      expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+|^AssertionError/m);
      const recs = byIndex(r.stdout);
      expect(recs).toHaveLength(list.length);
      const faulted = recs.filter((x) => !x.ok);
      expect(faulted.map((x) => x.index)).toContain(2);
      for (const x of faulted) {
        expect(x.error).toEqual({
          code: 'REQUEST_FAILED',
          message: expect.stringMatching(/^internal HTTP-stack error \(undici\): AssertionError: injected fault/),
        });
      }
      // -c 1: only the faulted URL was in flight.
      if (c === 1) expect(faulted).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^async: ${list.length} URLs in `, 'm'));
      expect(r.code).toBe(1);
    },
  );
});
