// What all three engines share so they behave alike: error codes, redirects, Retry-After, saved bodies.

import { createHash } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { now } from '../measure/clock.js';
import type { AttemptResult, FetchError, RequestOptions } from './types.js';

/**
 * The stable error codes a record's `error.code` can carry (besides system codes such as
 * ECONNREFUSED, ECONNRESET, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, which pass through).
 */
export const ERROR_CODES = {
  TIMEOUT: 'the whole request overran --timeout',
  HTTP_STATUS: 'the server answered with a status of 400 or more',
  SIZE_LIMIT: 'the body exceeded --max-size',
  TOO_MANY_REDIRECTS: 'more redirects than --max-redirects',
  REDIRECT_LOOP: 'a redirect led back to a URL already visited',
  BAD_REDIRECT: 'a redirect with a missing or unusable Location',
  PROTOCOL_ERROR: 'the reply was not valid HTTP',
  SOCKET_CLOSED: 'the connection closed before the response was complete',
  BAD_INPUT: 'the input line is not a fetchable URL',
  ABORTED: 'cancelled by SIGINT/SIGTERM or a closed output',
  WORKER_CRASH: 'the worker thread running the request died',
  HELPER_FAILED: 'sync-request’s helper process closed without an answer (e.g. killed by Ctrl-C)',
  WRITE_FAILED: 'the body could not be saved under --output-dir',
  REQUEST_FAILED: 'any other failure, with the client’s message',
} as const;

/** The extra headers every engine sends: -A, then -H in order (repeats joined as HTTP allows). */
const headerCache = new WeakMap<RequestOptions, Record<string, string>>();
export function requestHeaders(opts: RequestOptions): Record<string, string> {
  let headers = headerCache.get(opts);
  if (headers) return headers;
  headers = { 'user-agent': opts.userAgent };
  for (const [name, value] of opts.headers) {
    const key = name.toLowerCase();
    headers[key] = key in headers && key !== 'user-agent' ? `${headers[key]}, ${value}` : value;
  }
  headerCache.set(opts, headers);
  return headers;
}

/** The headers that carry the user's credentials: they never follow a redirect to another origin. */
export const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'] as const;

/**
 * The headers for one hop of a request: the one place that decides where credentials go, for
 * every engine. `base` is requestHeaders(); `first` the URL the user gave; `hop` this hop's URL;
 * `left` whether this hop or an earlier one is on another origin (scheme, host, port) than `first`.
 * While on the first origin, URL credentials become Basic auth (as in curl and sync-request)
 * unless -H gave an Authorization; once a redirect has left it, the credential headers are
 * dropped and no URL credentials are sent, and they stay dropped even if a later hop comes back.
 */
export function hopHeaders(base: Record<string, string>, first: URL, hop: URL, left: boolean): Record<string, string> {
  if (left) {
    if (!CREDENTIAL_HEADERS.some((h) => h in base)) return base;
    const headers = { ...base };
    for (const h of CREDENTIAL_HEADERS) delete headers[h];
    return headers;
  }
  // A Location on the same origin that names no user keeps the user's (as curl does).
  const creds = hop.username || hop.password ? hop : first;
  if ((!creds.username && !creds.password) || 'authorization' in base) return base;
  const token = Buffer.concat([percentDecode(creds.username), Buffer.from(':'), percentDecode(creds.password)]).toString('base64');
  return { ...base, authorization: `Basic ${token}` };
}

/**
 * URL userinfo → bytes as curl decodes it: each valid %XX is its byte (UTF-8 or not), anything
 * else, such as a '%' not followed by two hex digits, goes as it is. decodeURIComponent would
 * throw on both, and one odd URL must not fail, let alone crash, a run.
 */
function percentDecode(s: string): Buffer {
  if (!s.includes('%')) return Buffer.from(s);
  return Buffer.concat(
    s.split(/(%[0-9A-Fa-f]{2})/).map((part, i) => (i % 2 ? Buffer.from([Number.parseInt(part.slice(1), 16)]) : Buffer.from(part))),
  );
}

/** The URL as it goes on the wire: credentials travel in a header (hopHeaders), never in the URL. */
export function withoutCredentials(u: URL): string {
  if (!u.username && !u.password) return u.href;
  const bare = new URL(u.href);
  bare.username = '';
  bare.password = '';
  return bare.href;
}

/** The outcome of an attempt that got no response: cancelled, timed out by a watchdog, a lost worker. */
export function noResponse(start: number, error: FetchError, worker: number | null = null): AttemptResult {
  return { status: null, bytes: 0, start, end: now(), worker, error, file: null, retryAfterMs: null };
}

export function fetchError(code: keyof typeof ERROR_CODES | string, message: string): FetchError {
  return { code, message };
}

const SYSTEM_MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'connect refused',
  ECONNRESET: 'connection reset by peer',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  EPIPE: 'connection closed while sending',
  ECONNABORTED: 'connection aborted',
};

/** Any client error (undici's, sync-request's, a system one) → a stable code and a one-line message. */
export function mapError(err: unknown): FetchError {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const causeCode = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(err);
  if (code && code in ERROR_CODES) return fetchError(code, message);
  // A peer that hangs up mid-response reads as ECONNRESET in node:http and UND_ERR_SOCKET in
  // undici: one code, so the modes compare.
  if (/socket hang up|other side closed|^aborted$|premature close/i.test(message)) {
    return fetchError('SOCKET_CLOSED', 'connection closed before the response was complete');
  }
  for (const c of [causeCode, code]) {
    if (c && c in SYSTEM_MESSAGES) return fetchError(c, SYSTEM_MESSAGES[c]!);
  }
  const any = `${code ?? ''} ${causeCode ?? ''} ${message}`;
  if (/\bHPE_|Parse Error|UND_ERR_INFO|invalid (status|header)|does not match the HTTP/i.test(any))
    return fetchError('PROTOCOL_ERROR', 'reply is not valid HTTP');
  if (/UND_ERR_SOCKET|other side closed|socket hang up|premature close|aborted/i.test(any)) {
    return fetchError('SOCKET_CLOSED', 'connection closed before the response was complete');
  }
  if (code && /^E[A-Z]+$/.test(code)) return fetchError(code, message);
  return fetchError('REQUEST_FAILED', message);
}

/** The outcome of looking at a 3xx: follow it, return it as is, or fail. */
export type RedirectStep = { kind: 'final' } | { kind: 'follow'; url: string; method: string } | { kind: 'fail'; error: FetchError };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** One redirect decision, shared by every engine so `--max-redirects` means the same thing in each. */
export function redirectStep(
  status: number,
  location: string | undefined,
  current: string,
  method: string,
  visited: Set<string>,
  maxRedirects: number,
): RedirectStep {
  if (!REDIRECT_STATUSES.has(status) || maxRedirects === 0) return { kind: 'final' };
  if (!location) return { kind: 'fail', error: fetchError('BAD_REDIRECT', `${status} without a Location header`) };
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    return { kind: 'fail', error: fetchError('BAD_REDIRECT', `unusable Location: ${JSON.stringify(location.slice(0, 80))}`) };
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    return { kind: 'fail', error: fetchError('BAD_REDIRECT', `redirect to unsupported scheme ${next.protocol}`) };
  }
  const href = next.href;
  if (visited.has(href)) return { kind: 'fail', error: fetchError('REDIRECT_LOOP', `redirect loop: ${href} visited twice`) };
  if (visited.size > maxRedirects) {
    return { kind: 'fail', error: fetchError('TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirect${maxRedirects === 1 ? '' : 's'}`) };
  }
  visited.add(href);
  // As Fetch and RFC 9110: a 303 makes the next request a retrieval; HEAD already is one.
  const nextMethod = (status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST') ? 'GET' : method;
  return { kind: 'follow', url: href, method: nextMethod };
}

/** Retry-After (seconds or an HTTP date) → ms to wait, or null. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

export function statusError(status: number): FetchError | null {
  if (status < 400) return null;
  const text = STATUS_CODES[status];
  return fetchError('HTTP_STATUS', `${status}${text ? ` ${text}` : ''}`);
}

/**
 * A file name for a URL that is safe on any filesystem (no separators, no '..', no control
 * characters, bounded length) and unique per URL (a hash of the whole URL ends it).
 */
export function safeName(url: string): string {
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 12);
  let readable = url
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
 * once cannot both take the name. A file from an earlier run is not a claim: it is replaced, as
 * before. Should the table ever be too full to claim in (about a million names), the name with
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
  return join(dir, `.${name}.${process.pid}.${index}.part`);
}

/** Write a whole body atomically (blocking engines hold the body in memory anyway). */
export function saveSync(dir: string, url: string, index: number, body: Uint8Array, claims: SharedArrayBuffer | null = null): string {
  const tmp = tempPath(dir, safeName(url), index);
  let final = '';
  try {
    writeFileSync(tmp, body, { flag: 'wx' });
    // Claimed only once the body is on disk: a failed write leaves the name to a later record.
    final = join(dir, saveName(claims, url, index));
    renameSync(tmp, final);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw Object.assign(new Error(`cannot save body: ${(err as Error).message}`), { code: 'WRITE_FAILED' });
  }
  return final;
}
