// The HTTP rules every engine follows the same way, one function per rule: headers and credentials, redirects, Retry-After, bodies and their limits.

import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { now } from './clock.js';
import { fetchError, mapError } from './errors.js';
import type { AttemptResult, FetchError, ProxySettings, RequestBody, RequestOptions } from './types.js';

/*
 * One outcome per response, whichever client read it (undici, or node:http in sync-request's
 * helper); test/agree.test.ts holds every mode to these and the README shows them as a table:
 * - 1xx before the final response are skipped (RFC 9110 §15.2), an unasked 100 too.
 * - Not HTTP (status < 100, a head over 16 KiB, conflicting lengths, bad chunks): PROTOCOL_ERROR
 *   (mapError), status null unless the head was already in.
 * - Repeated Location: the first ({@link firstValue}).
 * - Cut after the head (reset, close, deadline): the status and the bytes so far ({@link bodyError}).
 * - --max-size: 0 bytes if Content-Length says too much, else the limit ({@link limitedBytes}).
 * - HEAD, 1xx, 204, 304 have no body whatever Content-Length says ({@link hasBody}).
 * - TLS handshake failures: TLS_FAILED; a certificate that fails verification: its own code (mapError).
 * - Hop-by-hop and framing -H: a usage error ({@link MANAGED_HEADERS}).
 * - A body goes on every hop that keeps the method; 301/302 POST and 303 (HEAD aside) become a GET without it ({@link redirectStep}).
 * - The proxy: one per URL, by {@link proxyFor}; Proxy-Authorization goes to it only ({@link proxyCredential}).
 */

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

/**
 * The extra headers every engine sends to an origin: -A, then -H in order (repeats joined as HTTP
 * allows). A -H Proxy-Authorization is not among them: it is the proxy's ({@link proxyCredential}).
 */
const headerCache = new WeakMap<RequestOptions, Record<string, string>>();
export function requestHeaders(opts: RequestOptions): Record<string, string> {
  let headers = headerCache.get(opts);
  if (headers) return headers;
  headers = { 'user-agent': opts.userAgent };
  for (const [name, value] of opts.headers) {
    const key = name.toLowerCase();
    if (key === 'proxy-authorization') continue;
    headers[key] = key in headers && key !== 'user-agent' ? `${headers[key]}, ${value}` : value;
  }
  headerCache.set(opts, headers);
  return headers;
}

/**
 * The Proxy-Authorization for a request through `proxy` (a {@link proxyFor} value): -H's (repeats
 * joined), else the proxy URL's credentials as Basic, else null. It goes to the proxy only: on the
 * CONNECT for https, on the forwarded request for plain http, on every hop through that proxy; never
 * to an origin, and with no proxy it is not sent at all (curl would send a -H one to the server).
 */
export function proxyCredential(proxy: string, opts: RequestOptions): string | null {
  const given = opts.headers.filter(([name]) => name.toLowerCase() === 'proxy-authorization').map(([, value]) => value);
  if (given.length > 0) return given.join(', ');
  const u = new URL(proxy);
  if (!u.username && !u.password) return null;
  return `Basic ${Buffer.concat([percentDecode(u.username), Buffer.from(':'), percentDecode(u.password)]).toString('base64')}`;
}

/** The headers that carry the user's credentials: they never follow a redirect to another origin. */
export const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'] as const;

/** Dropped with the credentials on a hop to another origin: a -H Host names the first origin's virtual host (curl drops it too). */
const FIRST_ORIGIN_HEADERS = [...CREDENTIAL_HEADERS, 'host'] as const;

/**
 * The headers for one hop of a request: the one place that decides where credentials go, for
 * every engine. `base` is requestHeaders(); `first` the URL the user gave; `hop` this hop's URL;
 * `left` whether this hop or an earlier one is on another origin (scheme, host, port) than `first`.
 * While on the first origin, URL credentials become Basic auth (as in curl and sync-request)
 * unless -H gave an Authorization; once a redirect has left it, the credential headers (and a -H Host) are
 * dropped and no URL credentials are sent, and they stay dropped even if a later hop comes back.
 */
export function hopHeaders(base: Record<string, string>, first: URL, hop: URL, left: boolean): Record<string, string> {
  if (left) {
    if (!FIRST_ORIGIN_HEADERS.some((h) => h in base)) return base;
    const headers = { ...base };
    for (const h of FIRST_ORIGIN_HEADERS) delete headers[h];
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
  return { ...NO_RESPONSE, start, end: now(), worker, error };
}

/** What an attempt reports before (or without) any response: no status, no body, nothing requested. */
export const NO_RESPONSE = {
  status: null,
  bytes: 0,
  file: null,
  retryAfterMs: null,
  finalUrl: null,
  redirects: 0,
  ttfbMs: null,
  contentType: null,
  workMs: null,
} as const satisfies Partial<AttemptResult>;

/**
 * A URL as a record's `final_url` shows it, the same in every mode: as requested on the wire,
 * WHATWG-normalised, without its fragment (never sent) or its credentials (sent as a header, and
 * a record is often shared). `u` is the hop's parsed URL; a plain one costs nothing more.
 */
export function requestedUrl(u: URL): string {
  if (!u.username && !u.password && !u.href.includes('#')) return u.href;
  const bare = new URL(u.href);
  bare.hash = '';
  bare.username = '';
  bare.password = '';
  return bare.href;
}

/**
 * A failure once the response head is in: the connection ending early is SOCKET_CLOSED
 * whatever the client calls it (a reset, undici's "other side closed"), a framing error stays
 * PROTOCOL_ERROR. The record keeps the status and the bytes received so far.
 */
export function bodyError(err: unknown): FetchError {
  const e = mapError(err);
  return e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.code === 'ECONNABORTED' ? fetchError('SOCKET_CLOSED') : e;
}

/**
 * Methods sent once more, within the same attempt, when a kept-alive connection the server had
 * closed dies under them before any response byte (RFC 9110 §9.2.2), as curl does; every mode.
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/**
 * A response header that must have one value (Location): the first, as curl and node:http
 * take it. undici hands repeats as an array, which would otherwise read as "a,b".
 */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The outcome of looking at a 3xx: follow it, return it as is, or fail. `keepBody`: the next hop sends the body too. */
export type RedirectStep =
  | { kind: 'final' }
  | { kind: 'follow'; url: string; method: string; keepBody: boolean }
  | { kind: 'fail'; error: FetchError };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A URL as redirects are followed and loops judged: without its fragment, which never reaches the
 * server (/a#top and /a are one request). Every engine seeds its `visited` set with this.
 */
export function redirectKey(url: string | URL): string {
  const u = new URL(url);
  u.hash = '';
  return u.href;
}

/**
 * One redirect decision, shared by every engine so `--max-redirects` means the same thing in each.
 * `visited` holds the {@link redirectKey} of every URL requested so far, the first included.
 */
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
  const href = redirectKey(next);
  if (visited.has(href)) return { kind: 'fail', error: fetchError('REDIRECT_LOOP', `redirect loop: ${href} visited twice`) };
  if (visited.size > maxRedirects) {
    return { kind: 'fail', error: fetchError('TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirect${maxRedirects === 1 ? '' : 's'}`) };
  }
  visited.add(href);
  // As Fetch and RFC 9110: a 303 makes the next request a retrieval; HEAD already is one.
  const nextMethod = (status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST') ? 'GET' : method;
  // As curl: the body goes where the method goes (307/308, a PUT after 301/302); a rewrite to GET drops it.
  return { kind: 'follow', url: href, method: nextMethod, keepBody: nextMethod === method };
}

/** A hop's headers when it carries the body: with the body's Content-Type, unless -H named one. */
export function withBodyType(headers: Record<string, string>, body: RequestBody | null): Record<string, string> {
  return body?.contentType ? { ...headers, 'content-type': body.contentType } : headers;
}

/** The environment variables {@link proxyFor} reads, lower-case first as curl reads them. */
export const PROXY_VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'] as const;

/** A variable of either case, the lower-case one first (as curl); empty counts as unset. */
function envValue(env: ProxySettings['env'], lower: string): { name: string; value: string } | null {
  for (const name of [lower, lower.toUpperCase()]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return null;
}

/** A scheme's proxy as the environment gives it. */
function envProxy(env: ProxySettings['env'], scheme: 'http' | 'https'): { name: string; value: string } | null {
  return envValue(env, `${scheme}_proxy`);
}

/**
 * A proxy as written (`host:port`, `http://user:pw@host:port/`) → `http://user:pw@host:port`,
 * or why not. Only http:// proxies: every mode can speak to them (CONNECT for https URLs).
 */
export function proxyUrl(value: string): { url: string } | { reason: string } {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    return { reason: 'not a proxy URL' };
  }
  if (u.protocol !== 'http:') return { reason: `unsupported proxy scheme ${u.protocol} (only http:// proxies)` };
  if (!u.hostname) return { reason: 'no proxy host' };
  return { url: `${u.protocol}//${u.username || u.password ? `${u.username}:${u.password}@` : ''}${u.host}` };
}

/** NO_PROXY's entries, parsed once per settings object. */
interface Bypass {
  all: boolean;
  /** Host names and IP literals (lower case, no brackets), each with the port it is limited to (0 = any). */
  hosts: { host: string; port: number }[];
  /** CIDR ranges (10.0.0.0/8, fd00::/8). */
  ranges: BlockList;
}
const bypassCache = new WeakMap<ProxySettings, Bypass>();

/** NO_PROXY as curl reads it: `*`; host names, each matching itself and its subdomains (a leading `.` or `*.` is the same); IP addresses and CIDR ranges; any of them `:port`. */
function bypassList(s: ProxySettings): Bypass {
  let b = bypassCache.get(s);
  if (b) return b;
  b = { all: false, hosts: [], ranges: new BlockList() };
  const raw = envValue(s.env, 'no_proxy')?.value ?? '';
  for (let entry of raw.toLowerCase().split(/[\s,]+/)) {
    if (entry === '*') b.all = true;
    let port = 0;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracket) {
      entry = bracket[1]!;
      port = Number(bracket[2] ?? 0);
    } else if (!entry.includes('/') && entry.indexOf(':') === entry.lastIndexOf(':')) {
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m) [entry, port] = [m[1]!, Number(m[2])];
    }
    const cidr = /^(.+)\/(\d+)$/.exec(entry);
    const family = cidr ? isIP(cidr[1]!) : 0;
    if (cidr && family) {
      try {
        b.ranges.addSubnet(cidr[1]!, Number(cidr[2]), family === 6 ? 'ipv6' : 'ipv4');
      } catch {
        // A prefix out of range matches nothing, as in curl.
      }
      continue;
    }
    entry = entry.replace(/^\*?\./, '').replace(/\.$/, '');
    if (entry) b.hosts.push({ host: entry, port });
  }
  bypassCache.set(s, b);
  return b;
}

/** Whether NO_PROXY sends this URL direct. */
function bypassed(u: URL, s: ProxySettings): boolean {
  const b = bypassList(s);
  if (b.all) return true;
  const host = u.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  const family = isIP(host);
  if (family && b.ranges.check(host, family === 6 ? 'ipv6' : 'ipv4')) return true;
  return b.hosts.some((e) => (e.port === 0 || e.port === port) && (host === e.host || (!family && host.endsWith(`.${e.host}`))));
}

/**
 * The proxy one URL goes through (`http://[user:pw@]host:port`), or null to connect directly:
 * nothing with --no-proxy; else --proxy, else the scheme's variable (http_proxy/HTTP_PROXY,
 * https_proxy/HTTPS_PROXY); and NO_PROXY/no_proxy exempts hosts from either, as in curl.
 * Settings are checked before a run (options.ts), so a value here that is not a proxy is none.
 */
export function proxyFor(url: string | URL, s: ProxySettings): string | null {
  if (s.noProxy) return null;
  const u = typeof url === 'string' ? new URL(url) : url;
  const value = s.proxy ?? envProxy(s.env, u.protocol === 'https:' ? 'https' : 'http')?.value;
  if (!value || bypassed(u, s)) return null;
  const p = proxyUrl(value);
  return 'url' in p ? p.url : null;
}

/** The settings' proxies that are not usable, named by where they came from (for a usage error). */
export function badProxies(s: ProxySettings): { source: string; value: string; reason: string }[] {
  if (s.noProxy) return [];
  const given = s.proxy !== null ? [{ source: '--proxy', value: s.proxy }] : [];
  const fromEnv =
    s.proxy !== null
      ? []
      : (['http', 'https'] as const).flatMap((scheme) => {
          const p = envProxy(s.env, scheme);
          return p ? [{ source: p.name, value: p.value }] : [];
        });
  return [...given, ...fromEnv].flatMap((p) => {
    const r = proxyUrl(p.value);
    return 'reason' in r ? [{ ...p, reason: r.reason }] : [];
  });
}

/**
 * The CAs trusted with --cacert, for Node's `ca` option, which replaces the default store: the
 * system's, NODE_EXTRA_CA_CERTS' (which Node would otherwise drop with it), and the file's.
 */
export function trustedCAs(cacert: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = env.NODE_EXTRA_CA_CERTS;
  let extraPem: string[] = [];
  try {
    if (extra) extraPem = [readFileSync(extra, 'utf8')];
  } catch {
    // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS.
  }
  return [...rootCertificates, ...extraPem, readFileSync(cacert, 'utf8')];
}

/** Retry-After (seconds or an HTTP date) → ms to wait, or null. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** Whether a response has a body: HEAD answers, 1xx, 204 and 304 have none, whatever their Content-Length says. */
export function hasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
}

/**
 * --max-size on a response head: a body whose Content-Length already says too much is refused
 * before any byte is read (a response with no body has nothing to refuse).
 */
export function declaredTooLarge(method: string, status: number, contentLength: string | string[] | undefined, maxSize: number): boolean {
  return hasBody(method, status) && Number(contentLength) > maxSize;
}

/** The scheme, host and port of a URL (the unit of --per-host and of the timeline's labels), or the text itself if it is no URL. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
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
