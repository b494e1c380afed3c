// One outcome per odd response, held in every mode: each case is a raw server reply (node:net,
// so it can be malformed) and the status, bytes and error code every mode must record for it.
// The rules are in src/core/rules.ts and the README's "Odd responses" table.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_HEADERS } from '../src/core/rules.js';
import { ndjson, run } from './helpers/cli.js';

const MAX_SIZE = 1000;
const TIMEOUT_MS = 2500;

interface Case {
  /** What the server does once it has the request head (path given). */
  reply: (s: Socket, path: string) => void;
  status: number | null;
  bytes: number;
  code: string | null;
  /** Fetch with https:// (a plain-HTTP server answering a TLS client). */
  tls?: boolean;
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nConnection: close\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
const partial = `HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(39)}`;

const CASES: Record<string, Case> = {
  // RFC 9110 §15.2: a client must skip any 1xx before the final response, asked for or not.
  'interim 100 Continue, then 200': {
    reply: (s) => s.end(`HTTP/1.1 100 Continue\r\n\r\n${ok('hello')}`),
    status: 200,
    bytes: 5,
    code: null,
  },
  'interim 103 Early Hints, then 200': {
    reply: (s) => s.end(`HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${ok('hello')}`),
    status: 200,
    bytes: 5,
    code: null,
  },
  'status 099': {
    reply: (s) => s.end('HTTP/1.1 099 Odd\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello'),
    status: null,
    bytes: 0,
    code: 'PROTOCOL_ERROR',
  },
  // The first Location is followed, as curl and node:http do (never "/a,/bb").
  'two Location headers': {
    reply: (s, path) =>
      s.end(
        path.endsWith('/a')
          ? ok('a')
          : path.endsWith('/bb')
            ? ok('bb')
            : 'HTTP/1.1 302 Found\r\nConnection: close\r\nLocation: two/a\r\nLocation: two/bb\r\nContent-Length: 0\r\n\r\n',
      ),
    status: 200,
    bytes: 1,
    code: null,
  },
  'reset mid-body': {
    reply: (s) => s.write(partial, () => s.resetAndDestroy()),
    status: 200,
    bytes: 39,
    code: 'SOCKET_CLOSED',
  },
  'closed mid-body': { reply: (s) => s.end(partial), status: 200, bytes: 39, code: 'SOCKET_CLOSED' },
  'deadline mid-body': {
    reply: (s) => {
      s.write(partial);
      setTimeout(() => s.destroy(), TIMEOUT_MS * 3).unref();
    },
    status: 200,
    bytes: 39,
    code: 'TIMEOUT',
  },
  'no reply at all': { reply: (s) => s.end(), status: null, bytes: 0, code: 'SOCKET_CLOSED' },
  'not HTTP': { reply: (s) => s.end('hello there\r\n\r\n'), status: null, bytes: 0, code: 'PROTOCOL_ERROR' },
  // A declared length over --max-size is refused before any byte is read.
  'size limit, declared': {
    reply: (s) => s.end(ok('x'.repeat(5000))),
    status: 200,
    bytes: 0,
    code: 'SIZE_LIMIT',
  },
  // A streamed body is cut at the limit: bytes is the limit, whatever the read sizes were.
  'size limit, chunked': {
    reply: (s) =>
      s.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n${'x'.repeat(5000)}\r\n0\r\n\r\n`),
    status: 200,
    bytes: MAX_SIZE,
    code: 'SIZE_LIMIT',
  },
  'size limit, close-delimited': {
    reply: (s) => s.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${'x'.repeat(5000)}`),
    status: 200,
    bytes: MAX_SIZE,
    code: 'SIZE_LIMIT',
  },
  'header flood (a 30 kB head)': {
    reply: (s) => s.end(`HTTP/1.1 200 OK\r\n${'X-Flood: '.concat('v'.repeat(30), '\r\n').repeat(1000)}Content-Length: 5\r\n\r\nhello`),
    status: null,
    bytes: 0,
    code: 'PROTOCOL_ERROR',
  },
  'many small headers': {
    reply: (s) => s.end(ok('hello', 'a: b\r\n'.repeat(2500))),
    status: 200,
    bytes: 5,
    code: null,
  },
  'two different Content-Lengths': {
    reply: (s) => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'),
    status: null,
    bytes: 0,
    code: 'PROTOCOL_ERROR',
  },
  'bad chunk framing': {
    reply: (s) => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'),
    status: 200,
    bytes: 0,
    code: 'PROTOCOL_ERROR',
  },
  '204 that declares a length': {
    reply: (s) => s.end('HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello'),
    status: 204,
    bytes: 0,
    code: null,
  },
  // hasBody: the length a 204 or 304 declares is no body, so --max-size has nothing to refuse.
  '204 that declares a length over --max-size': {
    reply: (s) => s.end(`HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: ${MAX_SIZE * 5}\r\n\r\n`),
    status: 204,
    bytes: 0,
    code: null,
  },
  '304 that declares a length over --max-size': {
    reply: (s) => s.end(`HTTP/1.1 304 Not Modified\r\nConnection: close\r\nContent-Length: ${MAX_SIZE * 5}\r\n\r\n`),
    status: 304,
    bytes: 0,
    code: null,
  },
  'https to a plain-HTTP port': { reply: (s) => s.end(ok('hello')), tls: true, status: null, bytes: 0, code: 'TLS_FAILED' },
};

const names = Object.keys(CASES);
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((s) => {
    s.on('error', () => {});
    let head = '';
    s.on('data', (d: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        const path = decodeURIComponent(head.split(' ')[1] ?? '/');
        const name = names.find((n) => path.startsWith(`/${n}/`));
        if (name) CASES[name]!.reply(s, path);
        else s.end(ok('?'));
      } else if (!/^[A-Z]/.test(head)) {
        s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); // a TLS ClientHello, answered as node:http does
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const urlOf = (name: string) => `${CASES[name]!.tls ? 'https' : 'http'}://${base}/${encodeURIComponent(name)}/`;

describe.each(['async', 'threads', 'processes', 'inline'] as const)('%s mode', (mode) => {
  it('records the one defined outcome for each odd response, and keeps only whole bodies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchall-agree-'));
    const args = ['-m', mode, '-c', '4', '-t', String(TIMEOUT_MS), '--max-size', String(MAX_SIZE), '-o', dir, '-f', 'ndjson'];
    const r = await run([...args, ...names.map(urlOf)]);
    const saved = readdirSync(dir).sort();
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const recs = ndjson(r.stdout) as {
      index: number;
      status: number | null;
      bytes: number;
      error: { code: string } | null;
      file: string | null;
    }[];
    // a cut body leaves no file, not even a temporary one
    expect(saved).toEqual(recs.flatMap((x) => (x.file ? [basename(x.file)] : [])).sort());
    expect(recs.filter((x) => x.file)).toHaveLength(names.filter((n) => CASES[n]!.code === null).length);
    expect(recs).toHaveLength(names.length);
    const got = Object.fromEntries(recs.map((x) => [names[x.index]!, { status: x.status, bytes: x.bytes, code: x.error?.code ?? null }]));
    const want = Object.fromEntries(names.map((n) => [n, { status: CASES[n]!.status, bytes: CASES[n]!.bytes, code: CASES[n]!.code }]));
    expect(got).toEqual(want);
  }, 60_000);

  it('refuses hop-by-hop and framing headers in -H with one usage line', async () => {
    for (const name of MANAGED_HEADERS) {
      const header = `${name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase())}: x`;
      const r = await run(['-m', mode, '-H', header, `http://${base}/unused`]);
      expect(r.code, header).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/--header/);
      expect(r.stderr).toContain('managed by the HTTP client');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 60_000);
});
