// Parsing and validating flag values in one place; a bad value is a UsageError (exit 2).

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { FAIL_CLASSES, type FailClass, UsageError } from './core/errors.js';
import { badProxies, MANAGED_HEADERS, PROXY_VARS } from './core/rules.js';
import { MODES, type Mode, type ProxySettings, type RequestBody, type WorkSpec } from './core/types.js';
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
  /** The classes of failure that make the exit status 1 (`--fail-on`); empty = none. */
  failOn: readonly FailClass[];
  body: RequestBody | null;
  proxy: ProxySettings;
  insecure: boolean;
  cacert: string | null;
  /** --work: the CPU-bound step per page, calibrated once for the run (engines/work.ts); null = none. */
  work: WorkSpec | null;
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
  failOn: FAIL_CLASSES as readonly FailClass[],
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

/** `-t`: a duration of at least 1 ms. */
export function parseTimeout(flag: string, value: string): number {
  const ms = parseDuration(flag, value);
  if (ms < 1) throw new UsageError({ flag, reason: 'must be at least 1 ms', value });
  return ms;
}

/**
 * curl's -m counts seconds; ours a bare number as ms. A bare value under 100 is most likely
 * seconds meant: the line that says so, or null.
 */
export function bareMsWarning(flag: string, value: string): string | null {
  const text = value.trim();
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) >= 100) return null;
  return `fetchall: warning: ${flag} ${text} means ${text} ms (a bare number is milliseconds); for seconds write '${text}s'`;
}

/** `--fail-on`: 'none', or a comma list of error, 4xx, 5xx. */
export function parseFailOn(flag: string, value: string): FailClass[] {
  const all = value.split(',').map((s) => s.trim().toLowerCase());
  // A stray comma ('4xx,') is a typo, not a list: said, as an unknown class is.
  if (all.length > 1 && all.includes('')) throw new UsageError({ flag, reason: 'an empty class in the list (a stray comma?)', value });
  const names = all.filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  if (names.includes('none')) throw new UsageError({ flag, reason: 'none cannot be combined with a class', value });
  if (names.length === 0) throw new UsageError({ flag, reason: `name a class (${FAIL_CLASSES.join(', ')}) or none`, value });
  for (const n of names) {
    if (!(FAIL_CLASSES as readonly string[]).includes(n)) {
      throw new UsageError({ flag, reason: `expected ${FAIL_CLASSES.join(', ')}, a comma list of them, or none`, value: n });
    }
  }
  return [...new Set(names as FailClass[])];
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

/** Each member of a pool is a thread (threads) or a ~40 MB process (processes): a typo must not start 10,000. */
export const MAX_POOL = 64;

export function checkPoolSize(modes: Mode[], concurrency: number): void {
  const pool = modes.find((m) => m === 'threads' || m === 'processes');
  if (pool && concurrency > MAX_POOL) {
    throw new UsageError({
      flag: '--concurrency',
      reason: `${pool} mode starts a ${pool === 'threads' ? 'worker thread' : 'process'} per unit; at most ${MAX_POOL}`,
      value: concurrency,
    });
  }
}

/** --work <ms>: a duration of CPU per page, up to a minute (a bare number is ms). */
export function parseWork(flag: string, value: string): number {
  const ms = parseDuration(flag, value);
  if (ms <= 0 || ms > 60_000) throw new UsageError({ flag, reason: 'expected a duration above 0 and at most 1m', value });
  return ms;
}

/** 'K/N' (1-based K) or 'auto/N' (K from SHARD_ENV, 0-based there) → shard; `by` is set apart by --shard-by. */
export function parseShard(flag: string, value: string, env: NodeJS.ProcessEnv = process.env): Omit<Shard, 'by'> {
  const m = /^\s*(\d+|auto)\s*\/\s*(\d+)\s*$/i.exec(value);
  if (!m) throw new UsageError({ flag, reason: 'expected K/N (shard K of N, 1-based) or auto/N', value });
  const n = Number(m[2]);
  if (n < 1) throw new UsageError({ flag, reason: 'N must be at least 1', value });
  if (!Number.isSafeInteger(n)) throw new UsageError({ flag, reason: `N must be at most ${Number.MAX_SAFE_INTEGER}`, value });
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

/** One -d or --data-binary, in the order given: several are joined with '&', as curl joins them. */
export interface DataPiece {
  seq: number;
  bytes: Buffer;
}

/** The content of a file named by a flag, or a usage error naming both. */
function readFlagFile(flag: string, path: string): Buffer {
  if (path === '-') throw new UsageError({ flag, reason: 'reading it from standard input (@-) is not supported; name a file' });
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError({ flag, reason: `cannot read '${path}': ${e.code === 'EISDIR' ? 'a directory' : (e.code ?? e.message)}` });
  }
}

/**
 * -d TEXT, -d @FILE (the file without its CR and LF bytes, as curl does, so a trailing newline
 * is not sent), --data-binary @FILE (the file byte for byte) or --data-binary TEXT.
 */
export function parseData(flag: string, value: string, binary: boolean): Buffer {
  if (!value.startsWith('@')) return Buffer.from(value);
  const bytes = readFlagFile(flag, value.slice(1));
  if (binary || (!bytes.includes(13) && !bytes.includes(10))) return bytes;
  return withoutNewlines(bytes);
}

/** The bytes without CR and LF, byte by byte into one buffer (a large file is not made an array of numbers). */
function withoutNewlines(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 13 && b !== 10) out[n++] = b;
  }
  return out.subarray(0, n);
}

/** The body of all -d/--data-binary pieces; it brings the form Content-Type unless -H names one (as curl). */
export function requestBody(pieces: DataPiece[], headers: [string, string][]): RequestBody | null {
  if (pieces.length === 0) return null;
  const sorted = [...pieces].sort((a, b) => a.seq - b.seq);
  const bytes = Buffer.concat(sorted.flatMap((p, i) => (i === 0 ? [p.bytes] : [Buffer.from('&'), p.bytes])));
  const typed = headers.some(([name]) => name.toLowerCase() === 'content-type');
  return { bytes, contentType: typed ? null : 'application/x-www-form-urlencoded' };
}

/** -H @FILE: one header a line, blank lines skipped; a bad line is named FILE:LINE. */
export function parseHeaderFile(flag: string, value: string): [string, string][] {
  const path = value.slice(1);
  // A UTF-8 BOM (as some editors save) is not part of the first header's name.
  const lines = readFlagFile(flag, path)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split('\n');
  return lines.flatMap((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return [];
    try {
      return [parseHeader(flag, line)];
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError({ flag, reason: `${path}:${i + 1}: ${err.reason}` });
      throw err;
    }
  });
}

/** --cacert FILE → its absolute path, once it is known to hold PEM certificates Node can use. */
export function parseCacert(flag: string, value: string): string {
  const pem = readFlagFile(flag, value).toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError({ flag, reason: `no PEM certificate in '${value}'` });
  // Node drops a corrupt block silently, and every block after it: each is checked on its own.
  const starts = pem.split('-----BEGIN CERTIFICATE-----').slice(1);
  starts.forEach((rest, i) => {
    const end = rest.indexOf('-----END CERTIFICATE-----');
    const bad = (why: string) => new UsageError({ flag, reason: `certificate ${i + 1} in '${value}' ${why}` });
    if (end < 0) throw bad('has no END CERTIFICATE line');
    try {
      new X509Certificate(`-----BEGIN CERTIFICATE-----${rest.slice(0, end)}-----END CERTIFICATE-----\n`);
    } catch (err) {
      throw bad(`is not a usable certificate: ${(err as Error).message.replace(/^error:[0-9A-F]+:/, '')}`);
    }
  });
  try {
    createSecureContext({ ca: pem });
  } catch (err) {
    throw new UsageError({ flag, reason: `unusable certificate in '${value}': ${(err as Error).message}` });
  }
  return resolve(value);
}

/** --proxy / --no-proxy and the environment's proxy variables, checked: a proxy we cannot use is a usage error. */
export function proxySettings(proxy: string | false | undefined, env: NodeJS.ProcessEnv): ProxySettings {
  const picked: Record<string, string | undefined> = {};
  for (const name of PROXY_VARS) if (env[name] !== undefined) picked[name] = env[name];
  const settings: ProxySettings = { proxy: typeof proxy === 'string' ? proxy : null, noProxy: proxy === false, env: picked };
  const [bad] = badProxies(settings);
  if (bad) {
    throw bad.source === '--proxy'
      ? new UsageError({ flag: '--proxy', reason: bad.reason, value: bad.value })
      : new UsageError({ flag: null, reason: `${bad.reason} (--no-proxy ignores it)`, value: `${bad.source}=${bad.value}` });
  }
  return settings;
}

/** sync-request (then-request) refuses a body with these methods; undici sends one. */
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

/** A body with GET, HEAD or DELETE: the blocking modes cannot send it, so say so before any request. */
export function checkBodyMethod(modes: Mode[], method: string, body: RequestBody | null): void {
  const blocking = modes.find((m) => m !== 'async');
  if (body && blocking && NO_BODY_METHODS.has(method)) {
    throw new UsageError({
      flag: '--data',
      reason: `${blocking} mode cannot send a body with ${method}: its client (sync-request) refuses one; use -X POST or PUT, or -m async`,
    });
  }
}
