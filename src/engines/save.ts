// Saved bodies (--output-dir): one safe, unique file name per record, written to a temp file and renamed into place.

import { createHash } from 'node:crypto';
import { chmodSync, linkSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { partSuffix, runId, savedMode } from '../tempfiles.js';

/**
 * A file name for a URL that is safe on any filesystem (no separators, no '..', no control
 * characters, bounded length) and unique per URL (a hash of the whole URL ends it).
 */
export function safeName(url: string): string {
  // Credentials in the URL (user:password@) never reach a file name, nor the hash in it (a short
  // hash of a URL with a weak password in it could be searched): names are readable by others.
  const bare = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  const hash = createHash('sha256').update(bare).digest('hex').slice(0, 12);
  let readable = bare
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._-]+|[._-]+$/g, '');
  if (readable.length > 80) readable = readable.slice(0, 80).replace(/[._-]+$/, '');
  return `${readable || 'body'}-${hash}`;
}

/** Slots in a run's table of saved names (8 bytes each, touched only as names are claimed). */
const CLAIM_SLOTS = 1 << 20;

/**
 * The table of names a run has saved bodies under, shared by every thread of the run (a
 * SharedArrayBuffer travels to pool workers by reference), so that each record gets its own file.
 */
export function newSaveClaims(): SharedArrayBuffer {
  return new SharedArrayBuffer(CLAIM_SLOTS * 8);
}

/**
 * The file name for a record's body: safeName(url) for the first record of that URL this run to
 * be saved; a later record of the same URL (listed twice) adds its index, which no other record of
 * the run has. The claim is one atomic compare-and-swap, so two threads saving the same URL at
 * once cannot both take the name; on disk, claimInto() makes sure no other process (a shard, an
 * earlier run) holds it either. Should the table ever be too full to claim in (about a million names), the name with
 * the index is used: still a file of the record's own.
 */
export function saveName(claims: SharedArrayBuffer | null, url: string, index: number): string {
  const name = safeName(url);
  if (!claims) return name;
  const table = new BigInt64Array(claims);
  const mask = table.length - 1;
  // 63 bits of the name's hash, never 0 (an empty slot).
  const key = createHash('sha256').update(name).digest().readBigInt64LE(0) | 1n;
  let slot = Number(key & BigInt(mask));
  for (let probe = 0; probe < 64; probe++) {
    const held = Atomics.compareExchange(table, slot, 0n, key);
    if (held === 0n) return name;
    if (held === key) break;
    slot = (slot + 1) & mask;
  }
  return `${name}-${index}`;
}

/** The temporary name a body is written to before it is renamed into place. */
export function tempPath(dir: string, name: string, index: number): string {
  return join(dir, `.${name}${partSuffix(index)}`);
}

/**
 * Put a finished temp file in place under `name`, or the first of `name-INDEX`, `name-INDEX-RUN`
 * not already there: link() fails on a name that exists, so the claim is atomic across processes
 * (two shards writing one -o, a run beside an earlier run's files) and no file is ever replaced.
 * Where hard links are not supported, rename() it is (atomic, but it replaces).
 */
export function claimInto(dir: string, name: string, index: number, tmp: string): string {
  // Private while it was written; a saved body is a new file as any other (curl's mode).
  chmodSync(tmp, savedMode());
  // saveName may have added the index already (the run's table held the bare name).
  const indexed = name.endsWith(`-${index}`) ? name : `${name}-${index}`;
  for (const candidate of new Set([name, indexed, `${indexed}-${runId()}`])) {
    const final = join(dir, candidate);
    try {
      linkSync(tmp, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      renameSync(tmp, final);
      return final;
    }
    discardSync(tmp);
    return final;
  }
  throw Object.assign(new Error(`every name for this body is taken in ${dir}`), { code: 'EEXIST' });
}

/**
 * Move a body the relay streamed to `tmp` into place (claimInto). The name is claimed only once
 * the body is on disk, so a failed write leaves the name to a later record of the same URL.
 */
export function commitSync(dir: string, url: string, index: number, tmp: string, claims: SharedArrayBuffer | null = null): string {
  try {
    return claimInto(dir, saveName(claims, url, index), index, tmp);
  } catch (err) {
    discardSync(tmp);
    throw Object.assign(new Error(`cannot save body: ${(err as Error).message}`), { code: 'WRITE_FAILED' });
  }
}

/** Remove a temp file that will not become a saved body (gone already is fine). */
export function discardSync(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {}
}
