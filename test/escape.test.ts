// Control characters from the network or the input never reach output raw: the escaping function
// by value, then end to end against a server whose Location holds ESC, BEL and CSI (U+009B).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UrlRecord } from '../src/core/types.js';
import { escapeControls, jsonText } from '../src/render/escape.js';
import { eventLine } from '../src/render/lines.js';
import { plain } from '../src/render/paint.js';
import { csv, ndjson, tsv } from '../src/render/records.js';
import { readRecords } from '../src/report/records.js';
import { run } from './helpers/cli.js';

/** Any C0 control but the \n and \t that separate lines and columns, DEL, a C1 control, or a bidi control. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('escapeControls', () => {
  it('writes C0, DEL and C1 controls as \\xNN and leaves everything else alone', () => {
    expect(escapeControls('a\u001b[31mb\u0007')).toBe('a\\x1b[31mb\\x07');
    expect(escapeControls('\u009b2J \u0085 \u007f')).toBe('\\x9b2J \\x85 \\x7f');
    expect(escapeControls('tab\there\nnewline\r')).toBe('tab\\x09here\\x0anewline\\x0d');
    expect(escapeControls('\u0000')).toBe('\\x00');
    expect(escapeControls('a\tb\nc\rd\u001b', '\n\t')).toBe('a\tb\nc\\x0dd\\x1b');
    expect(escapeControls('plain https://example.com/é/✓?q=1')).toBe('plain https://example.com/é/✓?q=1');
    expect(escapeControls('\u00a0 \u00ff')).toBe('\u00a0 \u00ff');
    // Same answer twice in a row (a global regex must not keep state between calls).
    expect(escapeControls('\u001b')).toBe('\\x1b');
    expect(escapeControls('\u001b')).toBe('\\x1b');
  });

  it('writes every bidi control as \\uNNNN, so a URL cannot read backwards', () => {
    const all = '\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    expect(escapeControls(`a${all}b`)).toBe('a\\u061c\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069b');
    expect(escapeControls('http://x/\u202egnp.exe')).toBe('http://x/\\u202egnp.exe');
    // Arabic and Hebrew text themselves are not controls.
    expect(escapeControls('\u05d0\u0627')).toBe('\u05d0\u0627');
    const text = jsonText({ code: `E\u202eX\u2066` });
    expect(text).toBe('{"code":"E\\u202eX\\u2066"}');
    expect(JSON.parse(text)).toEqual({ code: 'E\u202eX\u2066' });
  });

  it('jsonText escapes DEL and C1 controls as \\u00NN and round-trips exactly', () => {
    const value = { url: 'http://x/\u009b\u001b\u0007\u007f\u0085é' };
    const text = jsonText(value);
    expect(text).toBe('{"url":"http://x/\\u009b\\u001b\\u0007\\u007f\\u0085é"}');
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
    // Indented output keeps its structural newlines and nothing else raw.
    expect(jsonText({ a: '\u009b' }, 2)).toBe('{\n  "a": "\\u009b"\n}');
  });
});

describe('renderers', () => {
  const hostile = 'http://x/\u001b]0;PWNED\u0007/\u009b31m';
  const record: UrlRecord = {
    index: 0,
    url: hostile,
    mode: 'async',
    ok: false,
    status: 302,
    bytes: 0,
    start: Date.UTC(2024, 0, 1),
    end: Date.UTC(2024, 0, 1) + 5,
    ms: 5,
    attempts: 1,
    worker: null,
    error: { code: 'BAD_REDIRECT', message: 'unusable Location: "http://[\u009b\u001b]"' },
    file: null,
    finalUrl: null,
    redirects: 0,
    ttfbMs: null,
    contentType: 'text/html\u001b[2J',
  };

  it('text fail line escapes the URL and the error message', () => {
    const line = eventLine({ kind: 'fail', record }, record.start, plain);
    expect(line).not.toMatch(RAW_CONTROL);
    expect(line).toContain('unusable Location: "http://[\\x9b\\x1b]"');
    expect(line).toContain('http://x/\\x1b]0;PWNED\\x07/\\x9b31m');
  });

  it('csv and tsv cells escape controls (csv keeps its quoted LF and tab)', () => {
    const c = csv({ ...record, error: { code: 'X', message: 'a,b\r\nc' } }, record.start);
    expect(c).not.toMatch(RAW_CONTROL);
    expect(c.split(',')[1]).toBe('http://x/\\x1b]0;PWNED\\x07/\\x9b31m');
    // LF stays, quoted (RFC 4180); CR, which would overwrite the line on a terminal, does not.
    expect(c).toContain('"X: a,b\\x0d\nc"');
    // A tab alone, or LF alone, still makes the cell quoted; a quote is doubled.
    const errorCell = (message: string) => csv({ ...record, error: { code: 'X', message } }, record.start).split(',')[11];
    expect(errorCell('a\tb')).toBe('"X: a\tb"');
    expect(errorCell('a\nb')).toBe('"X: a\nb"');
    expect(errorCell('say "hi"')).toBe('"X: say ""hi"""');
    const t = tsv({ ...record, error: { code: 'X', message: 'a\tb\\c\u009b' } }, record.start);
    expect(t).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/);
    expect(t.split('\t')[1]).toBe('http://x/\\x1b]0;PWNED\\x07/\\x9b31m');
    expect(t.split('\t')[11]).toBe('X: a\\tb\\\\c\\x9b');
    // A header value is text from the network too: content_type goes through the same escape.
    expect(c.split(',').at(-2)).toBe('text/html\\x1b[2J');
    expect(t.split('\t').at(-2)).toBe('text/html\\x1b[2J');
  });

  it('ndjson escapes C1 controls and keeps the exact value', () => {
    const line = ndjson(record, record.start);
    expect(line).not.toMatch(RAW_CONTROL);
    const back = JSON.parse(line);
    expect(back.url).toBe(hostile);
    expect(back.error.message).toBe(record.error!.message);
  });
});

describe('DEL (0x7f) as the only control character, in every output', () => {
  // Each string holds DEL and nothing else to escape, so no other character can trigger the escape.
  const del = 'http://x/a\u007fb';
  const record: UrlRecord = {
    index: 0,
    url: del,
    mode: 'async',
    ok: false,
    status: 302,
    bytes: 0,
    start: Date.UTC(2024, 0, 1),
    end: Date.UTC(2024, 0, 1) + 5,
    ms: 5,
    attempts: 1,
    worker: null,
    error: { code: 'BAD_REDIRECT', message: 'unusable Location: "\u007f"' },
    file: null,
    finalUrl: del,
    redirects: 0,
    ttfbMs: null,
    contentType: 'text/\u007f',
  };
  const DEL = /\u007f/;

  it('escapeControls and jsonText', () => {
    expect(escapeControls('\u007f')).toBe('\\x7f');
    expect(jsonText('\u007f')).toBe('"\\u007f"');
  });

  it('the text lines (done and fail)', () => {
    const fail = eventLine({ kind: 'fail', record }, record.start, plain);
    expect(fail).not.toMatch(DEL);
    expect(fail).toContain('http://x/a\\x7fb');
    expect(fail).toContain('unusable Location: "\\x7f"');
    const done = eventLine({ kind: 'done', record: { ...record, ok: true, status: 200, error: null } }, record.start, plain);
    expect(done).not.toMatch(DEL);
    expect(done).toContain('http://x/a\\x7fb');
  });

  it('csv, tsv and ndjson', () => {
    const c = csv(record, record.start);
    expect(c).not.toMatch(DEL);
    expect(c.split(',')[1]).toBe('http://x/a\\x7fb');
    expect(c.split(',').at(-2)).toBe('text/\\x7f');
    const t = tsv(record, record.start);
    expect(t).not.toMatch(DEL);
    expect(t.split('\t')[1]).toBe('http://x/a\\x7fb');
    expect(t.split('\t').at(-2)).toBe('text/\\x7f');
    const n = ndjson(record, record.start);
    expect(n).not.toMatch(DEL);
    expect(n).toContain('"url":"http://x/a\\u007fb"');
    expect(JSON.parse(n)).toMatchObject({
      url: del,
      final_url: del,
      content_type: 'text/\u007f',
      error: { message: 'unusable Location: "\u007f"' },
    });
  });

  it("report's bad-line note names the file escaped", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchall-del-'));
    const path = join(dir, 'runs\u007f.ndjson');
    writeFileSync(path, 'not json\n');
    const bad: string[] = [];
    const { Readable } = await import('node:stream');
    await readRecords([{ kind: 'file', path }], Readable.from([]), (l) => bad.push(l));
    expect(bad).toEqual([`${join(dir, 'runs')}\\x7f.ndjson:1: not JSON`]);
  });
});

describe('end to end', () => {
  let server: Server;
  let base = '';
  // Location values as raw bytes: C1 CSI alone (a header value may carry obs-text), and with ESC
  // and BEL too (which both clients refuse as invalid HTTP; still nothing raw may reach output).
  const LOCATIONS: Record<string, Buffer> = {
    '/csi': Buffer.concat([Buffer.from('http://[x'), Buffer.from([0x9b]), Buffer.from('31m]/')]),
    '/all': Buffer.concat([Buffer.from('http://[x'), Buffer.from([0x1b, 0x07, 0x9b]), Buffer.from(']/')]),
  };
  beforeAll(async () => {
    server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (d) => {
        const path = d.toString('latin1').split(' ')[1] ?? '/';
        const location = LOCATIONS[path];
        if (location) {
          socket.end(
            Buffer.concat([
              Buffer.from('HTTP/1.1 302 Found\r\nLocation: '),
              location,
              Buffer.from('\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
            ]),
          );
        } else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const list = () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fetchall-escape-')), 'hostile.txt');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`${base}/csi\n${base}/all\n`),
        // ESC, BEL and a raw 0x9B byte; then U+009B (UTF-8 C2 9B) in a line that is only missing its scheme.
        Buffer.from('http://x/'),
        Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x07, 0x9b]),
        Buffer.from('\nexample.com/\u009b2J\n'),
        // A bidi override in a bad line: it would make the line read backwards on a terminal.
        Buffer.from('example.net/\u202egnp.exe\n'),
        Buffer.from(`${base}/ok\n`),
      ]),
    );
    return file;
  };

  for (const mode of ['async', 'threads', 'inline'] as const) {
    for (const format of ['text', 'csv', 'tsv', 'ndjson'] as const) {
      it(`${mode} ${format}: no raw control character on stdout or stderr`, async () => {
        const r = await run(['-m', mode, '-c', '2', '-f', format, list()]);
        expect(r.code).toBe(1);
        expect(r.stdout).not.toMatch(RAW_CONTROL);
        expect(r.stderr).not.toMatch(RAW_CONTROL);
        expect(r.stderr).not.toContain('    at ');
        // The hostile strings did reach the output, escaped.
        if (format === 'ndjson') {
          expect(r.stdout).toContain('unusable Location: \\"http://[x\\u009b31m]/\\"');
          expect(r.stdout).toContain('example.com/\\u009b2J');
        } else {
          expect(r.stdout).toContain('http://[x\\x9b31m]/');
          expect(r.stdout).toContain('example.com/\\x9b2J');
        }
        // The bad-line report on stderr quotes the line.
        expect(r.stderr).toContain('did you mean https://example.com/\\x9b2J');
        expect(r.stderr).toContain('did you mean https://example.net/\\u202egnp.exe');
        expect(r.stdout).toMatch(format === 'text' ? /done +#5 /m : /\b200\b/);
      });
    }
  }
});
