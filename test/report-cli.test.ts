// The HTML report through the built CLI: --report on fetch, compare and demo, demo's default
// fetchall-demo.html and --no-report, a target checked before any request, a failed write, demo
// --print-list, and `fetchall report` merging shards and skipping bad lines.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { esc } from '../src/render/svg.js';
import { type Running, run, start } from './helpers/cli.js';
import { leftover } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';

const h = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh empty directory to run in, so a report written by default lands where the test looks. */
const freshDir = (name: string) => mkdtempSync(join(dir, `${name}-`));

/** The bars of one mode's lane in the waterfall: its <g class="lane"> up to the lane's end. */
function laneBars(html: string, mode: string): string[] {
  const at = html.indexOf(`<g class="lane" data-mode="${mode}">`);
  if (at < 0) return [];
  // up to the next lane, or the chart's end: a lane holds groups of its own (its axis, its failure band)
  const next = html.indexOf('<g class="lane"', at + 1);
  const lane = html.slice(at, next < 0 ? html.indexOf('</svg>', at) : next);
  return [...lane.matchAll(/<rect class="bar [a-z]+"[^>]*data-index="(\d+)"/g)].map((m) => m[1]!);
}

const lanes = (html: string) => [...html.matchAll(/<g class="lane" data-mode="([a-z]+)">/g)].map((m) => m[1]);

describe('--report on fetch', () => {
  it.each(['async', 'threads', 'inline'])('%s: writes one bar per URL, and stdout still carries only records', async (mode) => {
    const list = [...urls(h.server.url, '/delay/30', 5, `&r-${mode}`), `${h.server.url}/status/500?r-${mode}`];
    const path = join(dir, `fetch-${mode}.html`);
    const r = await run(['-m', mode, '-c', '3', '-f', 'ndjson', '--report', path, ...list]);
    expect(r.code, r.stderr).toBe(1);
    const records = r.stdout.trim().split('\n');
    expect(records.map((l) => JSON.parse(l).url).sort()).toEqual([...list].sort());
    expect(r.stderr).toContain(`fetchall: wrote the report to ${path} (open it in a browser)`);
    const html = readFileSync(path, 'utf8');
    expect(lanes(html)).toEqual([mode]);
    expect(laneBars(html, mode).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(html).toMatch(/<rect class="bar http"[^>]*data-index="5"/);
    expect(html).toContain(`<th>Node</th><td>${process.version}</td>`);
    expect(html).toContain('<th>-c (concurrency)</th><td>3</td>');
    expect(html).toContain('<th>per host</th><td>no limit</td>');
  });
});

describe('--report on compare', () => {
  it('stacks every mode, each on its own axis, with the table and both verdicts', async () => {
    const list = urls(h.server.url, '/delay/60', 6, '&cmp');
    const path = join(dir, 'compare.html');
    const r = await run(['compare', '--modes', 'inline,threads,async', '-c', '3', '--report', path, ...list]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(path, 'utf8');
    expect(lanes(html)).toEqual(['inline', 'threads', 'async']);
    for (const mode of ['inline', 'threads', 'async']) expect(laneBars(html, mode)).toHaveLength(6);
    expect(html).toContain('<section id="compare">');
    const verdicts = r.stdout.split('\n').filter((l) => / (ran|as fast as) /.test(l));
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    for (const v of verdicts) expect(html).toContain(`<p class="verdict">${v.trim()}</p>`);
  });
});

describe('--report target', () => {
  it.each([
    ['fetch', []],
    ['compare', ['compare']],
  ])('%s: a missing directory is a usage error before any request', async (_name, cmd) => {
    h.server.reset();
    const path = join(dir, 'no-such-dir', 'r.html');
    const r = await run([...cmd, '--report', path, ...urls(h.server.url, '/delay/10', 3, '&missing')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`fetchall: --report: cannot write the report to '${path}': no such file or directory (ENOENT)\n`);
    expect(h.server.stats().served).toBe(0);
  });

  it('a report that cannot be written (/dev/full) is exit 74 with one line', async () => {
    const r = await run(['-q', '--report', '/dev/full', ...urls(h.server.url, '/delay/10', 2, '&full')]);
    expect(r.code).toBe(74);
    expect(r.stderr).toBe("fetchall: cannot write the report '/dev/full': no space left on device (ENOSPC)\n");
    expect(r.stdout).toMatch(/^async: 2 URLs in /m);
  });
});

describe('demo and its report', () => {
  it('--report X writes X and says so on stderr, with the server’s own peak per mode', async () => {
    const cwd = freshDir('demo-x');
    const r = await run(['demo', '--modes', 'async,threads', '--runs', '1', '-c', '4', '--report', 'x.html'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('fetchall: wrote the report to x.html (open it in a browser)\n');
    expect(readdirSync(cwd)).toEqual(['x.html']);
    const html = readFileSync(join(cwd, 'x.html'), 'utf8');
    expect(lanes(html)).toEqual(['async', 'threads']);
    for (const mode of ['async', 'threads']) expect(laneBars(html, mode)).toHaveLength(12);
    expect(html.match(/server(&#39;|&#x27;|')s peak 4</g)).toHaveLength(2);
    expect(await leftover(r.tag)).toEqual([]);
  });

  it('writes fetchall-demo.html in the current directory by default, and nothing with --no-report', async () => {
    const cwd = freshDir('demo-default');
    const r = await run(['demo', '--modes', 'async', '-c', '4'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('fetchall: wrote the report to fetchall-demo.html (open it in a browser)\n');
    expect(laneBars(readFileSync(join(cwd, 'fetchall-demo.html'), 'utf8'), 'async')).toHaveLength(12);
    const none = freshDir('demo-none');
    const n = await run(['demo', '--modes', 'async', '-c', '4', '--no-report'], { cwd: none });
    expect(n.code, n.stderr).toBe(0);
    expect(n.stderr).toBe('');
    expect(readdirSync(none)).toEqual([]);
  });
});

describe('demo where its default report cannot go', () => {
  it('says demo writes fetchall-demo.html by default and suggests --no-report; exit 2, before any run', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fetchall-demo-ro-'));
    // a directory in the way (a read-only directory would not stop root)
    mkdirSync(join(cwd, 'fetchall-demo.html'));
    const r = await run(['demo', '--modes', 'async'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^fetchall: demo writes its HTML report to fetchall-demo\.html in the current directory by default, and cannot here: .*--no-report/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('demo --print-list', () => {
  let serve: Running | null = null;
  afterEach(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.done;
    serve = null;
  });

  it('prints a list pointing at serve’s default port, saying how to start it', async () => {
    const r = await run(['demo', '--print-list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe("# fetchall demo's list: 12 URLs on the built-in server at http://127.0.0.1:8080.");
    expect(lines[1]).toContain('fetchall serve --port 8080');
    expect(lines.filter((l) => !l.startsWith('#'))).toHaveLength(12);
    expect(lines.filter((l) => !l.startsWith('#')).every((l) => l.startsWith('http://127.0.0.1:8080/'))).toBe(true);
  });

  it('with a running server’s URL, is a list a fetch runs as it is', async () => {
    serve = start(['serve', '--port', '0']);
    const base = (await serve.waitFor(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
    const list = await run(['demo', '--print-list', `${base}/`]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(`${base}//`);
    const r = await run(['-f', 'ndjson', '-c', '12', '-'], { input: list.stdout });
    expect(r.code).toBe(1);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(12);
    expect(records.filter((x) => x.ok)).toHaveLength(11);
    expect(records.find((x) => !x.ok)).toMatchObject({ status: 404 });
  });

  it('a base that is not an http URL is a usage error', async () => {
    const r = await run(['demo', '--print-list', 'ftp://x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^fetchall: error: option '--print-list \[base\]' argument 'ftp:\/\/x' is invalid\. expected an http or https URL\n/,
    );
  });
});

describe('fetchall report', () => {
  it('one run of a list with a URL three times: three records, no duplicate', async () => {
    const url = `${h.server.url}/delay/5?thrice`;
    const a = await run(['-f', 'ndjson', '-c', '2', url, url, url]);
    expect(a.code, a.stderr).toBe(0);
    writeFileSync(join(dir, 'thrice.ndjson'), a.stdout);
    const r = await run(['report', join(dir, 'thrice.ndjson'), '--no-timeline']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^async: 3 URLs in /m);
    expect(r.stderr).not.toMatch(/duplicate/);
    // the same file again is the same records: each a duplicate of its own index
    const twice = await run(['report', join(dir, 'thrice.ndjson'), join(dir, 'thrice.ndjson'), '--no-timeline']);
    expect(twice.stdout).toMatch(/^async: 3 URLs in /m);
    expect(twice.stderr).toContain('3 duplicate records (same index and URL) in async');
  });

  it('merges shard files of one list by index: every item once, one bar each', async () => {
    const list = urls(h.server.url, '/delay/20', 10, '&shard');
    const a = await run(['-f', 'ndjson', '-c', '4', '--shard', '1/2', '--shard-by', 'index', ...list]);
    const b = await run(['-f', 'ndjson', '-c', '4', '--shard', '2/2', '--shard-by', 'index', ...list]);
    writeFileSync(join(dir, 'a.ndjson'), a.stdout);
    // b's first record again, as a resumed run appends it: a real duplicate (same index and URL).
    writeFileSync(join(dir, 'b.ndjson'), b.stdout + b.stdout.split('\n')[0]! + '\n');
    const html = join(dir, 'merged.html');
    const r = await run(['report', join(dir, 'a.ndjson'), join(dir, 'b.ndjson'), '--html', html, '--no-timeline']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^async: 10 URLs in /m);
    expect(r.stdout).toMatch(/^ {2}10 ok {3}0 failed/m);
    expect(r.stderr).toContain('1 duplicate record (same index and URL) in async');
    expect(r.stderr).toContain(`wrote the report to ${html}`);
    expect(laneBars(readFileSync(html, 'utf8'), 'async')).toHaveLength(10);
  });

  it('one URL listed 100 times, split over 4 shards by index: 100 records, none merged away', async () => {
    const list = Array.from({ length: 100 }, () => `${h.server.url}/delay/1?same`);
    const files: string[] = [];
    for (let k = 1; k <= 4; k++) {
      const r = await run(['-f', 'ndjson', '-c', '8', '--shard', `${k}/4`, '--shard-by', 'index', ...list]);
      expect(r.code, r.stderr).toBe(0);
      files.push(join(dir, `same-${k}.ndjson`));
      writeFileSync(files.at(-1)!, r.stdout);
    }
    const r = await run(['report', ...files, '--no-timeline']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^async: 100 URLs in /m);
    expect(r.stderr).not.toMatch(/duplicate/);
  });

  it('reports a bad line as FILE:LINE and skips it (exit 1); reads stdin given as -', async () => {
    const good = await run(['-f', 'ndjson', ...urls(h.server.url, '/delay/5', 2, '&bad')]);
    const [one, two] = good.stdout.trim().split('\n');
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, `${one}\n{"truncated":\n`);
    const r = await run(['report', file, '-', '--no-timeline'], { input: `${two}\n` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2: not JSON\n`);
    expect(r.stderr).toContain('fetchall: 1 bad line skipped\n');
    expect(r.stdout).toMatch(/^async: 2 URLs in /m);
    expect(existsSync(join(dir, 'bad.html'))).toBe(false);
  });

  it('shows every field it prints from records that are not well-formed as text, never as markup or raw controls', async () => {
    // Each field the report prints, from records no fetchall wrote: a url that is not a URL (short, so
    // the waterfall's label shows all of it), an error code and message of markup, DEL as the only
    // control character, a bidi override, and a file name of markup.
    const when = (ms: number) => new Date(1_700_000_000_000 + ms).toISOString();
    const rec = (index: number, url: string, error: { code: string; message: string } | null) =>
      JSON.stringify({
        index,
        url,
        mode: 'async',
        ok: error === null,
        status: error ? 200 : 200,
        bytes: 5,
        start: when(index * 10),
        end: when(index * 10 + 40),
        ms: 40,
        attempts: 1,
        worker: 3,
        error,
        file: null,
      });
    const hostile = {
      label: '<script>alert(1)</script>',
      del: 'x\u007f<b>y</b>',
      bidi: 'a\u202e<i>b</i>',
      code: '<img src=x onerror=alert(2)>\u007f',
      message: '</title><script>alert(3)</script>\u007f',
    };
    const file = join(dir, '<u>records.ndjson');
    writeFileSync(
      file,
      `${[
        rec(0, hostile.label, null),
        rec(1, hostile.del, null),
        rec(2, hostile.bidi, null),
        rec(3, 'http://h/x', { code: hostile.code, message: hostile.message }),
      ].join('\n')}\n`,
    );
    const path = join(dir, 'hostile.html');
    const r = await run(['report', file, '--html', path]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(path, 'utf8');
    // Nothing a record holds became an element, and no raw DEL or bidi control reached the page.
    expect(html).not.toMatch(/<script|<img|<b>|<i>|<u>/i);
    expect(html).not.toMatch(/[\u007f\u202e]/);
    // Each field is on the page, escaped: the waterfall's label (the whole url, under 26 characters)
    // and each bar's title.
    const label = (s: string) => `text-anchor="end">${esc(s)}</text>`;
    expect(html).toContain(label(hostile.label));
    expect(html).toContain(label(hostile.del));
    expect(html).toContain(label(hostile.bidi));
    expect(html).toContain(`#0 ${esc(hostile.label)}`);
    expect(html).toContain(`#1 x\\x7f&lt;b&gt;y&lt;/b&gt;`);
    expect(html).toContain(`#2 a\\u202e&lt;i&gt;b&lt;/i&gt;`);
    expect(html).toContain(`failed: ${esc(hostile.code)} (status 200)`);
    expect(html).toContain(esc(file));
    // The text report: the same fields, controls shown as escapes, never raw. (Bidi controls are
    // escaped only in HTML today: escapeControls leaves them, in the text of every format.)
    expect(r.stdout + r.stderr).not.toMatch(/\u007f/);
    expect(r.stdout).toContain('x\\x7f<b>y</b>');
  });

  it('an --html target in a missing directory is a usage error before reading', async () => {
    const r = await run(['report', '--html', join(dir, 'nope', 'r.html'), '-'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fetchall: --html: cannot write the report to '.*r\.html': no such file or directory \(ENOENT\)\n$/);
  });
});
