// Parsing and validating flag values in one place; a bad value is a UsageError (exit 2).

import { UsageError } from './core/errors.js';
import { MANAGED_HEADERS } from './core/rules.js';
import { MODES, type Mode } from './core/types.js';
import { SHARD_ENV, type Shard } from './shard.js';

export const FORMATS = ['text', 'ndjson', 'csv', 'tsv'] as const;
export type Format = (typeof FORMATS)[number];

/** Everything a run needs, already validated. */
export interface RunOptions {
  mode: Mode;
  concurrency: number;
  perHost: number | null;
  timeoutMs: number;
  retries: number;
  retryMaxWaitMs: number;
  maxRedirects: number;
  method: string;
  headers: [string, string][];
  userAgent: string;
  maxSize: number;
  outputDir: string | null;
  format: Format;
  /** csv/tsv: write the header row (--no-header: not). */
  header: boolean;
  /** Records in completion order, or in input order (--sort index; records only, text lines stay live). */
  sort: SortOrder;
  quiet: boolean;
  timeline: boolean;
  color: boolean;
  /** Keep only this shard of the input (--shard, --shard-by); null or absent = all of it. */
  shard?: Shard | null;
  /** Skip URLs with an ok record in this ndjson file (--resume). */
  resume?: string | null;
  /** Attempt starts per second, over the whole run (--rate) and per origin (--per-host-rate). */
  rate?: number | null;
  perHostRate?: number | null;
  /** threads: one helper process per worker thread, as sync-request ships (--helper-per-thread); else one shared. */
  helperPerThread?: boolean;
}

export const SORT_ORDERS = ['completion', 'index'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** The defaults of the run options, shared by the flags and the demo. */
export const DEFAULTS = {
  concurrency: 10,
  timeoutMs: 30_000,
  retries: 0,
  retryMaxWaitMs: 10_000,
  maxRedirects: 5,
  method: 'GET',
  maxSize: 100 * 1024 * 1024,
} as const;

/** `fetchall serve`'s port unless --port says otherwise: `demo --print-list` points its URLs there. */
export const SERVE_PORT = 8080;

/** A server's base URL (`demo --print-list BASE`): http or https, no query or fragment; without a trailing '/'. */
export function parseBaseUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new UsageError({ flag, reason: 'expected a base URL such as http://127.0.0.1:8080', value });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError({ flag, reason: 'expected an http or https URL', value });
  if (url.search || url.hash) throw new UsageError({ flag, reason: 'a base URL takes no query or fragment', value });
  return url.href.replace(/\/+$/, '');
}

export function parseIntFlag(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw new UsageError({ flag, reason: 'expected a whole number', value });
  const n = Number(text);
  if (n < min || n > max) {
    throw new UsageError({ flag, reason: `must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min}..${max}`}`, value: n });
  }
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** '10MB', '512k', '1000' → bytes (binary multiples, as curl's --max-filesize). */
export function parseSize(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError({ flag, reason: 'expected a size like 1000, 512k or 10MB', value });
  }
  const n = Math.floor(Number(m[1]) * unit);
  if (n < 1) throw new UsageError({ flag, reason: 'must be at least 1 byte', value });
  return n;
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Node's timers hold at most this many ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** '500ms', '5s', '1.5s', '2m', '1500' (bare = ms) → ms. */
export function parseDuration(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? DURATION_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new UsageError({ flag, reason: 'expected a duration like 500ms, 5s or 2m (bare number = ms)', value });
  const ms = Math.round(Number(m[1]) * unit);
  if (ms > MAX_TIMER_MS) throw new UsageError({ flag, reason: `at most ${MAX_TIMER_MS} ms (about 24 days)`, value });
  return ms;
}

export function parseMode(flag: string, value: string): Mode {
  if ((MODES as readonly string[]).includes(value)) return value as Mode;
  throw new UsageError({ flag, reason: `unknown mode '${value}' (choose from ${MODES.join(', ')})` });
}

export function parseModes(flag: string, value: string): Mode[] {
  const modes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseMode(flag, s));
  if (modes.length === 0) throw new UsageError({ flag, reason: 'name at least one mode' });
  return [...new Set(modes)];
}

/** 'Name: value' → [name, value]; the name must be a valid HTTP token. */
export function parseHeader(flag: string, value: string): [string, string] {
  const i = value.indexOf(':');
  const name = i > 0 ? value.slice(0, i).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new UsageError({ flag, reason: 'expected "Name: value"', value });
  }
  const v = value.slice(i + 1).trim();
  if (/[\r\n\0]/.test(v)) throw new UsageError({ flag, reason: 'header value may not contain control characters' });
  if (MANAGED_HEADERS.has(name.toLowerCase())) {
    throw new UsageError({ flag, reason: `${name} is managed by the HTTP client (hop-by-hop or framing) and cannot be set` });
  }
  return [name, v];
}

export function parseMethod(flag: string, value: string): string {
  if (!/^[A-Za-z]+$/.test(value)) throw new UsageError({ flag, reason: `not an HTTP method: '${value}'` });
  return value.toUpperCase();
}

/** Each thread of the pool is a thread (and with --helper-per-thread a ~55 MB process): a typo must not start 10,000. */
export const MAX_POOL = 64;

export function checkPoolSize(modes: Mode[], concurrency: number): void {
  if (modes.includes('threads') && concurrency > MAX_POOL) {
    throw new UsageError({
      flag: '--concurrency',
      reason: `threads mode starts a worker thread per unit (and with --helper-per-thread a ~55 MB helper process); at most ${MAX_POOL}`,
      value: concurrency,
    });
  }
}

/** --helper-per-thread lays out the threads mode's pool: anywhere else it would silently do nothing. */
export function checkHelperLayout(modes: Mode[], helperPerThread: boolean | undefined): void {
  if (helperPerThread && !modes.includes('threads')) {
    throw new UsageError({
      flag: '--helper-per-thread',
      reason: `threads mode only (the mode${modes.length > 1 ? 's are' : ' is'} ${modes.join(', ')})`,
    });
  }
}

/** 'K/N' (1-based K) or 'auto/N' (K from SHARD_ENV, 0-based there) → shard; `by` is set apart by --shard-by. */
export function parseShard(flag: string, value: string, env: NodeJS.ProcessEnv = process.env): Omit<Shard, 'by'> {
  const m = /^\s*(\d+|auto)\s*\/\s*(\d+)\s*$/i.exec(value);
  if (!m) throw new UsageError({ flag, reason: 'expected K/N (shard K of N, 1-based) or auto/N', value });
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError({ flag, reason: 'N must be at least 1', value });
  if (m[1]!.toLowerCase() !== 'auto') {
    const k = Number(m[1]);
    if (k < 1 || k > n) throw new UsageError({ flag, reason: `K must be 1..${n} (shards are numbered from 1)`, value });
    return { k, n };
  }
  const name = SHARD_ENV.find((v) => env[v] !== undefined && env[v] !== '');
  if (name === undefined) {
    throw new UsageError({ flag, reason: `auto needs ${SHARD_ENV.join(' or ')} in the environment (0-based)`, value });
  }
  const text = env[name]!.trim();
  const index = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(index >= 0 && index < n)) {
    throw new UsageError({ flag, reason: `${name}=${text} is not a shard index 0..${n - 1} (it is 0-based)`, value });
  }
  return { k: index + 1, n };
}

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60 };

/** '20', '20/s', '90/m', '0.5/s' → starts per second; a bare number is per second. */
export function parseRate(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([a-z]+))?\s*$/i.exec(value);
  const per = m ? (m[2] === undefined ? 1 : RATE_UNITS[m[2].toLowerCase()]) : undefined;
  if (!m || per === undefined) throw new UsageError({ flag, reason: 'expected a rate like 20, 20/s or 90/m', value });
  const perSec = Number(m[1]) / per;
  // Below one a day, the wait would outlast Node's timers; it is surely a typo.
  if (!(perSec * 86_400 >= 1)) throw new UsageError({ flag, reason: 'must be more than 0 (at least 1 a day)', value });
  return perSec;
}
