// --work: the CPU-bound step per page, the other half of the seed's lesson. A real computation on
// the body — a hash chain (FNV-1a mixing) over the body's own SHA-256 digest — never a sleep, so it
// takes a core for as long as it runs: on one event loop the steps queue up; in threads and
// processes they spread. It allocates nothing: a chain of crypto Hash objects made the steps cost
// 1.5 times as much CPU in worker threads as in processes (their heaps share the main one's small
// young generation, so they spent it collecting garbage), which is not the lesson.

import { createHash } from 'node:crypto';
import { now } from '../core/clock.js';
import type { WorkSpec } from '../core/types.js';

/** Rounds of the chain over the digest's eight 32-bit words: each round mixes all eight into the next. */
function chain(seed: Buffer, rounds: number): number {
  const w = new Uint32Array(8);
  for (let i = 0; i < 8; i++) w[i] = seed.readUInt32LE(i * 4);
  let h = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 8; i++) {
      h = Math.imul(h ^ w[i]!, 0x01000193);
      w[i] = h ^ (h >>> 15);
    }
  }
  return h >>> 0;
}

/** CPU time (user + system) of this whole process so far, in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * How long `rounds` took, at most: the clock counts the time other processes had the core, the
 * process's CPU time counts its other threads (V8 compiling, GC) — each only ever overstates the
 * chain's own cost, so the smaller of the two is the closer.
 */
function sample(seed: Buffer, rounds: number): number {
  const t0 = now();
  const c0 = cpuMs();
  chain(seed, rounds);
  return Math.min(now() - t0, cpuMs() - c0);
}

/**
 * How many rounds take about `ms` of a core here, measured once in the main process before the run
 * (so every mode does the same computation): a fixed amount of work, not a fixed time, so a loaded
 * core shows as a longer step rather than a shorter computation. The best of five samples: on a
 * busy machine a single clock-timed sample gave steps of a quarter of the asked length (load 17 on
 * 2 cores).
 */
export function calibrate(ms: number): WorkSpec {
  const seed = createHash('sha256').update('fetchall').digest();
  chain(seed, 1 << 20); // until the loop is optimised, as it will be in the run
  let rounds = 1 << 16;
  // Grow the sample until it takes long enough to time well (about 20 ms).
  while (sample(seed, rounds) < 20 && rounds < 2 ** 34) rounds *= 2;
  let took = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) took = Math.min(took, sample(seed, rounds));
  return { ms, rounds: Math.max(1, Math.round((rounds / Math.max(took, 0.001)) * ms)) };
}

/** Run the step on a page whose body's SHA-256 is `digest` (hex); returns the ms it took. */
export function doWork(spec: WorkSpec, digest: string): number {
  const t0 = now();
  chain(Buffer.from(digest, 'hex'), spec.rounds);
  return now() - t0;
}

const waiting: (() => void)[] = [];
let stepping = false;

/**
 * The step on an event loop (async mode): each in a turn of the loop of its own, one per turn, so
 * the loop runs between steps — several pages finishing together hold it one step at a time, not
 * all at once — while the steps still take the one core in turn.
 */
export function workOnLoop(spec: WorkSpec, digest: string): Promise<number> {
  return new Promise((resolve) => {
    waiting.push(() => resolve(doWork(spec, digest)));
    if (stepping) return;
    stepping = true;
    setImmediate(nextStep);
  });
}

function nextStep(): void {
  waiting.shift()?.();
  if (waiting.length > 0) setImmediate(nextStep);
  else stepping = false;
}
