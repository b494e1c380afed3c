// Non-regular inputs (FIFO, /dev/stdin from a pipe, <(…)) read exactly once, also with the live
// progress line on a real terminal; stops that come while the input writer is idle or while
// inline's last request blocks the loop; and what a stopped run says it did not start.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { countable, resolveSources } from '../src/input.js';
import { RunMeter } from '../src/measure/stats.js';
import { plain } from '../src/render/paint.js';
import { summaryText } from '../src/render/summary.js';
import { BIN, NODE, ndjson, type Running, start, track } from './helpers/cli.js';
import { leftover, processesTagged } from './helpers/procs.js';
import { urls, useServer } from './helpers/server.js';
import { within } from './helpers/wait.js';

const ctx = useServer();
const dir = mkdtempSync(join(tmpdir(), 'fetchall-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const fifo = () => {
  const path = join(dir, `fifo-${n++}`);
  execFileSync('mkfifo', [path]);
  return path;
};

/** Wait for `test` to hold, polling; fail with `what` at the deadline. */
async function until(test: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('which sources are counted for the progress total', () => {
  it('counts URLs and regular files only: never a FIFO, stdin, /dev/stdin or a device', () => {
    const file = join(dir, 'list.txt');
    writeFileSync(file, 'http://127.0.0.1/\n');
    const f = fifo();
    expect(countable(resolveSources(['http://127.0.0.1/a', file], true))).toBe(true);
    expect(countable(resolveSources([file, f], true))).toBe(false);
    expect(countable(resolveSources(['-'], true))).toBe(false);
    expect(countable(resolveSources([], false))).toBe(false);
    expect(countable(resolveSources([file, '/dev/null'], true))).toBe(false);
    // Through a symlink to a FIFO, as /dev/stdin and /dev/fd/N are.
    const link = join(dir, 'link-to-fifo');
    execFileSync('ln', ['-s', f, link]);
    expect(countable(resolveSources([link], true))).toBe(false);
  });
});

/**
 * Run a shell command under `script`, so its stderr is a real terminal (the progress line's
 * condition) while the command redirects stdout itself. Resolves with the terminal's text and
 * the command's exit status; kills the session at the deadline (a hang is a failure, not a wait).
 */
function inTerminal(command: string, tag: string, deadlineMs = 40_000): Promise<{ code: number | null; tty: string; hung: boolean }> {
  const env = { ...process.env, NO_COLOR: '1', FETCHALL_TEST_TAG: tag, TERM: 'xterm' } as NodeJS.ProcessEnv;
  delete env.CI;
  const child = track(spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }), tag);
  let tty = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    tty += d;
  });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
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
      resolve({ code, tty, hung });
    });
  });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('non-regular sources with the progress line on (stdout redirected, stderr a terminal)', () => {
  const cases: [string, (list: string, out: string) => string][] = [
    [
      'a regular file (counted: the progress line has a total)',
      (list, out) => `${q(NODE)} ${q(BIN)} -f ndjson -c 20 ${q(list)} > ${q(out)}`,
    ],
    ['a named FIFO', (list, out) => `cat ${q(list)} > ${q(FIFO)} & ${q(NODE)} ${q(BIN)} -f ndjson -c 20 ${q(FIFO)} > ${q(out)}`],
    ['/dev/stdin from a pipe', (list, out) => `cat ${q(list)} | ${q(NODE)} ${q(BIN)} -f ndjson -c 20 /dev/stdin > ${q(out)}`],
    [
      'a process substitution <(…) with a slow writer',
      (list, out) => `bash -c ${q(`${q(NODE)} ${q(BIN)} -f ndjson -c 20 <(while read -r l; do echo "$l"; done < ${q(list)}) > ${q(out)}`)}`,
    ],
  ];
  let FIFO = '';

  it.each(cases)('%s: all 2,000 records arrive, exit 0', async (name, command) => {
    FIFO = fifo();
    const list = join(dir, `l2000-${n++}.txt`);
    const out = join(dir, `out-${n++}.ndjson`);
    const regular = name.startsWith('a regular file');
    // The regular file's run lasts long enough (≥ 100 rounds of 5 ms) for the line to be drawn.
    writeFileSync(list, `${urls(ctx.server.url, regular ? '/delay/5' : '/delay/1', 2000, `&src=${n}`).join('\n')}\n`);
    const tag = `fetchall-test-tty-${n}-${Date.now()}`;
    const r = await inTerminal(command(list, out), tag);
    expect(r.hung, `hung; terminal said:\n${r.tty}`).toBe(false);
    // The progress line was live: it is cleared with an erase-line at the end.
    expect(r.tty).toContain('\x1b[K');
    if (regular) expect(r.tty).toMatch(/\d+\/2000 done/);
    else expect(r.tty).not.toMatch(/\/2000 done/);
    const recs = ndjson(readFileSync(out, 'utf8')) as { index: number; ok: boolean }[];
    expect(recs).toHaveLength(2000);
    expect(new Set(recs.map((x) => x.index)).size).toBe(2000);
    expect(recs.every((x) => x.ok)).toBe(true);
    expect(r.code, r.tty).toBe(0);
    expect(await leftover(tag)).toEqual([]);
  });
});

describe('a stop while the input writer is idle', () => {
  let writer: FileHandle | null = null;
  let running: Running | null = null;
  let extra: ChildProcess | null = null;
  afterEach(async () => {
    running?.child.kill('SIGKILL');
    extra?.kill('SIGKILL');
    await writer?.close();
    writer = null;
    running = null;
    extra = null;
  });

  it.each(['async', 'threads', 'inline'] as const)('%s: a FIFO whose writer stays open: SIGTERM exits 143 at once', async (mode) => {
    const f = fifo();
    running = start(['-m', mode, '-c', '2', '-f', 'ndjson', f]);
    writer = await open(f, 'w');
    await writer.write(`${urls(ctx.server.url, '/delay/1', 3, `&idle-${mode}`).join('\n')}\n`);
    await until(() => ndjson(running!.stdout()).length === 3, 'three records');
    running.child.kill('SIGTERM');
    // The writer is still open and idle: the run must end without waiting for it.
    const ended = await Promise.race([running.done, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(ended, 'still running 10 s after SIGTERM, waiting on the idle writer').not.toBeNull();
    expect(ended!.code).toBe(143);
    expect(ended!.stderr).not.toMatch(/\bat \S+:\d+:\d+/);
    expect(await leftover(ended!.tag)).toEqual([]);
  });

  it('/dev/stdin from a pipe whose writer stays open: SIGINT exits 130 at once', async () => {
    const f = fifo();
    const tag = `fetchall-test-pipe-${Date.now()}`;
    let out = '';
    let err = '';
    // The shell waits for `cat` as well, so fetchall's own status is reported as soon as it exits.
    extra = track(
      spawn('sh', ['-c', `cat ${q(f)} | { ${q(NODE)} ${q(BIN)} -f ndjson /dev/stdin; echo "status=$?" >&2; }`], {
        env: { ...process.env, CI: 'true', FETCHALL_TEST_TAG: tag },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      tag,
    );
    extra.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    extra.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    writer = await open(f, 'w');
    await writer.write(`${urls(ctx.server.url, '/delay/1', 2, '&idle-pipe').join('\n')}\n`);
    await until(() => ndjson(out).length === 2, 'two records');
    // fetchall itself, not the shells around it (their command lines name it too).
    const cli = processesTagged(tag).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === BIN);
    expect(cli).toBeDefined();
    process.kill(cli!, 'SIGINT');
    await until(() => /status=\d+/.test(err), 'fetchall to exit while the writer is idle', 10_000);
    expect(err).toMatch(/status=130/);
  });

  it('stdin (-) whose writer stays open: SIGINT exits 130 at once', async () => {
    running = start(['-f', 'ndjson', '-'], { stdin: 'pipe' });
    running.child.stdin!.write(`${urls(ctx.server.url, '/delay/1', 2, '&idle-stdin').join('\n')}\n`);
    await until(() => ndjson(running!.stdout()).length === 2, 'two records');
    running.child.kill('SIGINT');
    const ended = await Promise.race([running.done, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(ended).not.toBeNull();
    expect(ended!.code).toBe(130);
  });
});

describe('a signal during the last request', () => {
  it.each([
    ['inline', 'SIGINT', 130],
    ['inline', 'SIGTERM', 143],
    ['async', 'SIGINT', 130],
    ['threads', 'SIGTERM', 143],
  ] as const)('%s: %s while the only request runs exits %d', async (mode, sig, code) => {
    const path = `/delay/2500?last-${mode}-${sig}`;
    const s = start(['-m', mode, `${ctx.server.url}${path}`]);
    try {
      await until(() => ctx.server.stats().requests.some((x) => x.path === path), 'the request at the server');
      s.child.kill(sig);
      const r = await within(s.done, 'the exit after the signal');
      expect(r.code, r.stderr).toBe(code);
      expect(`${r.stdout}${r.stderr}`).toMatch(new RegExp(`interrupted by ${sig}`));
      expect(await leftover(r.tag)).toEqual([]);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('inline: a signal during a middle request also exits 130 and starts nothing more', async () => {
    const u = ctx.server.url;
    const s = start(['-m', 'inline', '-f', 'ndjson', `${u}/delay/1500?mid-a`, `${u}/delay/1?mid-b`]);
    try {
      await until(() => ctx.server.stats().requests.some((x) => x.path === '/delay/1500?mid-a'), 'the first request');
      s.child.kill('SIGINT');
      const r = await within(s.done, 'the exit after the signal');
      expect(r.code).toBe(130);
      expect(ctx.server.stats().requests.some((x) => x.path === '/delay/1?mid-b')).toBe(false);
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});

describe('what a stopped run did not start', () => {
  it.each([
    [{ count: 4, more: false }, /interrupted by SIGINT: partial results, 4 not started$/m],
    [{ count: 3, more: true }, /partial results, 3\+ not started$/m],
    [{ count: 0, more: true }, /partial results, input not read to the end$/m],
    [{ count: 0, more: false }, /partial results$/m],
  ])('the summary says %j', (notStarted, re) => {
    const meter = new RunMeter('async', () => []);
    const text = summaryText(
      meter.finish({ startupMs: 0, threads: 1, helpers: 0, interrupted: 'SIGINT', notStarted, blockedMs: 0 }),
      plain,
    );
    expect(text).toMatch(re);
  });

  it('counts URLs never started in the summary', async () => {
    const u = ctx.server.url;
    const s = start([
      '-c',
      '1',
      '-q',
      `${u}/hang?ns-0`,
      `${u}/delay/1?ns-1`,
      `${u}/delay/1?ns-2`,
      `${u}/delay/1?ns-3`,
      `${u}/delay/1?ns-4`,
    ]);
    try {
      await until(() => ctx.server.stats().requests.some((x) => x.path === '/hang?ns-0'), 'the first request');
      s.child.kill('SIGINT');
      const r = await within(s.done, 'the exit after the signal');
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/1 URL in .*interrupted by SIGINT.*4 not started/);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('a file read only in part: counted when the file is regular', async () => {
    const u = ctx.server.url;
    const file = join(dir, 'ns.txt');
    writeFileSync(file, `${u}/hang?nsf\n${urls(u, '/delay/1', 200, '&nsf').join('\n')}\n`);
    const s = start(['-c', '1', '-q', file]);
    try {
      await until(() => ctx.server.stats().requests.some((x) => x.path === '/hang?nsf'), 'the first request');
      s.child.kill('SIGINT');
      const r = await within(s.done, 'the exit after the signal');
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/1 URL in .*200 not started/);
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});
