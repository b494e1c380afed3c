// What all three engines share so they behave alike: error codes, redirects, Retry-After, saved bodies.

import { createHash } from 'node:crypto';
import { renameSync, unlinkSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import type { AttemptResult, FetchError, RequestOptions } from '../core/types.js';
import { now } from '../measure/clock.js';

/*
 * One outcome per response, whichever client read it (undici, or node:http in sync-request's
 * helper); test/agree.test.ts holds every mode to these and the README shows them as a table:
 * - 1xx before the final response are skipped (RFC 9110 §15.2), an unasked 100 too.
 * - Not HTTP (status < 100, a head over 16 KiB, conflicting lengths, bad chunks): PROTOCOL_ERROR
 *   (mapError), status null unless the head was already in.
 * - Repeated Location: the first ({@link firstValue}).
 * - Cut after the head (reset, close, deadline): the status and the bytes so far ({@link bodyError}).
 * - --max-size: 0 bytes if Content-Length says too much, else the limit ({@link limitedBytes}).
 * - HEAD, 1xx, 204, 304 have no body whatever Content-Length says ({@link bodiless}).
 * - TLS handshake failures: TLS_FAILED. Hop-by-hop and framing -H: a usage error ({@link MANAGED_HEADERS}).
 */

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
  TLS_FAILED: 'the TLS handshake failed (e.g. https to a plain-HTTP port)',
  SOCKET_CLOSED: 'the connection closed before the response was complete',
  BAD_INPUT: 'the input line is not a fetchable URL',
  ABORTED: 'cancelled by SIGINT/SIGTERM or a closed output',
  WORKER_CRASH: 'the worker thread running the request died',
  HELPER_FAILED: 'sync-request’s helper process closed without an answer (e.g. killed by Ctrl-C)',
  WRITE_FAILED: 'the body could not be saved under --output-dir',
  REQUEST_FAILED: 'any other failure, with the client’s message',
} as const;

/**
 * Headers the HTTP clients manage themselves: hop-by-hop ones (RFC 9110 §7.6.1) and the
 * message's framing. undici refuses most of them and node:http sends them as given, so the
 * same -H would fail in one mode and change the connection in another: a usage error instead.
 */
export const MANAGED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
]);

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
  // undici's checks of the reply (an oversized head, a body that contradicts its length, a status
  // below 100 that trips an assertion in its parser) and llhttp's are all "not valid HTTP".
  if (
    /\bHPE_|Parse Error|UND_ERR_INFO|UND_ERR_HEADERS_OVERFLOW|UND_ERR_RES_CONTENT_LENGTH_MISMATCH|ERR_ASSERTION|invalid (status|header)|does not match the HTTP/i.test(
      any,
    )
  )
    return fetchError('PROTOCOL_ERROR', 'reply is not valid HTTP');
  if (/UND_ERR_SOCKET|other side closed|socket hang up|premature close|aborted/i.test(any)) {
    return fetchError('SOCKET_CLOSED', 'connection closed before the response was complete');
  }
  // https to a plain-HTTP port and other handshake failures: undici and node:https report the
  // same OpenSSL reason under different codes.
  const ssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
  if (ssl || code === 'EPROTO' || /^ERR_SSL_/.test(code ?? '')) {
    return fetchError('TLS_FAILED', `TLS handshake failed${ssl ? `: ${ssl[1]}` : ''}`);
  }
  if (code && /^E[A-Z]+$/.test(code)) return fetchError(code, message);
  return fetchError('REQUEST_FAILED', message);
}

/**
 * A failure once the response head is in: the connection ending early is SOCKET_CLOSED
 * whatever the client calls it (a reset, undici's "other side closed"), a framing error stays
 * PROTOCOL_ERROR. The record keeps the status and the bytes received so far.
 */
export function bodyError(err: unknown): FetchError {
  const e = mapError(err);
  return e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.code === 'ECONNABORTED'
    ? fetchError('SOCKET_CLOSED', 'connection closed before the response was complete')
    : e;
}

/**
 * A response header that must have one value (Location): the first, as curl and node:http
 * take it. undici hands repeats as an array, which would otherwise read as "a,b".
 */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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
  const nextMethod = status === 303 || ((status === 301 || status === 302) && method === 'POST') ? 'GET' : method;
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

/** HEAD answers, 1xx, 204 and 304 carry no body whatever their Content-Length says. */
export function bodiless(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/**
 * The `bytes` of a body cut off by --max-size: what was received up to the cut, which is the
 * limit itself (clients read in chunks of different sizes; the count must not depend on them).
 * A Content-Length above the limit is refused before any byte is read: 0.
 */
export function limitedBytes(received: number, maxSize: number): number {
  return Math.min(received, maxSize);
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

/**
 * Move a body that sync-request's helper streamed to `tmp` into place: the rename is the atomic
 * step, as in async mode. The name is claimed only once the body is on disk, so a failed write
 * leaves the name to a later record of the same URL.
 */
export function commitSync(dir: string, url: string, index: number, tmp: string, claims: SharedArrayBuffer | null = null): string {
  const final = join(dir, saveName(claims, url, index));
  try {
    renameSync(tmp, final);
  } catch (err) {
    discardSync(tmp);
    throw Object.assign(new Error(`cannot save body: ${(err as Error).message}`), { code: 'WRITE_FAILED' });
  }
  return final;
}

/** Remove a temp file that will not become a saved body (gone already is fine). */
export function discardSync(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {}
}
