// --resume: the URLs that already have an ok record in a saved ndjson file, read streaming and
// kept as 64-bit hashes (not strings), so a million-line file costs megabytes, not its size.

import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { UsageError } from './core/errors.js';
import { lines } from './input.js';

/** A record line longer than this is counted unreadable rather than buffered without bound. */
const MAX_RECORD_LINE = 1024 * 1024;

// The two halves of the last hash64(): no array per URL on a hot path.
let hashHi = 0;
let hashLo = 0;

/**
 * 64 bits of hash of the string's UTF-16 units, in hashHi/hashLo (cyrb53's two multiplicative
 * lanes, kept whole). Internal to one process: nothing else needs to reproduce it.
 */
function hash64(text: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  hashHi = h2 >>> 0;
  // (0, 0) marks an empty slot, so that one hash is moved next door.
  hashLo = h1 >>> 0 || (hashHi === 0 ? 1 : 0);
}

/**
 * A set of strings kept as 64-bit hashes in one open-addressed table (8 bytes a slot, at most half
 * full): 1,000,000 URLs take 16 MB. Two different URLs share a hash with odds of about n²/2⁶⁵
 * (3 in 100 million at a million URLs); the cost of that is one URL skipped that should not be.
 */
export class UrlHashSet {
  /** hi, lo of each slot, side by side. */
  private slots = new Uint32Array(2 * 1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  add(url: string): void {
    hash64(url);
    if ((this.count + 1) * 2 > this.slots.length / 2) this.grow();
    if (this.put(this.slots, hashHi, hashLo)) this.count++;
  }

  has(url: string): boolean {
    hash64(url);
    const slots = this.slots;
    const mask = slots.length / 2 - 1;
    for (let i = hashLo & mask; ; i = (i + 1) & mask) {
      const hi = slots[2 * i]!;
      const lo = slots[2 * i + 1]!;
      if (hi === 0 && lo === 0) return false;
      if (hi === hashHi && lo === hashLo) return true;
    }
  }

  /** Insert into `slots`; false when already there. */
  private put(slots: Uint32Array, h: number, l: number): boolean {
    const mask = slots.length / 2 - 1;
    for (let i = l & mask; ; i = (i + 1) & mask) {
      const hi = slots[2 * i]!;
      const lo = slots[2 * i + 1]!;
      if (hi === 0 && lo === 0) {
        slots[2 * i] = h;
        slots[2 * i + 1] = l;
        return true;
      }
      if (hi === h && lo === l) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.put(this.slots, old[i]!, old[i + 1]!);
    }
  }
}

export interface ResumeState {
  file: string;
  /** URLs with an ok record in the file. */
  done: UrlHashSet;
  /** False when the file does not exist yet: nothing to skip. */
  exists: boolean;
  /** Lines that were not a JSON record (a cut-off last line, say): ignored. */
  unreadable: number;
  /** The file's last line has no newline: a record appended now must start on a new line. */
  endsMidLine: boolean;
}

/** Read FILE's ok records; a missing file is an empty start, an unreadable one a usage error. */
export async function loadResume(file: string): Promise<ResumeState> {
  const state: ResumeState = { file, done: new UrlHashSet(), exists: true, unreadable: 0, endsMidLine: false };
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.isFile() ? st.size : 0;
    closeSync(openSync(file, 'r'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ...state, exists: false };
    const why = code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? e);
    throw new UsageError({ flag: '--resume', reason: `cannot read '${file}': ${why}` });
  }
  for await (const [, text] of lines(createReadStream(file), MAX_RECORD_LINE)) {
    if (text === null) {
      state.unreadable++;
      continue;
    }
    if (text.trim() === '') continue;
    const url = okUrl(text);
    if (url === undefined) state.unreadable++;
    else if (url !== null) state.done.add(url);
  }
  state.endsMidLine = size > 0 && lastByte(file, size) !== 0x0a;
  return state;
}

/** The URL of an ok record; null for a record that is not ok; undefined for a line that is no record. */
function okUrl(text: string): string | null | undefined {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || typeof (r as { url?: unknown }).url !== 'string') return undefined;
  return (r as { ok?: unknown }).ok === true ? (r as { url: string }).url : null;
}

function lastByte(file: string, size: number): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0]!;
  } finally {
    closeSync(fd);
  }
}

/**
 * How `fd` relates to FILE: 'no' when it is another file; 'append' or 'overwrite' when it is FILE,
 * opened with `>>` or with `>` (which emptied FILE before we could read it). Linux tells the open
 * flags in /proc; elsewhere an open of FILE is taken as an append.
 */
export function sameFile(file: string, fd: number | undefined): 'no' | 'append' | 'overwrite' {
  if (typeof fd !== 'number') return 'no';
  try {
    const a = statSync(file);
    const b = fstatSync(fd);
    if (!a.isFile() || a.dev !== b.dev || a.ino !== b.ino) return 'no';
  } catch {
    return 'no';
  }
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s*([0-7]+)/m.exec(info);
    // O_APPEND is 02000 on Linux.
    if (flags && (Number.parseInt(flags[1]!, 8) & 0o2000) === 0) return 'overwrite';
  } catch {}
  return 'append';
}
