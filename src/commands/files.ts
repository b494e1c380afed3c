// Result files beside the output (compare's --json, the HTML report): checked before a run, so a
// bad target is known before minutes of fetching, and written atomically after it.

import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { escapeControls } from '../render/escape.js';
import { reason } from '../render/write.js';

/** Why `path` cannot be written (its directory missing or read-only), or null when it looks writable. */
export function checkWritable(path: string): NodeJS.ErrnoException | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      if (st.isDirectory()) return Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      accessSync(path, constants.W_OK);
      return null;
    }
    const dir = dirname(path);
    if (!statSync(dir).isDirectory()) return Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    // The file is a new one renamed over the target, so it is the directory that must be writable.
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw st ? tempFileError(dir, e as NodeJS.ErrnoException) : e;
    }
    return null;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/**
 * A regular file (or a new one) gets a temp file in its directory renamed over it, so a reader
 * never sees half a file and a failure leaves the old file whole. Anything else (/dev/stdout,
 * a FIFO, /dev/full) cannot be renamed over: written directly, and a failure is thrown.
 */
export function writeAtomically(path: string, text: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    writeFileSync(path, text);
    return;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    // The target exists; it is its temp file that cannot be made (/proc/version): say that, not ENOENT.
    throw st ? tempFileError(dirname(path), e as NodeJS.ErrnoException) : e;
  }
  try {
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Why the temp file beside an existing target could not be made, naming its directory. */
function tempFileError(dir: string, e: NodeJS.ErrnoException): Error {
  return new Error(`cannot create a temporary file in ${escapeControls(dir)}: ${reason(e)}`);
}
