// The built-in deterministic HTTP test server behind `fetchall serve`, `fetchall demo` and the tests.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { UsageError } from './options.js';

export interface ServerStats {
  /** Requests received since the last reset (the log below may hold fewer). */
  served: number;
  /** Requests whose response has not finished or been cut off yet. */
  inFlight: number;
  /** Highest `inFlight` seen since the last reset. */
  peak: number;
  /** The most recent requests, oldest first; `path` is the raw request target, query included. */
  requests: { path: string; arrival: number; finish: number | null; headers?: Record<string, string> }[];
}

export interface TestServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:34567 */
  url: string;
  port: number;
  stats(): ServerStats;
  reset(): void;
  close(): Promise<void>;
}

type RequestEntry = ServerStats['requests'][number];

// A 100k-request benchmark must not grow memory; the totals stay exact, only the log is trimmed.
const LOG_CAP = 10_000;

// A multiple of the pattern length, so consecutive chunks continue the pattern seamlessly and
// byte i of any body is always PATTERN[i % PATTERN.length], whatever the chunking.
const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
const CHUNK = PATTERN.length * Math.floor(65_536 / PATTERN.length);
// One pattern length of slack lets a chunk start at any pattern offset without copying.
const PATTERN_BUF = Buffer.from(PATTERN.repeat(CHUNK / PATTERN.length + 1), 'latin1');

// Drips bytes in at most this many slices so a long drip costs a handful of timers, not one per byte.
const DRIP_SLICES = 20;

// setTimeout fires immediately for anything above this, which would turn a long delay into none.
const MAX_TIMER_MS = 2_147_483_647;

const DIGITS = /^\d+$/;

const now = (): number => performance.timeOrigin + performance.now();

function parseCount(s: string | undefined): number | null {
  if (s === undefined || !DIGITS.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

function sendText(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  // These statuses must not carry a body; undici would otherwise see a framing error.
  const text = status === 204 || status === 205 || status === 304 ? '' : body;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/**
 * Writes pattern bytes up to a moving limit, waiting for 'drain' whenever the socket is full,
 * so a 1 GB or endless body costs one 64 KiB buffer instead of n bytes of memory.
 * `total` null means stream until the client goes away.
 */
function patternStream(res: ServerResponse, total: number | null) {
  let pos = 0;
  let limit = 0;
  let waiting = false;
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  // A write racing the client's disconnect may error; the 'close' above already stops us.
  res.on('error', () => {});
  const pump = (): void => {
    waiting = false;
    while (!gone && pos < limit) {
      const len = Math.min(CHUNK, limit - pos);
      const off = pos % PATTERN.length;
      pos += len;
      if (!res.write(PATTERN_BUF.subarray(off, off + len))) {
        waiting = true;
        res.once('drain', pump);
        return;
      }
    }
    if (!gone && total !== null && pos >= total) res.end();
  };
  return {
    /** Allow bytes up to `n` (clamped to the total) and write what the socket will take. */
    release(n: number): void {
      limit = total === null ? n : Math.min(n, total);
      if (!waiting) pump();
    },
  };
}

export async function startServer(opts: { host?: string; port?: number } = {}): Promise<TestServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;

  let served = 0;
  let inFlight = 0;
  let peak = 0;
  const log: RequestEntry[] = [];
  let logStart = 0;
  // /flaky attempt counts per key; capped so a long run with unique keys cannot leak.
  const flaky = new Map<string, number>();
  const FLAKY_CAP = 100_000;
  // Timers kept by endpoints, so close() leaves nothing that holds the event loop open.
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  // One timer slot per response with a single 'close' listener, so a 20-slice drip does not
  // pile up listeners, and a client that leaves cancels whatever was still pending.
  const scheduler = (res: ServerResponse) => {
    let timer: NodeJS.Timeout | null = null;
    res.once('close', () => {
      if (timer) {
        clearTimeout(timer);
        timers.delete(timer);
        timer = null;
      }
    });
    return (fn: () => void, ms: number): void => {
      const t = setTimeout(
        () => {
          timers.delete(t);
          timer = null;
          fn();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      timer = t;
      timers.add(t);
    };
  };

  const record = (req: IncomingMessage, res: ServerResponse): void => {
    served++;
    inFlight++;
    if (inFlight > peak) peak = inFlight;

    // rawHeaders avoids building the lazy req.headers object on the hot path.
    let headers: Record<string, string> | undefined;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if ((name.charCodeAt(0) === 120 && name.charCodeAt(1) === 45) || name === 'user-agent') {
        headers ??= {};
        const value = raw[i + 1] as string;
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
    }

    const entry: RequestEntry = { path: req.url ?? '/', arrival: now(), finish: null };
    if (headers) entry.headers = headers;
    if (log.length < LOG_CAP) {
      log.push(entry);
    } else {
      log[logStart] = entry;
      logStart = (logStart + 1) % LOG_CAP;
    }

    // 'close' also fires when the client aborts, so hung and cut-off requests leave inFlight too.
    res.once('close', () => {
      inFlight--;
      entry.finish = now();
    });
  };

  const stats = (): ServerStats => {
    const requests: RequestEntry[] = new Array(log.length);
    for (let i = 0; i < log.length; i++) {
      const e = log[(logStart + i) % log.length] as RequestEntry;
      requests[i] = { ...e };
    }
    return { served, inFlight, peak, requests };
  };

  const reset = (): void => {
    served = 0;
    // Requests still open keep counting, so the peak restarts from them rather than from 0.
    peak = inFlight;
    log.length = 0;
    logStart = 0;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? '' : target.slice(q + 1);
    const seg = path.split('/');
    const name = seg[1] ?? '';
    const arity = seg.length - 1;
    const head = req.method === 'HEAD';

    // The observers must not disturb what they observe.
    if (arity === 1 && name === 'stats') return sendJson(res, stats());
    if (arity === 1 && name === 'reset-stats') {
      reset();
      res.writeHead(204);
      res.end();
      return;
    }

    record(req, res);

    switch (name) {
      case 'delay': {
        const ms = arity === 2 ? parseCount(seg[2]) : null;
        if (ms === null) return sendText(res, 400, 'bad delay\n');
        scheduler(res)(() => sendText(res, 200, `delayed ${ms} ms\n`), ms);
        return;
      }

      case 'status': {
        const code = arity === 2 ? parseCount(seg[2]) : null;
        if (code === null || code < 200 || code > 599) return sendText(res, 400, 'bad status\n');
        let extra: Record<string, string> | undefined;
        if ((code === 429 || code === 503) && query !== '') {
          const ra = new URLSearchParams(query).get('retry-after');
          if (ra !== null) extra = { 'retry-after': ra };
        }
        return sendText(res, code, `${code} ${STATUS_CODES[code] ?? ''}\n`, extra);
      }

      case 'flaky': {
        const n = arity === 2 ? parseCount(seg[2]) : null;
        if (n === null) return sendText(res, 400, 'bad flaky count\n');
        const key = (query !== '' && new URLSearchParams(query).get('key')) || target;
        const seen = (flaky.get(key) ?? 0) + 1;
        if (!flaky.has(key) && flaky.size >= FLAKY_CAP) {
          const oldest = flaky.keys().next().value;
          if (oldest !== undefined) flaky.delete(oldest);
        }
        flaky.set(key, seen);
        if (seen <= n) {
          return sendText(res, 503, `flaky: attempt ${seen} of ${n} fails\n`, { 'retry-after': '0' });
        }
        return sendText(res, 200, `flaky: attempt ${seen} ok\n`);
      }

      case 'bytes': {
        const n = arity === 2 ? parseCount(seg[2]) : null;
        if (n === null) return sendText(res, 400, 'bad byte count\n');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
        // HEAD swallows writes and always reports room, so streaming would spin.
        if (head || n === 0) return void res.end();
        patternStream(res, n).release(n);
        return;
      }

      case 'endless': {
        if (arity !== 1) break;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        if (head) return void res.end();
        patternStream(res, null).release(Number.POSITIVE_INFINITY);
        return;
      }

      case 'drip': {
        const n = arity === 3 ? parseCount(seg[2]) : null;
        const ms = arity === 3 ? parseCount(seg[3]) : null;
        if (n === null || ms === null) return sendText(res, 400, 'bad drip\n');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
        if (head || n === 0) return void res.end();
        const stream = patternStream(res, n);
        const schedule = scheduler(res);
        const slices = Math.min(n, DRIP_SLICES);
        const start = now();
        let slice = 0;
        // Slice k goes out at k/slices of the way through, so the last byte lands at `ms`;
        // each is timed from the start so timer lateness does not accumulate.
        const tick = (): void => {
          slice++;
          stream.release(Math.round((n * slice) / slices));
          if (slice < slices) schedule(tick, Math.max(0, start + (ms * (slice + 1)) / slices - now()));
        };
        schedule(tick, ms / slices);
        return;
      }

      case 'redirect':
      case 'absolute-redirect': {
        const n = arity === 2 ? parseCount(seg[2]) : null;
        if (n === null) return sendText(res, 400, 'bad redirect count\n');
        if (n === 0) return sendText(res, 200, 'ok\n');
        const next = `/${name}/${n - 1}`;
        const location = name === 'redirect' ? next : `http://${req.headers.host ?? `${host}:${port}`}${next}`;
        return sendText(res, 302, `redirecting to ${location}\n`, { location });
      }

      case 'loop': {
        if (arity === 1) return sendText(res, 302, 'loop\n', { location: '/loop' });
        if (arity === 2 && seg[2] === 'a') return sendText(res, 302, 'loop\n', { location: '/loop/b' });
        if (arity === 2 && seg[2] === 'b') return sendText(res, 302, 'loop\n', { location: '/loop/a' });
        break;
      }

      case 'hang':
        // Never answer; the client's timeout, the client leaving, or close() ends it.
        if (arity === 1) return;
        break;

      case 'reset': {
        if (arity !== 1) break;
        const socket = req.socket;
        res.on('error', () => {});
        // Promise more than we send, so the client sees a truncated body rather than a clean end.
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '1000' });
        res.write('partial body, then the connection dies\n', () => socket.destroy());
        return;
      }

      case 'garbage': {
        if (arity !== 1) break;
        // Bypass the HTTP layer entirely so the client's parser sees something that is not HTTP.
        req.socket.end('NOT HTTP AT ALL\r\n\r\n');
        req.socket.destroySoon();
        return;
      }

      case 'headers':
        if (arity === 1) return sendJson(res, req.headers);
        break;
    }

    sendText(res, 404, `not found: ${path}\n`);
  };

  const server = createServer(handle);
  // /hang must really hang, so Node's own header/request deadlines are off.
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      // Resolves whether or not it was still listening; closing twice is not an error here.
      server.close(() => resolve());
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Hanging and endless responses would otherwise keep close() waiting forever.
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });
    return closing;
  };

  return {
    url: `http://${urlHost}:${boundPort}`,
    port: boundPort,
    stats,
    reset,
    close,
  };
}

/** `fetchall serve`: print the base URL first thing, then serve until SIGINT/SIGTERM. */
export async function serveCommand(opts: { host: string; port: number }): Promise<void> {
  let server: TestServer;
  try {
    server = await startServer(opts);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`serve: cannot listen on ${opts.host}:${opts.port}: ${code}`);
  }
  // Callers (the demo, scripts) read the first stdout line to find the server.
  process.stdout.write(`${server.url}\n`);
  // A caller that cannot read the URL cannot use the server: stop, and exit 74 (cli.ts says why).
  const unwritten = process.stdout.errored;
  if (unwritten) {
    await server.close();
    throw unwritten;
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(() => {
        process.stderr.write('fetchall serve: stopped\n');
        process.exitCode = 0;
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
