// Request bodies (-d, --data @file, --data-binary @file) and -H @file, in every mode: the built-in
// server's /echo says what arrived, and every mode must send the same method, type and bytes.

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeaderFile } from '../src/options.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const MODES = ['async', 'threads', 'processes', 'inline'] as const;
const ctx = useServer();
let dir: string;

/** A loopback server that logs each request's method, path and body length, and answers /r/CODE with that redirect to the built-in /echo. */
let redirector: Server;
let redirectorUrl: string;
const arrived: { method: string; path: string; length: number }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fetchall-bodies-'));
  redirector = createServer((req, res) => {
    let length = 0;
    req.on('data', (c: Buffer) => {
      length += c.length;
    });
    req.on('end', () => {
      arrived.push({ method: req.method!, path: req.url!, length });
      const code = Number(/^\/r\/(\d+)/.exec(req.url!)?.[1]);
      res.writeHead(code || 404, { location: `${ctx.server.url}/echo${req.url!.slice(req.url!.indexOf('?'))}`, 'content-length': '0' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as { port: number }).port}`;
});
afterAll(() => {
  redirector.closeAllConnections();
  redirector.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Echo {
  method: string;
  headers: Record<string, string>;
  length: number;
  sha256: string;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
let runs = 0;

/** Fetch one URL with these flags; the echo comes back through -o (the saved body). */
async function echo(mode: string, url: string, flags: string[]): Promise<Echo> {
  const out = join(dir, `o${runs++}`);
  const r = await run(['-m', mode, '-c', '1', '-f', 'ndjson', '-o', out, ...flags, url]);
  const [rec] = ndjson(r.stdout);
  expect(rec, r.stderr).toMatchObject({ ok: true, status: 200 });
  const [file] = readdirSync(out);
  return JSON.parse(readFileSync(join(out, file!), 'utf8')) as Echo;
}

/** What must agree between modes: the method, the body, and the headers that describe it. */
const sent = (e: Echo) => ({
  method: e.method,
  length: e.length,
  sha256: e.sha256,
  'content-type': e.headers['content-type'],
  'content-length': e.headers['content-length'],
  'x-one': e.headers['x-one'],
  'x-two': e.headers['x-two'],
});

describe('bodies: the same bytes in every mode', () => {
  it('-d TEXT implies POST with a form Content-Type; -d twice joins with &', async () => {
    const seen = [];
    for (const mode of MODES) {
      const e = await echo(mode, `${ctx.server.url}/echo?m=${mode}`, ['-d', 'a=1', '-d', 'b=two words']);
      seen.push(sent(e));
    }
    const want = {
      method: 'POST',
      length: 15,
      sha256: sha256('a=1&b=two words'),
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': '15',
      'x-one': undefined,
      'x-two': undefined,
    };
    expect(seen).toEqual(MODES.map(() => want));
  });

  it('--data @FILE drops CR and LF; --data-binary @FILE sends the bytes as they are; -H Content-Type and -X win', async () => {
    const text = join(dir, 'form.txt');
    writeFileSync(text, 'name=fetchall\r\n&lines=2\n');
    const bin = join(dir, 'body.bin');
    const bytes = Buffer.concat([Buffer.from('\r\n\0'), Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256))]);
    writeFileSync(bin, bytes);
    for (const mode of MODES) {
      expect(sent(await echo(mode, `${ctx.server.url}/echo?f=${mode}`, ['--data', `@${text}`]))).toMatchObject({
        method: 'POST',
        sha256: sha256('name=fetchall&lines=2'),
        'content-type': 'application/x-www-form-urlencoded',
      });
      const e = await echo(mode, `${ctx.server.url}/echo?b=${mode}`, [
        '-X',
        'PUT',
        '-H',
        'Content-Type: application/octet-stream',
        '--data-binary',
        `@${bin}`,
      ]);
      expect(sent(e)).toMatchObject({
        method: 'PUT',
        length: bytes.length,
        sha256: sha256(bytes),
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.length),
      });
    }
  });

  it('-H @FILE reads one header a line (CRLF and blank lines allowed)', async () => {
    const file = join(dir, 'headers.txt');
    writeFileSync(file, 'X-One: 1\r\n\r\nX-Two: second value\n');
    const seen = [];
    for (const mode of MODES) seen.push(sent(await echo(mode, `${ctx.server.url}/echo?h=${mode}`, ['-H', `@${file}`])));
    for (const s of seen) expect(s).toMatchObject({ method: 'GET', length: 0, 'x-one': '1', 'x-two': 'second value' });
  });

  it('after 301, 302 and 303 a POST goes on as a GET without its body; 307 and 308 keep both', async () => {
    for (const mode of MODES) {
      for (const code of [301, 302, 303, 307, 308]) {
        const e = await echo(mode, `${redirectorUrl}/r/${code}?${mode}-${code}`, ['-d', 'k=v']);
        const kept = code >= 307;
        expect({ mode, code, ...sent(e) }).toMatchObject({
          mode,
          code,
          method: kept ? 'POST' : 'GET',
          length: kept ? 3 : 0,
          'content-type': kept ? 'application/x-www-form-urlencoded' : undefined,
        });
        // The first hop had the body, whatever came next.
        expect(arrived.find((a) => a.path.endsWith(`?${mode}-${code}`))).toEqual({
          method: 'POST',
          path: `/r/${code}?${mode}-${code}`,
          length: 3,
        });
      }
    }
  });
});

describe('bodies: a large body', () => {
  it.each(MODES)('%s: a 20 MB --data-binary @FILE arrives byte for byte, no process holding copies of it', async (mode) => {
    const file = join(dir, 'big.bin');
    const big = Buffer.alloc(20e6);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(file, big);
    const out = join(dir, `big-${mode}`);
    // Not -q: the summary on stderr says the peak memory, the pool processes' apart.
    const r = await run([
      '-m',
      mode,
      '-c',
      '1',
      '-t',
      '60s',
      '-f',
      'ndjson',
      '-o',
      out,
      '--data-binary',
      `@${file}`,
      `${ctx.server.url}/echo?big`,
    ]);
    const [rec] = ndjson(r.stdout);
    expect(rec, r.stderr).toMatchObject({ ok: true, status: 200 });
    const e = JSON.parse(readFileSync(join(out, readdirSync(out)[0]!), 'utf8')) as Echo;
    expect({ length: e.length, sha256: e.sha256 }).toEqual({ length: big.length, sha256: sha256(big) });
    // A process with its threads is 60-150 MB; a body copied through JSON as an array of numbers
    // took 600 MB and more, and each plain copy adds its 20 MB: a few copies at most stay under 250.
    const mb = (n: string, unit: string) => Number(n) * (unit === 'GB' ? 1000 : 1);
    const memory = /memory +([\d.]+) (MB|GB)(?: \+ pool ([\d.]+) (MB|GB))? peak RSS/.exec(r.stderr);
    expect(memory, r.stderr).not.toBeNull();
    expect(mb(memory![1]!, memory![2]!), r.stderr).toBeLessThan(250);
    if (mode === 'processes') expect(mb(memory![3]!, memory![4]!), r.stderr).toBeLessThan(250);
  });
});

describe('bodies: a large -d @FILE', () => {
  it('drops CR and LF from 30 MB without a JS array of its bytes', async () => {
    const file = join(dir, 'lines.txt');
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789';
    writeFileSync(file, `${line}\r\n`.repeat(800_000));
    const out = join(dir, 'lines-out');
    const r = await run([
      '-m',
      'async',
      '-c',
      '1',
      '-t',
      '60s',
      '-f',
      'ndjson',
      '-o',
      out,
      '-d',
      `@${file}`,
      `${ctx.server.url}/echo?lines`,
    ]);
    const [rec] = ndjson(r.stdout);
    expect(rec, r.stderr).toMatchObject({ ok: true, status: 200 });
    const e = JSON.parse(readFileSync(join(out, readdirSync(out)[0]!), 'utf8')) as Echo;
    expect({ length: e.length, sha256: e.sha256 }).toEqual({ length: line.length * 800_000, sha256: sha256(line.repeat(800_000)) });
    // The file, the stripped body and undici's copy: ~100 MB over Node's own; an array of bytes was 500 MB more.
    const self = /memory\s+([\d.]+) (MB|GB)/.exec(r.stderr);
    expect(self, r.stderr).not.toBeNull();
    expect(Number(self![1]) * (self![2] === 'GB' ? 1000 : 1)).toBeLessThan(300);
  });
});

describe('-H @FILE', () => {
  it('a UTF-8 BOM (a Windows editor) is not part of the first header name', () => {
    const file = join(dir, 'bom-headers.txt');
    writeFileSync(file, '\uFEFFX-One: 1\r\nX-Two: 2\r\n');
    expect(parseHeaderFile('-H', `@${file}`)).toEqual([
      ['X-One', '1'],
      ['X-Two', '2'],
    ]);
  });
});

describe('bodies: usage errors', () => {
  it('a body with -X GET: one line naming the blocking mode and why, exit 2; async sends it', async () => {
    for (const mode of ['threads', 'inline']) {
      const r = await run(['-m', mode, '-X', 'GET', '-d', 'x=1', `${ctx.server.url}/echo`]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`--data: ${mode} mode cannot send a body with GET`));
    }
    const e = await echo('async', `${ctx.server.url}/echo?g=1`, ['-X', 'GET', '-d', 'x=1']);
    expect(sent(e)).toMatchObject({ method: 'GET', length: 3 });
  });

  it('an unreadable @file (body or headers) and a bad header line: one line naming the file, exit 2', async () => {
    const bad = join(dir, 'bad-headers.txt');
    writeFileSync(bad, 'X-Ok: 1\nnot a header\n');
    const cases: [string[], RegExp][] = [
      [['-d', '@/nonexistent/body'], /--data.*cannot read '\/nonexistent\/body': ENOENT/],
      [['--data-binary', `@${dir}`], /--data-binary.*cannot read '.*': a directory/],
      [['-H', '@/nonexistent/h'], /--header.*cannot read '\/nonexistent\/h': ENOENT/],
      [['-H', `@${bad}`], /--header.*bad-headers\.txt:2: expected "Name: value"/],
    ];
    for (const [flags, re] of cases) {
      const r = await run([...flags, `${ctx.server.url}/echo`]);
      expect({ flags, code: r.code }).toEqual({ flags, code: 2 });
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
