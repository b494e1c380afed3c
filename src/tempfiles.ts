// What a run leaves on disk while it works, and its removal on every way out short of SIGKILL: the
// `.part` files of -o (written by this process, a pool thread, or a pool process) and the private
// spool directory of a request body. One synchronous 'exit' hook in the main process does it, so a
// second Ctrl-C, which exits at once, cleans up too.

import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const ENV = 'FETCHALL_RUN_ID';

/**
 * This run's id, in every temp name: set once by the main process (startRun) and inherited by its
 * threads and pool processes, so the main process can find what any of them left.
 */
export function runId(): string {
  let id = process.env[ENV];
  if (!id) {
    id = `${process.pid}-${randomBytes(4).toString('hex')}`;
    process.env[ENV] = id;
  }
  return id;
}

const outputDirs = new Set<string>();
const privateDirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked || !isMainThread) return;
  hooked = true;
  process.on('exit', cleanUp);
}

/** A fresh id for this process's run (the main process, before any thread or pool process starts). */
export function startRun(): void {
  process.env[ENV] = `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** -o: its `.part` files of this run are removed at exit. */
export function watchOutputDir(dir: string): void {
  outputDirs.add(dir);
  hook();
}

/** A private directory (a spooled body) removed at exit if still there. */
export function watchPrivateDir(dir: string): void {
  privateDirs.add(dir);
  hook();
}

export function forgetPrivateDir(dir: string): void {
  privateDirs.delete(dir);
}

/** A body being saved (its `.part`) is readable by this user only until it is complete (SECURITY.md). */
export const PART_MODE = 0o600;

let umask: number | null = null;

/** The mode a saved body gets when it is put in place: a new file's, as curl leaves it (0666 less the umask). */
export function savedMode(): number {
  // Read once per thread (a worker thread may read the umask, not set it).
  umask ??= process.umask();
  return 0o666 & ~umask;
}

/** The suffix every temp body name of this run ends with (engines/save.ts tempPath). */
export function partSuffix(index: number): string {
  return `.${runId()}.${index}.part`;
}

function cleanUp(): void {
  const mark = `.${runId()}.`;
  for (const dir of outputDirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {}
    for (const n of names) {
      if (n.startsWith('.') && n.includes(mark) && n.endsWith('.part')) {
        try {
          unlinkSync(join(dir, n));
        } catch {}
      }
    }
  }
  for (const dir of privateDirs) rmSync(dir, { recursive: true, force: true });
}
