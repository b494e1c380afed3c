// Output that cannot be written (stdout or stderr on /dev/full, a --json target that fails): one
// line naming the target, exit 74, no stack trace; and compare's list has a cap on its size.

import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, NODE, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();
const FULL = '/dev/full';
const fullExists = existsSync(FULL);
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI with stdout or stderr opened on /dev/full; the other stream is read. */
function runInto(args: string[], full: 'stdout' | 'stderr', deadlineMs = 45_000): Promise<Result> {
  const fd = openSync(FULL, 'w');
  const child = spawn(NODE, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, CI: 'true' } as NodeJS.ProcessEnv,
    stdio: full === 'stdout' ? ['ignore', fd, 'pipe'] : ['ignore', 'pipe', fd],
  });
  closeSync(fd);
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within ${deadlineMs} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

describe.skipIf(!fullExists)('stdout on /dev/full', () => {
  for (const mode of ['async', 'threads', 'inline'] as const) {
    for (const format of ['text', 'ndjson'] as const) {
      it(`${mode} ${format}: exit 74 and one line naming stdout, no stack trace`, async () => {
        const u = ctx.server.url;
        const r = await runInto(['-m', mode, '-c', '2', '-f', format, `${u}/delay/10?a`, `${u}/delay/10?b`, `${u}/status/404`], 'stdout');
        expect(r.stderr).not.toContain('    at ');
        expect(lines(r.stderr)).toEqual(['fetchall: cannot write to stdout (/dev/full): no space left on device (ENOSPC)']);
        expect(r.code).toBe(74);
      });
    }
  }

  it('help to /dev/full: exit 74, one line', async () => {
    const r = await runInto(['--help'], 'stdout');
    expect(lines(r.stderr)).toEqual(['fetchall: cannot write to stdout (/dev/full): no space left on device (ENOSPC)']);
    expect(r.code).toBe(74);
  });
});

describe.skipIf(!fullExists)('stderr on /dev/full', () => {
  for (const mode of ['async', 'threads', 'inline'] as const) {
    it(`${mode} ndjson: the records arrive whole; exit 74, quietly`, async () => {
      const u = ctx.server.url;
      const r = await runInto(['-m', mode, '-c', '2', '-f', 'ndjson', `${u}/delay/10?a`, `${u}/delay/10?b`], 'stderr');
      expect(lines(r.stdout).map((l) => JSON.parse(l).ok)).toEqual([true, true]);
      expect(r.code).toBe(74);
    });
  }

  it('text with a bad line to report: the report is on stdout; exit 74', async () => {
    const r = await runInto([`${ctx.server.url}/delay/10`, 'ftp://x/'], 'stderr');
    expect(r.stdout).toMatch(/1 ok +1 failed/);
    expect(r.stdout).not.toContain('    at ');
    expect(r.code).toBe(74);
  });

  it('text with nothing to say on stderr: success stays 0', async () => {
    const r = await runInto([`${ctx.server.url}/delay/10`], 'stderr');
    expect(r.stdout).toMatch(/1 ok +0 failed/);
    expect(r.code).toBe(0);
  });

  it('a usage error that cannot be said: exit 74, nothing on stdout', async () => {
    const r = await runInto(['--bogus'], 'stderr');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(74);
  });
});

describe('compare --json', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'fetchall-json-'));

  it.skipIf(!fullExists)('to /dev/full: the table and verdict are printed, then one line; exit 74', async () => {
    const u = ctx.server.url;
    const r = await run(['compare', '--modes', 'async,inline', '--json', FULL, `${u}/delay/10?a`, `${u}/delay/10?b`]);
    expect(r.stdout).toMatch(/^Comparison$/m);
    expect(r.stdout).toMatch(/ran [\d.]+ times faster than|As fast as/);
    expect(r.stderr).not.toContain('    at ');
    expect(lines(r.stderr)).toEqual([`fetchall: cannot write --json file '${FULL}': no space left on device (ENOSPC)`]);
    expect(r.code).toBe(74);
  });

  it('into a directory that does not exist: one line, a usage error (exit 2), nothing fetched', async () => {
    const target = join(dir(), 'missing', 'cmp.json');
    const before = ctx.server.stats().served;
    const r = await run(['compare', '--modes', 'async', '--json', target, `${ctx.server.url}/delay/10`]);
    expect(r.stderr).not.toContain('    at ');
    expect(lines(r.stderr)).toEqual([`fetchall: cannot write --json file '${target}': no such file or directory (ENOENT)`]);
    expect(r.code).toBe(2);
    expect(ctx.server.stats().served).toBe(before);
  });

  it('--export-markdown and --export-csv into a missing directory: the same usage error, exit 2, nothing fetched', async () => {
    const before = ctx.server.stats().served;
    for (const flag of ['--export-markdown', '--export-csv']) {
      const target = join(dir(), 'missing', 'cmp.out');
      const r = await run(['compare', '--modes', 'async', flag, target, `${ctx.server.url}/delay/10`]);
      expect(lines(r.stderr)).toEqual([`fetchall: cannot write ${flag} file '${target}': no such file or directory (ENOENT)`]);
      expect(r.code).toBe(2);
    }
    expect(ctx.server.stats().served).toBe(before);
  });

  it('under a path through a regular file: one line, exit 2', async () => {
    const file = join(dir(), 'plain');
    writeFileSync(file, 'x');
    const r = await run(['compare', '--modes', 'async', '--json', join(file, 'cmp.json'), `${ctx.server.url}/delay/10`]);
    expect(lines(r.stderr)).toEqual([`fetchall: cannot write --json file '${join(file, 'cmp.json')}': not a directory (ENOTDIR)`]);
    expect(r.code).toBe(2);
  });

  // root may write anywhere, so a read-only directory only stops other users.
  it.skipIf(process.getuid?.() === 0)('into a read-only directory: one line, exit 2', async () => {
    const ro = join(dir(), 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = await run(['compare', '--modes', 'async', '--json', join(ro, 'cmp.json'), `${ctx.server.url}/delay/10`]);
    expect(lines(r.stderr)).toEqual([`fetchall: cannot write --json file '${join(ro, 'cmp.json')}': permission denied (EACCES)`]);
    expect(r.code).toBe(2);
  });

  it('replaces an existing file whole and leaves no temp file behind', async () => {
    const d = dir();
    const target = join(d, 'cmp.json');
    writeFileSync(target, 'old');
    const r = await run(['compare', '--modes', 'async', '-q', '--json', target, `${ctx.server.url}/delay/10`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(target, 'utf8')).tool).toBe('fetchall');
    expect(readdirSync(d)).toEqual(['cmp.json']);
  });
});

describe('compare reads its whole list, within a cap', () => {
  it('an endless stdin is a usage error in one line, exit 2, and reading stops', async () => {
    const child = spawn(NODE, [BIN, 'compare', '-q'], {
      env: { ...process.env, NO_COLOR: '1', CI: 'true' } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdout!.resume();
    // `yes URL`: write as fast as the child reads, for as long as it reads.
    const chunk = 'http://127.0.0.1:9/x\n'.repeat(4096);
    let writing = true;
    child.stdin!.on('error', () => {
      writing = false;
    });
    const pump = () => {
      while (writing && child.stdin!.write(chunk)) {}
      if (writing) child.stdin!.once('drain', pump);
    };
    pump();
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`compare kept reading an endless stdin.\nstderr:\n${stderr}`)), 45_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    writing = false;
    expect(stderr).not.toContain('    at ');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^fetchall: compare: the list is too long \(over 1,000,000 URLs/);
    expect(code).toBe(2);
  });
});

describe('help into a closed pipe', () => {
  it('fetchall --help | head -1 with the reader gone: exit 141, nothing said', async () => {
    const child = spawn(NODE, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    // The reader leaves before the help is written: the write meets EPIPE.
    child.stdout!.destroy();
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(err).toBe('');
    expect(code).toBe(141);
  });
});
