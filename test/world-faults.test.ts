// The disk, not the server, fails: -o on a full filesystem, -o on a read-only one, and the records
// themselves written to a full disk. Real filesystems (tmpfs mounts), so this needs root.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { BIN, NODE, ndjson, run, track } from './helpers/cli.js';
import { leftover } from './helpers/procs.js';
import { useServer } from './helpers/server.js';
import { within } from './helpers/wait.js';
import { partFiles } from './helpers/world.js';

const ctx = useServer();

/** The CLI with its stdout on `target` (a file on a full disk), as a shell's `> target` gives it: its exit code and stderr. */
async function runToFile(args: string[], target: string): Promise<{ code: number | null; err: string }> {
  const fd = openSync(target, 'w');
  const child = track(spawn(NODE, [BIN, ...args], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, NO_COLOR: '1', CI: 'true' } }));
  closeSync(fd);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await within(new Promise<number | null>((res) => child.on('close', (c) => res(c))), 'the run to end');
  return { code, err };
}

type Rec = {
  index: number;
  ok: boolean;
  status: number | null;
  bytes: number;
  error: { code: string; message: string } | null;
  file: string | null;
};
const byIndex = (stdout: string) => (ndjson(stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
const noStack = /\bat \S+:\d+:\d+|AssertionError|internal error|Error:|Uncaught/;

/** Mount a tmpfs with these options on a fresh directory: its path, or why not. */
function mountTmpfs(options: string): { dir: string } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fetchall-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) return { dir };
  rmSync(dir, { recursive: true, force: true });
  return { why: `mount -t tmpfs -o ${options} failed: ${(r.stderr || r.error?.message || `status ${r.status}`).trim()}` };
}

function unmount(dir: string): void {
  const r = spawnSync('umount', [dir], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`umount ${dir}: ${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
}

/** Why these tests cannot run here (not root, or no tmpfs mount allowed), or null; printed once. */
const why = (() => {
  if (process.getuid?.() !== 0) return 'not root: the full- and read-only-disk tests need tmpfs mounts';
  const m = mountTmpfs('size=64k');
  if ('why' in m) return m.why;
  unmount(m.dir);
  return null;
})();
if (why) console.warn(`world-faults skipped: ${why}`);

const mounts: string[] = [];
function mounted(options: string): string {
  const m = mountTmpfs(options);
  if ('why' in m) throw new Error(m.why);
  mounts.push(m.dir);
  return m.dir;
}
// After the test's children are gone (setup.ts kills them first, registered before this file's hooks).
afterEach(() => {
  for (const dir of mounts.splice(0)) unmount(dir);
});

describe.skipIf(why !== null)(`a failing disk${why ? ` (skipped: ${why})` : ''}`, () => {
  describe.each(MODES)('%s', (mode) => {
    it('-o on a 1 MB filesystem, 1.5 MB of bodies: every URL has a record, those that did not fit WRITE_FAILED with ENOSPC, no .part left', async () => {
      const full = mounted('size=1m');
      const list = Array.from({ length: 5 }, (_, i) => `${ctx.server.url}/bytes/300000?full=${i}`);
      const r = await run(['-m', mode, '-c', '2', '-q', '-f', 'ndjson', '-o', full, ...list]);
      expect(r.stderr).not.toMatch(noStack);
      const recs = byIndex(r.stdout);
      expect(recs.map((x) => x.index)).toEqual([0, 1, 2, 3, 4]);
      const failed = recs.filter((x) => !x.ok);
      expect(failed.length).toBeGreaterThanOrEqual(2); // 5 × 300 kB cannot fit in 1 MB
      for (const x of failed) {
        expect(x.error?.code).toBe('WRITE_FAILED');
        expect(x.error?.message).toMatch(/ENOSPC/);
        expect(x.file).toBeNull();
      }
      for (const x of recs.filter((y) => y.ok)) {
        expect(x.status).toBe(200);
        expect(statSync(x.file!).size).toBe(300000);
      }
      // Nothing but the saved bodies: no .part, no half a body under a final name.
      expect(partFiles(full)).toEqual([]);
      expect(readdirSync(full).sort()).toEqual(
        recs
          .filter((x) => x.ok)
          .map((x) => x.file!.slice(full.length + 1))
          .sort(),
      );
      // README: exit 1 when a URL failed; a failed save is a failed URL (the class `error`).
      expect(r.code).toBe(1);
      // -q: each failed URL one line on stderr (as curl -sS), and nothing else.
      expect(r.stderr.trim().split('\n').sort()).toEqual(
        failed.map((x) => expect.stringMatching(new RegExp(`^fetchall: \\S+\\?full=${x.index}: WRITE_FAILED cannot save body: ENOSPC`))),
      );
      expect(await leftover(r.tag)).toEqual([]);
    });

    it('-o on a read-only filesystem: a clear line per URL (or one before the run), never a crash; -o under it: a usage error', async () => {
      const ro = mounted('ro,size=1m');
      const list = [`${ctx.server.url}/bytes/1000?ro=0`, `${ctx.server.url}/bytes/100000?ro=1`, `${ctx.server.url}/status/404?ro=2`];
      const r = await run(['-m', mode, '-c', '2', '-q', '-f', 'ndjson', '-o', ro, ...list]);
      expect(r.stderr).not.toMatch(noStack);
      if (r.code === 2) {
        // Checked up front: one line naming the flag, nothing fetched.
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/--output-dir.*EROFS|read-only/);
      } else {
        expect(r.code).toBe(1);
        const recs = byIndex(r.stdout);
        expect(recs.map((x) => [x.index, x.error?.code])).toEqual([
          [0, 'WRITE_FAILED'],
          [1, 'WRITE_FAILED'],
          [2, 'HTTP_STATUS'],
        ]);
        for (const x of recs.slice(0, 2)) expect(x.error?.message).toMatch(/EROFS: read-only file system/);
        for (const x of recs.slice(0, 2))
          expect(r.stderr).toMatch(new RegExp(`^fetchall: \\S+\\?ro=${x.index}: WRITE_FAILED cannot save body: EROFS`, 'm'));
      }
      expect(readdirSync(ro)).toEqual([]);
      expect(await leftover(r.tag)).toEqual([]);

      const sub = await run(['-m', mode, '-f', 'ndjson', '-o', join(ro, 'bodies'), list[0]!]);
      expect(sub.code).toBe(2);
      expect(sub.stdout).toBe('');
      expect(sub.stderr.trim().split('\n')).toHaveLength(1);
      expect(sub.stderr).toMatch(/--output-dir: cannot create '.*bodies': EROFS/);
    });

    it('records to a full disk (-f ndjson > /full/file): one line naming stdout and ENOSPC, exit 74', async () => {
      const full = mounted('size=64k');
      // 15 of its 16 pages taken: a page (4096 bytes) left for the records.
      writeFileSync(join(full, 'filler'), Buffer.alloc(60_000));
      const list = Array.from({ length: 40 }, (_, i) => `${ctx.server.url}/bytes/10?rec=${i}`);
      const target = join(full, 'out.ndjson');
      const { code, err } = await runToFile(['-m', mode, '-c', '2', '-q', '-f', 'ndjson', ...list], target);
      expect(err).not.toMatch(noStack);
      // SPEC: 74 when output cannot be written, with one line naming the target.
      expect(err.trim().split('\n')).toEqual([
        expect.stringMatching(/^fetchall: cannot write to stdout .*no space left on device \(ENOSPC\)$/),
      ]);
      expect(code).toBe(74);
      // What did reach the file: records, each line whole (the disk may cut the last one short).
      const lines = readFileSync(target, 'utf8').split('\n').slice(0, -1);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    });
  });

  it('text output (timeline, summary) to a full disk: one line, exit 74', async () => {
    const full = mounted('size=64k');
    writeFileSync(join(full, 'filler'), Buffer.alloc(60_000));
    const list = Array.from({ length: 60 }, (_, i) => `${ctx.server.url}/bytes/10?txt=${i}`);
    const { code, err } = await runToFile(['-c', '4', ...list], join(full, 'out.txt'));
    expect(err.trim().split('\n')).toEqual([expect.stringMatching(/^fetchall: cannot write to stdout .*\(ENOSPC\)$/)]);
    expect(code).toBe(74);
  });
});
