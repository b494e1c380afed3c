// The CLI as a user meets it: input forms, bad lines, exit statuses, stdin, formats, serve.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, NODE, ndjson, run, start, track } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';
import { within } from './helpers/wait.js';

const ctx = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-cli-'));
function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('input', () => {
  it('skips comments and blank lines, accepts CRLF and a BOM, reports bad lines as FILE:LINE and fetches the rest', async () => {
    const { server } = ctx;
    const list = file(
      'mixed.txt',
      `\ufeff# a comment\r\n${server.url}/delay/10?a=1\r\n\r\n   \r\n  # indented comment\r\nexample.com/page\r\nftp://example.com/x\r\nnot a url\r\n  ${server.url}/delay/10?a=2  \r\n`,
    );
    const r = await run(['-f', 'ndjson', '-q', list]);
    expect(r.code).toBe(1);
    const recs = ndjson(r.stdout);
    expect(recs.filter((x) => x.ok)).toHaveLength(2);
    const bad = recs.filter((x) => !x.ok);
    expect(bad).toHaveLength(3);
    expect(bad.every((x) => (x.error as { code: string }).code === 'BAD_INPUT')).toBe(true);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain(`${list}:6: missing scheme (did you mean https://example.com/page ?)`);
    expect(lines.some((l) => l.startsWith(`${list}:7: unsupported scheme 'ftp:'`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${list}:8: not a URL`))).toBe(true);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/); // no stack trace
    // indices follow input order across good and bad lines
    expect(recs.map((x) => x.index).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('names the file, line and reason of every bad line in fixtures/bad-lines.txt', async () => {
    const r = await run(['-q', 'fixtures/bad-lines.txt']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'fixtures/bad-lines.txt:3: missing scheme (did you mean https://example.com/page ?)',
      "fixtures/bad-lines.txt:4: unsupported scheme 'ftp:' (only http and https)",
      "fixtures/bad-lines.txt:5: unsupported scheme 'mailto:' (only http and https)",
      'fixtures/bad-lines.txt:6: not a URL',
      'fixtures/bad-lines.txt:7: not a URL',
      'fixtures/bad-lines.txt:8: not a URL (contains whitespace)',
      'fixtures/bad-lines.txt:10: missing scheme (did you mean http://localhost:8080/x ?)',
    ]);
    expect(r.stdout).toMatch(/7 failed \(7 bad input lines\)/);
  });

  it('never prints raw control characters from a hostile line', async () => {
    const r = await run([file('escape.txt', 'http://x\u001b]0;PWNED\u0007/\u001b[31mred\n')]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(r.stdout).toContain('http://x\\x1b]0;PWNED\\x07/\\x1b[31mred');
  });

  it('reads URLs from piped stdin when no source is given, and from - ', async () => {
    const { server } = ctx;
    const text = urls(server.url, '/delay/5', 3, '&stdin').join('\n');
    for (const args of [[], ['-']]) {
      const r = await run(['-f', 'ndjson', '-q', ...args], { input: text });
      expect(r.code, r.stderr).toBe(0);
      expect(ndjson(r.stdout)).toHaveLength(3);
    }
  });

  it('takes URLs as arguments, mixed with files', async () => {
    const { server } = ctx;
    const list = file('two.txt', urls(server.url, '/delay/5', 2, '&f').join('\n'));
    const r = await run(['-f', 'ndjson', '-q', `${server.url}/delay/5?arg`, list]);
    expect(r.code, r.stderr).toBe(0);
    const recs = ndjson(r.stdout);
    expect(recs).toHaveLength(3);
    expect(recs.find((x) => x.index === 0)!.url).toBe(`${server.url}/delay/5?arg`);
  });

  it('survives a binary junk file: every line a bad line, no stack trace, exit 1', async () => {
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) % 256;
    const r = await run(['-q', file('junk.bin', junk)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/junk\.bin:\d+: /);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+|Error:/);
  });
});

describe('exit status', () => {
  it('is 0 when every URL is ok and 1 when one fails (404, refused)', async () => {
    const { server } = ctx;
    expect((await run(['-q', `${server.url}/delay/1`])).code).toBe(0);
    const r = await run(['-q', `${server.url}/delay/1`, `${server.url}/status/404`]);
    expect(r.code).toBe(1);
    const refused = await run(['-f', 'ndjson', '-q', 'http://127.0.0.1:9/']);
    expect(refused.code).toBe(1);
    expect((ndjson(refused.stdout)[0]!.error as { code: string }).code).toBe('ECONNREFUSED');
  });

  it.each([
    [['-c', '0'], /--concurrency/],
    [['-c', '-3'], /--concurrency|unknown option/],
    [['-c', 'ten'], /--concurrency/],
    [['--timeout', '0'], /--timeout/],
    [['--max-size', 'lots'], /--max-size/],
    [['-m', 'fibers'], /--mode/],
    [['-f', 'xml'], /--format/],
    [['-H', 'no colon'], /--header/],
    [['--bogus'], /unknown option/],
  ])('is 2 for a bad flag %j, with a one-line error naming it', async (args, re) => {
    const r = await run([...args, 'http://127.0.0.1:9/']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
  });

  it('is 2 for a file that cannot be read, naming it', async () => {
    const r = await run(['/nonexistent/urls.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('fetchall: /nonexistent/urls.txt: cannot read: no such file');
  });

  it('is 2 when the input holds nothing to fetch', async () => {
    for (const r of [await run(['-q'], { input: '' }), await run(['-q', file('comments.txt', '# only\n\n')])]) {
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe('fetchall: nothing to fetch: the input held no URLs');
    }
  });
});

describe('more usage errors', () => {
  it('compare with nothing to fetch is exit 2 before any pool starts', async () => {
    const r = await run(['compare', '--modes', 'threads,async'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('fetchall: nothing to fetch: the input held no URLs');
  });

  it.skipIf(spawnSync('script', ['--version']).status !== 0)('is 2 with no source and a terminal on stdin', async () => {
    const child = track(spawn('script', ['-qc', `"${NODE}" "${BIN}"; echo "rc=$?"`, '/dev/null']));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await within(new Promise((resolve) => child.on('close', resolve)), 'the run under script(1)');
    expect(out.replace(/\r/g, '').trim().split('\n')).toEqual([
      'fetchall: nothing to fetch: give a file of URLs, a URL, or pipe URLs on stdin (see --help)',
      'rc=2',
    ]);
  });

  it('serve on a busy port says so in one line, exit 2', async () => {
    const r = await run(['serve', '--port', String(ctx.server.port)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`fetchall: serve: cannot listen on 127.0.0.1:${ctx.server.port}: EADDRINUSE`);
  });

  it('-o naming a file is exit 2: not a directory', async () => {
    const f = file('not-a-dir', 'x');
    const r = await run(['-o', f, 'http://127.0.0.1:9/']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`fetchall: --output-dir: cannot create '${f}': not a directory`);
  });

  it('refuses a thread pool that would start hundreds of helper processes', async () => {
    const r = await run(['-m', 'threads', '-c', '500', 'http://127.0.0.1:9/']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--concurrency: threads mode .* at most 64/);
  });

  it('a URL argument with another scheme is a bad line, not a missing file', async () => {
    const r = await run(['-q', 'ftp://example.com/x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unsupported scheme 'ftp:'/);
  });
});

describe('formats', () => {
  it('ndjson carries every contract field', async () => {
    const { server } = ctx;
    const r = await run(['-f', 'ndjson', '-q', `${server.url}/bytes/1234`]);
    const [rec] = ndjson(r.stdout);
    expect(Object.keys(rec!)).toEqual([
      'index',
      'url',
      'mode',
      'ok',
      'status',
      'bytes',
      'start',
      'end',
      'ms',
      'attempts',
      'worker',
      'error',
      'file',
      'start_ms',
      'end_ms',
      'final_url',
      'redirects',
      'ttfb_ms',
      'content_type',
      'work_ms',
    ]);
    expect(rec).toMatchObject({
      index: 0,
      mode: 'async',
      ok: true,
      status: 200,
      bytes: 1234,
      attempts: 1,
      worker: null,
      error: null,
      file: null,
    });
    expect(rec!.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('machine formats keep stdout to records; the summary goes to stderr', async () => {
    const { server } = ctx;
    const r = await run(['-f', 'csv', `${server.url}/delay/1?x=a,b`]);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'index,url,mode,ok,status,bytes,start,end,ms,attempts,worker,error,file,start_ms,end_ms,final_url,redirects,ttfb_ms,content_type,work_ms',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`"${server.url}/delay/1?x=a,b"`);
    expect(r.stderr).toMatch(/async: 1 URL in/);
  });
});

describe('progress', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;

  it.skipIf(!hasScript)('draws a live line on a terminal stderr when stdout is redirected, then clears it', async () => {
    const { server } = ctx;
    const list = file('progress.txt', urls(server.url, '/delay/300', 12, '&prog').join('\n'));
    // script(1) gives the command a terminal; CI must be unset, since CI never gets a progress line.
    const env = { ...process.env, NO_COLOR: '1' } as NodeJS.ProcessEnv;
    delete env.CI;
    // Not spawnSync: the server answering these requests lives in this process.
    const child = track(spawn('script', ['-qc', `"${NODE}" "${BIN}" -c 4 -f ndjson "${list}" > /dev/null`, '/dev/null'], { env }));
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    await within(new Promise((resolve) => child.on('close', resolve)), 'the run under script(1)');
    const r = { stdout };
    const frames = r.stdout.split('\r\u001b[K').filter((f) => /in flight/.test(f));
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.some((f) => /^\d+\/12 done · \d+ failed · \d+ in flight · [\d.]+ req\/s · /.test(f))).toBe(true);
    // cleared before the summary
    expect(r.stdout).toMatch(/\r\u001b\[K[^\r]*async: 12 URLs in/);
  });

  it('never appears in a pipe', async () => {
    const { server } = ctx;
    // CI unset, so only the pipe keeps it away.
    const r = await run(['-f', 'ndjson', ...urls(server.url, '/delay/250', 3, '&pipe')], { env: { CI: '' } });
    expect(r.stderr).not.toMatch(/in flight ·|\u001b\[K/);
  });
});

describe('serve', () => {
  it('prints its base URL first, serves, and stops cleanly on SIGTERM and SIGINT', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const s = start(['serve', '--port', '0']);
      const base = await s.waitFor(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await run(['-f', 'ndjson', '-q', `${base}/delay/20`, `${base}/status/503`]);
      const recs = ndjson(r.stdout).sort((a, b) => (a.index as number) - (b.index as number));
      expect(recs.map((x) => x.status)).toEqual([200, 503]);
      const stats = await (await fetch(`${base}/stats`)).json();
      expect(stats.served).toBe(2);
      s.child.kill(sig);
      const done = await within(s.done, `serve to stop on ${sig}`);
      expect(done.code).toBe(0);
      expect(done.stdout.split('\n')[0]).toBe(base);
    }
  });
});
