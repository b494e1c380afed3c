// The input parser (src/input.ts) by value: why a line is not a URL, and how a byte stream
// becomes numbered jobs and bad lines (comments, CRLF, a BOM, long lines, a last line without
// a newline, chunks cut anywhere, several sources).

import { execFileSync } from 'node:child_process';
import { fstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { checkUrl, countable, countJobs, type InputItem, readJobs, resolveSources, type Source } from '../src/input.js';
import { inShard } from '../src/shard.js';
import { until, within } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'fetchall-input-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A byte stream that delivers `text` in chunks of `size` bytes (cut anywhere, even inside a character). */
function stream(text: string | Buffer, size = Number.POSITIVE_INFINITY): Readable {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function collect(sources: Source[], stdin: Readable = stream(''), signal?: AbortSignal): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for await (const item of readJobs(sources, stdin, signal)) items.push(item);
  return items;
}

/** Each item in one short form: 'job 0 URL' or 'bad 1 WHERE: REASON'. */
const brief = (items: InputItem[]) =>
  items.map((x) => (x.kind === 'job' ? `job ${x.job.index} ${x.job.url}` : `bad ${x.index} ${x.where}: ${x.reason}`));

const fromStdin = (text: string | Buffer, size?: number) => collect([{ kind: 'stdin' }], stream(text, size)).then(brief);

describe('checkUrl', () => {
  it.each([
    'http://example.com',
    'https://example.com/a?b=c#d',
    'HTTPS://EXAMPLE.COM/',
    'http://127.0.0.1:8080/x',
    'http://[::1]:80/',
    'http://user:pw@host/',
  ])('accepts %j', (text) => {
    expect(checkUrl(text)).toBeNull();
  });

  it.each([
    ['http://a/\u0001', 'not a URL (binary or control characters)'],
    ['http://a/\u001f', 'not a URL (binary or control characters)'],
    ['http://a/\u007f', 'not a URL (binary or control characters)'],
    ['\u0000\u0000', 'not a URL (binary or control characters)'],
    ['http://a/\ufffd', 'not a URL (binary or control characters)'],
    ['http:example.com', 'not a URL (expected http://)'],
    ['HTTPS:/example.com', 'not a URL (expected https://)'],
    ['ftp:file', "unsupported scheme 'ftp:' (only http and https)"],
    ['mailto:a@b.c', "unsupported scheme 'mailto:' (only http and https)"],
    ['FTP://host/x', "unsupported scheme 'ftp:' (only http and https)"],
    ['file:///etc/passwd', "unsupported scheme 'file:' (only http and https)"],
    ['example.com', 'missing scheme (did you mean https://example.com ?)'],
    ['www.example.com/a?b', 'missing scheme (did you mean https://www.example.com/a?b ?)'],
    ['example.com:8080#x', 'missing scheme (did you mean http://example.com:8080#x ?)'],
    ['localhost', 'missing scheme (did you mean http://localhost ?)'],
    ['localhost:3000/x', 'missing scheme (did you mean http://localhost:3000/x ?)'],
    ['10.0.0.1', 'missing scheme (did you mean http://10.0.0.1 ?)'],
    ['10.0.0.1:80?q', 'missing scheme (did you mean http://10.0.0.1:80?q ?)'],
    // curl assumes http for an IP or a host with a port: that is what works on a local server
    ['127.0.0.1:8080/x', 'missing scheme (did you mean http://127.0.0.1:8080/x ?)'],
    ['api.example.com:8443/v1', 'missing scheme (did you mean http://api.example.com:8443/v1 ?)'],
    ['hello', 'not a URL'],
    ['hello world.com', 'not a URL'],
    ['example.com/a b', 'not a URL'],
    ['/just/a/path', 'not a URL'],
    ['http://a b/', 'not a URL (contains whitespace)'],
    ['http://a/\tb', 'not a URL (binary or control characters)'],
    ['http://a/ b', 'not a URL (contains whitespace)'],
    ['http://', 'not a URL'],
    ['http://[::1/', 'not a URL'],
    ['http://exa mple', 'not a URL (contains whitespace)'],
    // each pattern is anchored: a URL inside other text is not one
    ['see http://a', 'not a URL'],
    ['a/b:c', 'not a URL'],
    ['xhttp:y', "unsupported scheme 'xhttp:' (only http and https)"],
    ['httpx:y', "unsupported scheme 'httpx:' (only http and https)"],
    ['a.b/c', 'missing scheme (did you mean https://a.b/c ?)'],
    ['localhost/xy', 'missing scheme (did you mean http://localhost/xy ?)'],
    ['mylocalhost', 'not a URL'],
    ['localhost foo', 'not a URL'],
  ])('%j → %s', (text, reason) => {
    expect(checkUrl(text)).toBe(reason);
  });
});

describe('readJobs from a stream', () => {
  it('skips comments and blank lines, trims, accepts CRLF, numbers lines and jobs', async () => {
    const text = '# a comment\r\n\r\n  http://a/1  \r\nhttp://a/2\r\n   # indented comment\n\t\nnot-a-url\nhttp://a/3\n';
    expect(await fromStdin(text)).toEqual(['job 0 http://a/1', 'job 1 http://a/2', 'bad 2 <stdin>:7: not a URL', 'job 3 http://a/3']);
  });

  it('reports a bad line with its text (cut at 2048 characters) and reason', async () => {
    const items = await collect([{ kind: 'stdin' }], stream(`ftp://x\n${'z'.repeat(3000)}\n`));
    expect(items[0]).toEqual({
      kind: 'bad',
      index: 0,
      where: '<stdin>:1',
      text: 'ftp://x',
      reason: "unsupported scheme 'ftp:' (only http and https)",
    });
    expect(items[1]).toMatchObject({ kind: 'bad', index: 1, where: '<stdin>:2', reason: 'not a URL' });
    expect((items[1] as { text: string }).text).toBe('z'.repeat(2048));
  });

  it('numbers the last line right when it has no newline', async () => {
    expect(await fromStdin('bad')).toEqual(['bad 0 <stdin>:1: not a URL']);
    expect(await fromStdin('http://a/1\nbad')).toEqual(['job 0 http://a/1', 'bad 1 <stdin>:2: not a URL']);
    expect(await fromStdin('http://a/1\n\n\nbad')).toEqual(['job 0 http://a/1', 'bad 1 <stdin>:4: not a URL']);
    expect(await fromStdin('http://a/1\r\nhttp://a/2')).toEqual(['job 0 http://a/1', 'job 1 http://a/2']);
    // cut into one-byte chunks, the last line still counts as line 3
    expect(await fromStdin('# c\nhttp://a/1\nbad', 1)).toEqual(['job 0 http://a/1', 'bad 1 <stdin>:3: not a URL']);
  });

  it('yields nothing for an empty stream or a lone newline', async () => {
    expect(await fromStdin('')).toEqual([]);
    expect(await fromStdin('\n')).toEqual([]);
    expect(await fromStdin('\n\n# only comments\n')).toEqual([]);
  });

  it('accepts a BOM before the first line', async () => {
    expect(await fromStdin('\ufeffhttp://a/1\nhttp://a/2\n')).toEqual(['job 0 http://a/1', 'job 1 http://a/2']);
    expect(await fromStdin('\ufeff# comment\nhttp://a/1\n')).toEqual(['job 0 http://a/1']);
    expect(await fromStdin('\ufeff  http://a/1\n')).toEqual(['job 0 http://a/1']);
    // the BOM's three bytes cut across chunks
    expect(await fromStdin('\ufeffhttp://a/1\n', 1)).toEqual(['job 0 http://a/1']);
  });

  it('reads bytes that are not UTF-8 as bad lines, not an error', async () => {
    expect(await fromStdin(Buffer.from([0x68, 0xff, 0xfe, 0x0a, ...Buffer.from('http://a/1\n')]))).toEqual([
      'bad 0 <stdin>:1: not a URL (binary or control characters)',
      'job 1 http://a/1',
    ]);
  });

  it('leaves stdin open for its owner once read', async () => {
    const stdin = new Readable({ read() {}, autoDestroy: false });
    stdin.push('http://a/1\n');
    stdin.push(null);
    expect(brief(await collect([{ kind: 'stdin' }], stdin))).toEqual(['job 0 http://a/1']);
    expect(stdin.destroyed).toBe(false);
  });

  it('reads a FIFO, a device and /dev/stdin named as files', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = (async () => {
      const w = await open(fifo, 'w');
      await w.write('http://f/1\nbad\n');
      await w.close();
    })();
    expect(brief(await collect([{ kind: 'file', path: fifo }]))).toEqual(['job 0 http://f/1', `bad 1 ${fifo}:2: not a URL`]);
    await writer;
    expect(await collect([{ kind: 'file', path: '/dev/null' }])).toEqual([]);
  });

  it('a stop ends reading a FIFO whose writer is open but idle (no blocking fs read holds it)', async () => {
    const fifo = join(dir, 'idle-fifo');
    execFileSync('mkfifo', [fifo]);
    const ctl = new AbortController();
    const items: InputItem[] = [];
    const reading = (async () => {
      for await (const item of readJobs([{ kind: 'file', path: fifo }], stream(''), ctl.signal)) items.push(item);
    })();
    const writer = await open(fifo, 'w');
    try {
      await writer.write('http://f/1\n');
      await until(() => items.length === 1, 'the first line');
      ctl.abort('SIGTERM');
      await within(reading, 'reading to stop', 3000);
      expect(brief(items)).toEqual(['job 0 http://f/1']);
    } finally {
      await writer.close();
    }
  });

  it.skipIf(fstatSync(0).isFile())('takes /dev/stdin as our own stdin stream', async () => {
    expect(brief(await collect([{ kind: 'file', path: '/dev/stdin' }], stream('http://s/1\n')))).toEqual(['job 0 http://s/1']);
  });

  it('decodes UTF-8 cut across chunks', async () => {
    expect(await fromStdin('http://a/é\nhttp://a/日本\n', 1)).toEqual(['job 0 http://a/é', 'job 1 http://a/日本']);
  });

  it('gives the same items whatever the chunk size', async () => {
    const text = `# x\r\nhttp://a/1\r\n\r\nbad line\n${'q'.repeat(20_000)}\nhttp://a/é\nlast`;
    const whole = await fromStdin(text);
    expect(whole).toEqual([
      'job 0 http://a/1',
      'bad 1 <stdin>:4: not a URL',
      'bad 2 <stdin>:5: line longer than 16384 characters',
      'job 3 http://a/é',
      'bad 4 <stdin>:7: not a URL',
    ]);
    for (const size of [1, 2, 3, 7, 1000, 16_384, 16_385]) expect(await fromStdin(text, size)).toEqual(whole);
  });

  it('takes a line of exactly 16384 characters and reports one of 16385 as too long, then goes on', async () => {
    const exact = `http://a/${'x'.repeat(16_384 - 'http://a/'.length)}`;
    expect(exact).toHaveLength(16_384);
    for (const size of [Number.POSITIVE_INFINITY, 4096, 1]) {
      const items = await collect([{ kind: 'stdin' }], stream(`${exact}\n${exact}y\nhttp://a/after\n`, size));
      expect(brief(items)).toEqual([`job 0 ${exact}`, 'bad 1 <stdin>:2: line longer than 16384 characters', 'job 2 http://a/after']);
      expect(items[1]).toMatchObject({ text: '' });
    }
  });

  it('reports an over-long last line without a newline, and an over-long first line, by number', async () => {
    const long = 'x'.repeat(40_000);
    for (const size of [Number.POSITIVE_INFINITY, 5000]) {
      expect(await fromStdin(`http://a/1\n${long}`, size)).toEqual([
        'job 0 http://a/1',
        'bad 1 <stdin>:2: line longer than 16384 characters',
      ]);
      expect(await fromStdin(`${long}\nhttp://a/2\n`, size)).toEqual([
        'bad 0 <stdin>:1: line longer than 16384 characters',
        'job 1 http://a/2',
      ]);
    }
  });

  it('numbers jobs across sources and lines within each file', async () => {
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.txt');
    writeFileSync(a, 'http://a/1\nbad\n');
    writeFileSync(b, '# b\nhttp://b/1\nhttp://b/2');
    const items = await collect(
      [
        { kind: 'url', url: 'http://arg/0' },
        { kind: 'file', path: a },
        { kind: 'stdin' },
        { kind: 'url', url: 'nope' },
        { kind: 'file', path: b },
      ],
      stream('http://s/1\n'),
    );
    expect(brief(items)).toEqual([
      'job 0 http://arg/0',
      'job 1 http://a/1',
      `bad 2 ${a}:2: not a URL`,
      'job 3 http://s/1',
      "bad 4 argument 'nope': not a URL",
      'job 5 http://b/1',
      'job 6 http://b/2',
    ]);
  });

  it('names a bad argument by a short, escaped excerpt', async () => {
    const long = `ftp://${'x'.repeat(100)}`;
    const items = await collect([
      { kind: 'url', url: long },
      { kind: 'url', url: 'http://a/"\u0001' },
    ]);
    expect(items[0]).toEqual({
      kind: 'bad',
      index: 0,
      where: `argument '${long.slice(0, 60)}…'`,
      text: long,
      reason: "unsupported scheme 'ftp:' (only http and https)",
    });
    expect(items[1]).toMatchObject({ where: `argument 'http://a/\\"\\u0001'`, reason: 'not a URL (binary or control characters)' });
    // exactly 60 characters: no ellipsis
    const sixty = `ftp://${'y'.repeat(54)}`;
    const [item] = await collect([{ kind: 'url', url: sixty }]);
    expect(item).toMatchObject({ where: `argument '${sixty}'` });
  });

  it('stops at once when the signal aborts, even while the stream waits for more', async () => {
    const ctl = new AbortController();
    const idle = new Readable({ read() {} });
    idle.push('http://a/1\n');
    const items: InputItem[] = [];
    const reading = (async () => {
      for await (const item of readJobs([{ kind: 'stdin' }, { kind: 'url', url: 'http://a/never' }], idle, ctl.signal)) {
        items.push(item);
        ctl.abort('SIGINT');
      }
    })();
    await reading;
    expect(brief(items)).toEqual(['job 0 http://a/1']);
    // the stop destroys the stream it was reading: an idle writer cannot hold the run
    expect(idle.destroyed).toBe(true);
  });

  it('reads nothing when the signal has already aborted', async () => {
    const ctl = new AbortController();
    ctl.abort('SIGTERM');
    expect(await collect([{ kind: 'url', url: 'http://a/1' }], stream(''), ctl.signal)).toEqual([]);
  });

  it('passes on a read error that is not a stop', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('EIO: i/o error'));
      },
    });
    await expect(collect([{ kind: 'stdin' }], broken)).rejects.toThrow(/EIO/);
  });
});

describe('resolveSources', () => {
  it('takes URL-shaped arguments as URLs, - as stdin, anything else as a file', () => {
    const file = join(dir, 'list.txt');
    writeFileSync(file, 'http://a/\n');
    expect(resolveSources(['http://a/', 'HTTP:x', 'ftp://y', '-', file], true)).toEqual([
      { kind: 'url', url: 'http://a/' },
      { kind: 'url', url: 'HTTP:x' },
      { kind: 'url', url: 'ftp://y' },
      { kind: 'stdin' },
      { kind: 'file', path: file },
    ]);
  });

  it('reads piped stdin when given nothing, and refuses a terminal', () => {
    expect(resolveSources([], false)).toEqual([{ kind: 'stdin' }]);
    expect(() => resolveSources([], true)).toThrow(UsageError);
    expect(() => resolveSources([], true)).toThrow('nothing to fetch: give a file of URLs, a URL, or pipe URLs on stdin (see --help)');
  });

  it('takes only what starts like a URL as one', () => {
    expect(() => resolveSources(['./x://y'], true)).toThrow(/^\.\/x:\/\/y: cannot read: no such file$/);
    expect(() => resolveSources(['xhttps:y'], true)).toThrow(/^xhttps:y: cannot read: no such file$/);
  });

  it.each([
    ['www.example.com', true],
    ['example.com/ab', true],
    ['my.list.example', true],
    ['example.com x', false],
    ['_example.com', false],
    ['hosts.url', false],
    ['hosts.urls', false],
    ['data.json', false],
  ])('hints https:// for %j: %s', (arg, hint) => {
    const message = (() => {
      try {
        resolveSources([arg], true);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    const scheme = /:\d+(\/|$)/.test(arg) ? 'http://' : 'https://';
    expect(message).toBe(`${arg}: cannot read: no such file${hint ? ` (for a URL, write ${scheme}${arg})` : ''}`);
  });

  it('names a missing file, hinting https:// only for what looks like a host', () => {
    expect(() => resolveSources(['example.com'], true)).toThrow(
      'example.com: cannot read: no such file (for a URL, write https://example.com)',
    );
    expect(() => resolveSources(['example.com:8080/x'], true)).toThrow(
      'example.com:8080/x: cannot read: no such file (for a URL, write http://example.com:8080/x)',
    );
    expect(() => resolveSources(['urls.txt'], true)).toThrow(/^urls\.txt: cannot read: no such file$/);
    expect(() => resolveSources(['missing'], true)).toThrow(/^missing: cannot read: no such file$/);
    expect(() => resolveSources([join(dir, 'list.csv')], true)).toThrow(/: cannot read: no such file$/);
  });

  it('refuses a directory and an unreadable path', () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    expect(() => resolveSources([sub], true)).toThrow(`${sub}: cannot read: is a directory`);
    expect(() => resolveSources([join(dir, 'list.txt', 'x')], true)).toThrow(/: cannot read: ENOTDIR$/);
  });
});

describe('countable', () => {
  it('is true for URLs and regular files only', () => {
    const file = join(dir, 'countable.txt');
    writeFileSync(file, '');
    expect(countable([{ kind: 'url', url: 'http://a/' }])).toBe(true);
    expect(
      countable([
        { kind: 'url', url: 'http://a/' },
        { kind: 'file', path: file },
      ]),
    ).toBe(true);
    expect(countable([])).toBe(true);
    expect(countable([{ kind: 'url', url: 'http://a/' }, { kind: 'stdin' }])).toBe(false);
    expect(countable([{ kind: 'stdin' }, { kind: 'url', url: 'http://a/' }])).toBe(false);
    expect(countable([{ kind: 'file', path: '/dev/null' }])).toBe(false);
    expect(countable([{ kind: 'file', path: join(dir, 'missing') }])).toBe(false);
  });
});

describe('countJobs', () => {
  it('counts URLs and bad lines, not comments or blanks, across files and arguments', async () => {
    const a = join(dir, 'count.txt');
    writeFileSync(a, '# c\nhttp://a/1\n\nbad\nhttp://a/2');
    expect(
      await countJobs([
        { kind: 'url', url: 'http://x/' },
        { kind: 'file', path: a },
      ]),
    ).toBe(4);
  });

  it("--shard-by index over several files: a shard keeps global index mod n, not each file's own", async () => {
    // Indexes 0–2 in a, 3–7 in b: a file of odd length shifts b's items to the other shard.
    const a = join(dir, 'shard-a.txt');
    const b = join(dir, 'shard-b.txt');
    writeFileSync(a, 'http://a/0\nhttp://a/1\nhttp://a/2\n');
    writeFileSync(b, 'http://b/3\n# c\nhttp://b/4\nhttp://b/5\n\nhttp://b/6\nhttp://b/7\n');
    const sources: Source[] = [
      { kind: 'file', path: a },
      { kind: 'file', path: b },
    ];
    const keepShard = (k: number, n: number) => (item: InputItem) => inShard(item, { k, n, by: 'index' });
    const counts = async (n: number) =>
      Promise.all(Array.from({ length: n }, (_, k) => countJobs(sources, Number.POSITIVE_INFINITY, keepShard(k + 1, n))));
    expect(await counts(2)).toEqual([4, 4]);
    expect(await counts(3)).toEqual([3, 3, 2]);
    // The items a run reads are numbered across the files the same way.
    const kept = async (k: number, n: number) => {
      const out: string[] = [];
      for await (const item of readJobs(sources))
        if (item.kind === 'job' && keepShard(k, n)(item)) out.push(`${item.job.index} ${item.job.url}`);
      return out;
    };
    expect(await kept(2, 3)).toEqual(['1 http://a/1', '4 http://b/4', '7 http://b/7']);
    expect(await kept(1, 2)).toEqual(['0 http://a/0', '2 http://a/2', '4 http://b/4', '6 http://b/6']);
  });

  it('gives up on stdin and on files over the byte budget', async () => {
    const a = join(dir, 'budget.txt');
    writeFileSync(a, 'http://a/1\n'); // 11 bytes
    expect(await countJobs([{ kind: 'stdin' }])).toBeNull();
    expect(await countJobs([{ kind: 'file', path: a }], 11)).toBe(1);
    expect(await countJobs([{ kind: 'file', path: a }], 10)).toBeNull();
  });
});
