// The built-in server's endpoints: one small handler per route, in a table that also lists them for `GET /` and `serve`.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { patternStream, sendJson, sendText } from './body.js';
import type { StatsLog } from './stats.js';
import type { Timers } from './timers.js';

/** What the routes share for the server's lifetime. */
export interface ServerContext {
  log: StatsLog;
  timers: Timers;
  attempts: Attempts;
  /** host:port for absolute redirects, should a request carry no Host header. */
  authority: string;
}

/** One request, split the way the routes read it. */
export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  /** The route's name, the first path segment: `drip` for `/drip/5/100`. */
  name: string;
  /** The path segments after the name: `['5', '100']` for `/drip/5/100`. */
  args: string[];
  /** The path without the query string. */
  path: string;
  /** The query string without its `?`; '' if none. */
  query: string;
  head: boolean;
  ctx: ServerContext;
}

export interface Route {
  /** The path as listed, parameters written `:name`. */
  usage: string;
  about: string;
  /** Observers are not counted in /stats: they must not disturb what they observe. */
  quiet?: true;
  handle(call: Call): void;
}

// /flaky attempt counts per key; capped so a long run with unique keys cannot leak.
const ATTEMPTS_CAP = 100_000;

// Drips bytes in at most this many slices so a long drip costs a handful of timers, not one per byte.
const DRIP_SLICES = 20;

const DIGITS = /^\d+$/;

export interface Attempts {
  /** Count one more attempt for `key` and return the count, 1 for the first. */
  next(key: string): number;
}

export function createAttempts(cap = ATTEMPTS_CAP): Attempts {
  const seen = new Map<string, number>();
  return {
    next(key) {
      const count = (seen.get(key) ?? 0) + 1;
      if (!seen.has(key) && seen.size >= cap) {
        const oldest = seen.keys().next().value;
        if (oldest !== undefined) seen.delete(oldest);
      }
      seen.set(key, count);
      return count;
    },
  };
}

function parseCount(s: string): number | null {
  if (!DIGITS.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** The arguments as whole numbers when there are exactly `k` of them and all are; else null. */
function counts(call: Call, k: number): number[] | null {
  if (call.args.length !== k) return null;
  const out = call.args.map(parseCount);
  return out.every((n) => n !== null) ? (out as number[]) : null;
}

function notFound(call: Call): void {
  sendText(call.res, 404, `not found: ${call.path}\n`);
}

/** A route that takes no arguments: anything after its name is not found. */
function bare(handle: (call: Call) => void): (call: Call) => void {
  return (call) => (call.args.length === 0 ? handle(call) : notFound(call));
}

function delay(call: Call): void {
  const [ms] = counts(call, 1) ?? [];
  if (ms === undefined) return sendText(call.res, 400, 'bad delay\n');
  call.ctx.timers.forResponse(call.res)(() => sendText(call.res, 200, `delayed ${ms} ms\n`), ms);
}

function status(call: Call): void {
  const [code] = counts(call, 1) ?? [];
  if (code === undefined || code < 200 || code > 599) return sendText(call.res, 400, 'bad status\n');
  let extra: Record<string, string> | undefined;
  if ((code === 429 || code === 503) && call.query !== '') {
    const ra = new URLSearchParams(call.query).get('retry-after');
    if (ra !== null) extra = { 'retry-after': ra };
  }
  sendText(call.res, code, `${code} ${STATUS_CODES[code] ?? ''}\n`, extra);
}

function flaky(call: Call): void {
  const [n] = counts(call, 1) ?? [];
  if (n === undefined) return sendText(call.res, 400, 'bad flaky count\n');
  const params = new URLSearchParams(call.query);
  const key = params.get('key') || (call.req.url ?? '/');
  // ?retry-after=s asks for a real wait, so a client that ignores Retry-After shows in the arrival times.
  const wait = params.get('retry-after') ?? '';
  const seen = call.ctx.attempts.next(key);
  if (seen <= n)
    return sendText(call.res, 503, `flaky: attempt ${seen} of ${n} fails\n`, { 'retry-after': DIGITS.test(wait) ? wait : '0' });
  sendText(call.res, 200, `flaky: attempt ${seen} ok\n`);
}

function bytes(call: Call): void {
  const [n] = counts(call, 1) ?? [];
  if (n === undefined) return sendText(call.res, 400, 'bad byte count\n');
  call.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  // HEAD swallows writes and always reports room, so streaming would spin.
  if (call.head || n === 0) return void call.res.end();
  patternStream(call.res, n).release(n);
}

function endless(call: Call): void {
  call.res.writeHead(200, { 'content-type': 'application/octet-stream' });
  if (call.head) return void call.res.end();
  patternStream(call.res, null).release(Number.POSITIVE_INFINITY);
}

function drip(call: Call): void {
  const [n, ms] = counts(call, 2) ?? [];
  if (n === undefined || ms === undefined) return sendText(call.res, 400, 'bad drip\n');
  call.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  if (call.head || n === 0) return void call.res.end();
  const stream = patternStream(call.res, n);
  const schedule = call.ctx.timers.forResponse(call.res);
  const slices = Math.min(n, DRIP_SLICES);
  const start = performance.now();
  let slice = 0;
  // Slice k goes out at k/slices of the way through, so the last byte lands at `ms`;
  // each is timed from the start so timer lateness does not accumulate.
  const tick = (): void => {
    slice++;
    stream.release(Math.round((n * slice) / slices));
    if (slice < slices) schedule(tick, Math.max(0, start + (ms * (slice + 1)) / slices - performance.now()));
  };
  schedule(tick, ms / slices);
}

function redirect(call: Call): void {
  const [n] = counts(call, 1) ?? [];
  if (n === undefined) return sendText(call.res, 400, 'bad redirect count\n');
  if (n === 0) return sendText(call.res, 200, 'ok\n');
  const next = `/${call.name}/${n - 1}`;
  const location = call.name === 'redirect' ? next : `http://${call.req.headers.host ?? call.ctx.authority}${next}`;
  sendText(call.res, 302, `redirecting to ${location}\n`, { location });
}

function loop(call: Call): void {
  const [step] = call.args;
  if (step === undefined) return sendText(call.res, 302, 'loop\n', { location: '/loop' });
  if (call.args.length !== 1 || (step !== 'a' && step !== 'b')) return notFound(call);
  sendText(call.res, 302, 'loop\n', { location: step === 'a' ? '/loop/b' : '/loop/a' });
}

function reset(call: Call): void {
  const socket = call.req.socket;
  call.res.on('error', () => {});
  // Promise more than we send, so the client sees a truncated body rather than a clean end.
  call.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '1000' });
  call.res.write('partial body, then the connection dies\n', () => socket.destroy());
}

function garbage(call: Call): void {
  // Bypass the HTTP layer entirely so the client's parser sees something that is not HTTP.
  call.req.socket.end('NOT HTTP AT ALL\r\n\r\n');
  call.req.socket.destroySoon();
}

/** The request as it arrived: method, headers, and the body's length and sha256 (hashed as it streams in, never held). */
function echo(call: Call): void {
  const hash = createHash('sha256');
  let length = 0;
  call.req.on('data', (chunk: Buffer) => {
    length += chunk.length;
    hash.update(chunk);
  });
  call.req.once('end', () =>
    sendJson(call.res, { method: call.req.method, headers: call.req.headers, length, sha256: hash.digest('hex') }),
  );
}

function index(call: Call): void {
  // Only `/` itself: a target like `*` also has an empty first segment.
  if (call.path !== '/') return notFound(call);
  sendText(call.res, 200, routeList());
}

function resetStats(call: Call): void {
  call.ctx.log.reset();
  call.res.writeHead(204);
  call.res.end();
}

/** Every endpoint, keyed by its first path segment, in the order `GET /` lists them. */
export const ROUTES: Record<string, Route> = {
  '': { usage: '/', about: 'this list of routes (not counted)', quiet: true, handle: index },
  delay: { usage: '/delay/:ms', about: '200 after ms milliseconds, small text body', handle: delay },
  status: { usage: '/status/:code', about: 'that status (200-599); ?retry-after=s adds Retry-After to 429 and 503', handle: status },
  flaky: {
    usage: '/flaky/:n',
    about: '503 with Retry-After: 0 (or ?retry-after=s) for the first n requests per ?key=, then 200',
    handle: flaky,
  },
  bytes: { usage: '/bytes/:n', about: 'n bytes of a repeating pattern', handle: bytes },
  drip: { usage: '/drip/:n/:ms', about: 'n bytes spread over ms milliseconds', handle: drip },
  endless: { usage: '/endless', about: 'a body that never ends', handle: bare(endless) },
  redirect: { usage: '/redirect/:n', about: 'n relative redirect hops, then 200', handle: redirect },
  'absolute-redirect': { usage: '/absolute-redirect/:n', about: 'n absolute redirect hops, then 200', handle: redirect },
  loop: { usage: '/loop', about: 'a redirect to itself (/loop/a and /loop/b redirect to each other)', handle: loop },
  // Never answer; the client's timeout, the client leaving, or close() ends it.
  hang: { usage: '/hang', about: 'headers never sent', handle: bare(() => {}) },
  reset: { usage: '/reset', about: 'socket destroyed mid-response', handle: bare(reset) },
  garbage: { usage: '/garbage', about: 'a reply that is not HTTP', handle: bare(garbage) },
  headers: { usage: '/headers', about: 'JSON: the request headers', handle: bare((c) => sendJson(c.res, c.req.headers)) },
  echo: { usage: '/echo', about: 'JSON: the request method, headers, and body length and sha256 (any method)', handle: bare(echo) },
  stats: {
    usage: '/stats',
    about: 'JSON: requests served, in flight, peak in flight, per-request arrival and finish (not counted)',
    quiet: true,
    handle: bare((c) => sendJson(c.res, c.ctx.log.stats())),
  },
  'reset-stats': { usage: '/reset-stats', about: 'start /stats afresh (not counted)', quiet: true, handle: bare(resetStats) },
};

/** The route list `GET /` answers and `serve` prints: one route a line, its usage then what it does. */
export function routeList(): string {
  const routes = Object.values(ROUTES);
  const width = Math.max(...routes.map((r) => r.usage.length));
  return routes.map((r) => `${r.usage.padEnd(width)}  ${r.about}\n`).join('');
}

/** Split a request target into the route's name, its arguments, and the query. */
function parseTarget(target: string): Pick<Call, 'name' | 'args' | 'path' | 'query'> {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const seg = path.split('/');
  return { name: seg[1] ?? '', args: seg.slice(2), path, query: q === -1 ? '' : target.slice(q + 1) };
}

/** Answer one request from the table; unknown names are 404, counted like any other request. */
export function handleRequest(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const call: Call = { req, res, ctx, head: req.method === 'HEAD', ...parseTarget(req.url ?? '/') };
  // Own properties only, so `/constructor` or `/__proto__` is not found rather than a crash.
  const route = Object.hasOwn(ROUTES, call.name) ? ROUTES[call.name] : undefined;
  if (!route?.quiet) ctx.log.record(req, res);
  if (route) route.handle(call);
  else notFound(call);
}
