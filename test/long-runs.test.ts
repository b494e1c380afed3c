// Long runs: the progress line by value at 40, 60 and 120 columns; when it is drawn (a terminal
// under script(1), -q, text longer than a screen) and when never (a pipe); -q's one line per
// failure on stderr; a progress line kept below other lines on the same terminal.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clock, type Progress, progressLine } from '../src/render/progress.js';
import { Out } from '../src/render/write.js';
import { BadLinesSink } from '../src/sinks/bad-lines.js';
import { FailuresSink } from '../src/sinks/failures.js';
import { ProgressSink } from '../src/sinks/progress.js';
import { BIN, NODE, run } from './helpers/cli.js';
import { processesTagged } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-long-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(lines: string[]): string {
  const p = join(dir, `list-${n++}.txt`);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

describe('progressLine by value', () => {
  const mid: Progress = { done: 1234, total: 5000, failed: 17, inFlight: 10, elapsedMs: 25_000 };

  it('at 120 columns: every field, the ETA from the rate so far', () => {
    expect(progressLine(mid, 120)).toBe('1234/5000 done · 17 failed · 10 in flight · 49.4 req/s · ETA 1:16 · 0:25 elapsed');
  });

  it('at 60 and 40 columns: the least useful fields go first, never longer than the width', () => {
    expect(progressLine(mid, 60)).toBe('1234/5000 done · 17 failed · 10 in flight · ETA 1:16');
    expect(progressLine(mid, 40)).toBe('1234/5000 done · 17 failed · ETA 1:16');
  });

  it('without a total: elapsed time instead of an ETA; a zero failed count goes before the rest', () => {
    const open: Progress = { done: 87, total: null, failed: 0, inFlight: 4, elapsedMs: 3_000 };
    expect(progressLine(open, 120)).toBe('87 done · 0 failed · 4 in flight · 29.0 req/s · 0:03 elapsed');
    expect(progressLine(open, 40)).toBe('87 done · 0 failed · 0:03 elapsed');
  });

  it('never reaches the last column, at any width and any size of figures', () => {
    const cases: Progress[] = [
      mid,
      { done: 0, total: null, failed: 0, inFlight: 0, elapsedMs: 0 },
      { done: 999_999, total: 1_000_000, failed: 123_456, inFlight: 64, elapsedMs: 4 * 3_600_000 },
      { done: 5, total: 5, failed: 5, inFlight: 0, elapsedMs: 10 },
    ];
    for (const p of cases) {
      for (const w of [10, 20, 40, 41, 59, 60, 61, 80, 120, 200]) {
        const line = progressLine(p, w);
        expect(line.length, `${w}: ${line}`).toBeLessThan(w);
        expect(line.length).toBeGreaterThan(0);
      }
    }
  });

  it('clock: whole seconds, minutes, hours', () => {
    expect([clock(0), clock(7_400), clock(725_000), clock(3_725_000)]).toEqual(['0:00', '0:07', '12:05', '1:02:05']);
  });
});

/** A live Out over a stream that keeps what it is given. */
function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { out: new Out(stream, true, 'stderr'), text: () => chunks.join('') };
}

describe('the progress line on one terminal with other lines', () => {
  // Fake timers: the progress line's 200 ms redraw is run by moving time, not waited for.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is cleared before a failure or bad line and drawn again below it', async () => {
    const err = capture();
    const progress = new ProgressSink(err.out, 3, { columns: () => 80, after: 0 });
    const failures = new FailuresSink(err.out, progress);
    const bad = new BadLinesSink(err.out, progress);
    progress.onStart(Date.now());
    await vi.advanceTimersByTimeAsync(200);
    expect(err.text()).toContain('0/3 done');
    const rec = {
      index: 0,
      url: 'http://h/x',
      mode: 'async' as const,
      ok: false,
      status: 404,
      bytes: 0,
      start: 0,
      end: 1,
      ms: 1,
      finalUrl: null,
      redirects: 0,
      ttfbMs: null,
      contentType: null,
    };
    const fail = {
      kind: 'fail' as const,
      record: { ...rec, attempts: 1, worker: null, file: null, error: { code: 'HTTP_STATUS', message: '404 Not Found' } },
    };
    for (const s of [progress, failures, bad]) s.onEvent(fail);
    const badLine = { ...fail, record: { ...fail.record, attempts: 0, error: { code: 'BAD_INPUT', message: 'l.txt:2: not a URL' } } };
    for (const s of [progress, failures, bad]) s.onEvent(badLine);
    progress.close();
    const t = err.text();
    // Each line starts on a cleared row and the progress comes back after it.
    expect(t).toContain('\r\x1b[Kfetchall: http://h/x: 404 Not Found\n\r\x1b[K1/3 done · 1 failed');
    expect(t).toContain('\r\x1b[Kl.txt:2: not a URL\n\r\x1b[K2/3 done · 2 failed');
    expect(t.endsWith('\r\x1b[K')).toBe(true);
  });

  it('after N: not drawn until the run is longer than N URLs', async () => {
    const err = capture();
    const progress = new ProgressSink(err.out, null, { columns: () => 80, after: 3 });
    progress.onStart(Date.now());
    for (let i = 0; i < 3; i++) progress.onEvent({ kind: 'start', index: i, url: 'http://h/', t: Date.now(), worker: null, attempt: 1 });
    // Many redraw ticks, and still nothing drawn for 3 URLs.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(err.text()).toBe('');
    progress.onEvent({ kind: 'start', index: 3, url: 'http://h/', t: Date.now(), worker: null, attempt: 1 });
    await vi.advanceTimersByTimeAsync(200);
    expect(err.text()).toContain('0 done · 0 failed · 4 in flight');
    progress.close();
  });
});

/**
 * Run a shell command under script(1) on a pty of `cols`×`rows`, so stdout and stderr are a
 * terminal (CI unset: CI never gets a progress line). Resolves with what the terminal received.
 */
function inTerminal(command: string, cols = 100, rows = 30, deadlineMs = 40_000): Promise<{ code: number | null; tty: string }> {
  const tag = `fetchall-test-long-${n++}-${Date.now()}`;
  const env = { ...process.env, NO_COLOR: '1', FETCHALL_TEST_TAG: tag, TERM: 'xterm' } as NodeJS.ProcessEnv;
  delete env.CI;
  const child = spawn('script', ['-qfec', `stty cols ${cols} rows ${rows}; ${command}`, '/dev/null'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tty = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    tty += d;
  });
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
    for (const p of processesTagged(tag)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
  }, deadlineMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, tty });
    });
  });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const cli = (args: string) => `${q(NODE)} ${q(BIN)} ${args}`;
/** The progress frames drawn: the text after each erase-line that looks like one. */
const frames = (tty: string) => tty.split('\r\x1b[K').filter((f) => /^\d+(\/\d+)? done/.test(f));

describe('when the progress line is drawn', () => {
  it('-q on a terminal: drawn (with a total), within the width, cleared before the summary', async () => {
    const list = file(urls(ctx.server.url, '/delay/100', 24, '&q-tty'));
    const r = await inTerminal(cli(`-q -c 4 ${q(list)}`), 60);
    expect(r.code, r.tty).toBe(0);
    const f = frames(r.tty);
    expect(f.length, r.tty).toBeGreaterThan(0);
    expect(f.some((x) => /^\d+\/24 done/.test(x))).toBe(true);
    for (const x of f) expect(x.split(/[\r\n]/)[0]!.length).toBeLessThan(60);
    expect(r.tty).toMatch(/\r\x1b\[K(\r\n)?async: 24 URLs in/);
  });

  it('-q in a pipe: never; the failures still print one line each on stderr', async () => {
    const list = file([`${ctx.server.url}/delay/200?q-pipe`, `${ctx.server.url}/status/404?q-pipe`, 'http://127.0.0.1:9/', 'not a url']);
    const r = await run(['-q', list], { env: { CI: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/in flight|\x1b\[K/);
    // One line per failed URL (the bad line by its own sink, as FILE:LINE); none for the ok one.
    expect(r.stderr.split('\n').filter(Boolean).sort()).toEqual(
      [
        `${list}:4: not a URL`,
        `fetchall: ${ctx.server.url}/status/404?q-pipe: 404 Not Found`,
        'fetchall: http://127.0.0.1:9/: ECONNREFUSED connect refused',
      ].sort(),
    );
    // The summary is on stdout, as ever with -q in text.
    expect(r.stdout).toMatch(/async: 4 URLs in/);
  });

  it('-q with a machine format: records on stdout, failures on stderr', async () => {
    const r = await run(['-q', '-f', 'ndjson', `${ctx.server.url}/status/503?q-nd`, `${ctx.server.url}/delay/1?q-nd`]);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toBe(`fetchall: ${ctx.server.url}/status/503?q-nd: 503 Service Unavailable\n`);
  });

  it('text on a terminal: only when the list is longer than the screen, below the lines', async () => {
    const long = file(urls(ctx.server.url, '/delay/60', 30, '&long-tty'));
    const r = await inTerminal(cli(`-c 3 --no-timeline ${q(long)}`), 100, 12);
    expect(r.code, r.tty).toBe(0);
    expect(frames(r.tty).length, r.tty).toBeGreaterThan(0);
    // Never in the middle of a line: each frame is erased before the next text line.
    for (const line of r.tty.split('\n')) {
      if (/ (start|done) +#\d+/.test(line)) expect(line.replace(/^[\s\S]*\r\x1b\[K/, '')).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}\+/);
    }
    const short = file(urls(ctx.server.url, '/delay/60', 3, '&short-tty'));
    const s = await inTerminal(cli(`-c 3 --no-timeline ${q(short)}`), 100, 12);
    expect(s.code, s.tty).toBe(0);
    expect(frames(s.tty)).toEqual([]);
  });

  it('machine format on a terminal: never (the records are the progress)', async () => {
    const list = file(urls(ctx.server.url, '/delay/30', 30, '&nd-tty'));
    const r = await inTerminal(cli(`-f ndjson -c 3 ${q(list)}`), 100, 10);
    expect(r.code, r.tty).toBe(0);
    expect(frames(r.tty)).toEqual([]);
  });
});
