// Splitting one list over several processes or machines: which input items belong to shard K of N.

import type { InputItem } from './input.js';

export const SHARD_BY = ['origin', 'index'] as const;
export type ShardBy = (typeof SHARD_BY)[number];

/** Shard `k` of `n`, 1-based as the user writes it (`--shard 2/3`). */
export interface Shard {
  k: number;
  n: number;
  by: ShardBy;
}

/**
 * The environment variables `--shard auto/N` reads for the 0-based shard index, first set wins:
 * our own (for a CI matrix or a hand-rolled launcher), then Kubernetes' Indexed Job's.
 */
export const SHARD_ENV = ['FETCHALL_SHARD_INDEX', 'JOB_COMPLETION_INDEX'] as const;

const utf8 = new TextEncoder();

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text` (offset basis 2166136261, prime 16777619):
 * simple enough for any other tool to reproduce the split.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The 0-based shard an item falls in. By origin: fnv1a32(new URL(url).origin) mod n, so every URL
 * of one host lands in one shard and --per-host and --per-host-rate hold across shards. By index:
 * index mod n. A bad input line has no origin: it goes by its index either way.
 */
export function shardOf(item: InputItem, n: number, by: ShardBy): number {
  if (item.kind === 'bad' || by === 'index') return (item.kind === 'bad' ? item.index : item.job.index) % n;
  return fnv1a32(new URL(item.job.url).origin) % n;
}

export function inShard(item: InputItem, shard: Shard): boolean {
  return shard.n === 1 || shardOf(item, shard.n, shard.by) === shard.k - 1;
}
