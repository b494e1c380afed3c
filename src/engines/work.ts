// --work: the CPU-bound step per page, the other half of the seed's lesson. A real computation on
// the body — SHA-256 chained over the body's own digest — never a sleep, so it takes a core for as
// long as it runs: on one event loop the steps queue up; in threads and processes they spread.

import { createHash } from 'node:crypto';
import { now } from '../core/clock.js';
import type { WorkSpec } from '../core/types.js';

/** Rounds of the chain: each hashes the 32 bytes of the round before. */
function chain(seed: Buffer, rounds: number): Buffer {
  let h = seed;
  for (let i = 0; i < rounds; i++) h = createHash('sha256').update(h).digest();
  return h;
}

/**
 * How many rounds take about `ms` here, measured once in the main process before the run (so every
 * mode does the same computation): a fixed amount of work, not a fixed time, so a loaded core
 * shows as a longer step rather than a shorter computation.
 */
export function calibrate(ms: number): WorkSpec {
  const seed = createHash('sha256').update('fetchall').digest();
  chain(seed, 2000); // warm the hash path first
  let rounds = 2000;
  let took = 0;
  // Grow the sample until it takes long enough to time well (about 20 ms).
  for (;;) {
    const t0 = now();
    chain(seed, rounds);
    took = now() - t0;
    if (took >= 20 || rounds >= 1 << 26) break;
    rounds *= 2;
  }
  return { ms, rounds: Math.max(1, Math.round((rounds / Math.max(took, 0.001)) * ms)) };
}

/** Run the step on a page whose body's SHA-256 is `digest` (hex); returns the ms it took. */
export function doWork(spec: WorkSpec, digest: string): number {
  const t0 = now();
  chain(Buffer.from(digest, 'hex'), spec.rounds);
  return now() - t0;
}
