// Parsing and validating flag values in one place; a bad value is a UsageError (exit 2).

import { UsageError } from './core/errors.js';
import { MANAGED_HEADERS } from './core/rules.js';
import { MODES, type Mode } from './core/types.js';

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
  quiet: boolean;
  timeline: boolean;
  color: boolean;
}

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
  // No client sends these (each mode would fail every URL in its own words): say so now. Checked
  // before the trim, so a trailing newline is caught too.
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new UsageError({ flag, reason: 'a header may not contain control characters (tab is allowed)' });
  }
  if (/[^\u0000-\u00ff]/.test(value)) {
    throw new UsageError({ flag, reason: 'a header may hold only Latin-1 text (percent-encode anything else)' });
  }
  const i = value.indexOf(':');
  const name = i > 0 ? value.slice(0, i).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new UsageError({ flag, reason: 'expected "Name: value"', value });
  }
  const v = value.slice(i + 1).trim();
  if (MANAGED_HEADERS.has(name.toLowerCase())) {
    throw new UsageError({ flag, reason: `${name} is managed by the HTTP client (hop-by-hop or framing) and cannot be set` });
  }
  return [name, v];
}

export function parseMethod(flag: string, value: string): string {
  if (!/^[A-Za-z]+$/.test(value)) throw new UsageError({ flag, reason: `not an HTTP method: '${value}'` });
  return value.toUpperCase();
}

/** Each thread of the pool costs a node helper process (~55 MB): a typo must not start 10,000. */
export const MAX_POOL = 64;

export function checkPoolSize(modes: Mode[], concurrency: number): void {
  if (modes.includes('threads') && concurrency > MAX_POOL) {
    throw new UsageError({
      flag: '--concurrency',
      reason: `threads mode starts a worker thread and a sync-request helper process (~55 MB) per unit; at most ${MAX_POOL}`,
      value: concurrency,
    });
  }
}
