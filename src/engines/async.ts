// The async engine: undici on the event loop, one thread; concurrency without threads.
// It uses undici's dispatch API directly (a handler per request, no stream or AbortSignal per
// request): on loopback the per-request overhead is most of the cost, and this halves it.

import { AssertionError } from 'node:assert';
import { createHash, type Hash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Agent, buildConnector, Dispatcher, Pool, ProxyAgent } from 'undici';
import { clampTimer, now } from '../core/clock.js';
import { fetchError, mapError, sizeError, timeoutError, writeError } from '../core/errors.js';
import {
  bodyError,
  declaredTooLarge,
  firstValue,
  hasBody,
  hopHeaders,
  IDEMPOTENT_METHODS,
  limitedBytes,
  noResponse,
  parseRetryAfter,
  proxyCredential,
  proxyFor,
  redirectKey,
  redirectStep,
  requestedUrl,
  requestHeaders,
  statusError,
  trustedCAs,
  withBodyType,
} from '../core/rules.js';
import type { AttemptResult, Engine, EngineInfo, FetchError, HopGate, Job, RequestOptions } from '../core/types.js';
import { PART_MODE } from '../tempfiles.js';
import { claimInto, safeName, saveName, tempPath } from './save.js';
import { workOnLoop } from './work.js';

/**
 * undici's Agent on its own: loading the package's index (fetch, WebSocket, cache, mocks …)
 * costs ~150 ms at start-up where the Agent alone costs ~60 ms. Same package, same code; the
 * whole index is the fallback should a future undici move the file.
 */
function loadAgent(): typeof Agent {
  return loadUndici('agent', 'Agent');
}

/** One of undici's dispatchers by its file, as {@link loadAgent} loads the Agent. */
function loadUndici<K extends 'Agent' | 'ProxyAgent' | 'Pool'>(file: string, name: K): typeof import('undici')[K] {
  const require = createRequire(import.meta.url);
  try {
    return require(`undici/lib/dispatcher/${file}.js`) as typeof import('undici')[K];
  } catch {
    return (require('undici') as typeof import('undici'))[name];
  }
}

/** undici's connector (what its Agent builds from `connect` options), loaded as the Agent is. */
function loadConnector(): typeof buildConnector {
  const require = createRequire(import.meta.url);
  try {
    return require('undici/lib/core/connect.js') as typeof buildConnector;
  } catch {
    return (require('undici') as typeof import('undici')).buildConnector;
  }
}

/**
 * undici's connector, noting each socket until it is connected: the Agent's destroy() leaves a
 * socket still connecting (a TLS handshake that never comes) open until its connect timeout,
 * which holds the process after a stop. `connecting` is what close() destroys.
 */
function trackedConnector(options: buildConnector.BuildOptions, connecting: Set<Socket>): buildConnector.connector {
  const connect = loadConnector()(options);
  return (opts, callback) => {
    let socket: Socket | undefined;
    const done: buildConnector.Callback = (...args) => {
      if (socket) connecting.delete(socket);
      callback(...args);
    };
    // undici's connector returns its socket, though its type says void.
    socket = (connect as unknown as (o: typeof opts, cb: typeof done) => Socket | undefined)(opts, done);
    if (socket) {
      connecting.add(socket);
      socket.once('close', () => connecting.delete(socket!));
    }
  };
}

/**
 * undici's ProxyAgent. Its tunnel calls connect() on the proxy's pool, one of the API methods
 * the package's index puts on every Dispatcher: put them there as the index does (~5 ms, where
 * the index costs ~180 ms). Should the files move, the index it is.
 */
function loadProxyAgent(): typeof ProxyAgent {
  const require = createRequire(import.meta.url);
  try {
    const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
    if (typeof (dispatcher.prototype as { connect?: unknown }).connect !== 'function') {
      Object.assign(dispatcher.prototype, require('undici/lib/api/index.js'));
    }
  } catch {
    return (require('undici') as typeof import('undici')).ProxyAgent;
  }
  return loadUndici('proxy-agent', 'ProxyAgent');
}

/** -k and --cacert as Node's TLS options; --cacert adds to the CAs trusted by default. */
function tlsOptions(opts: RequestOptions): { rejectUnauthorized: boolean; ca?: string[] } {
  const tls: { rejectUnauthorized: boolean; ca?: string[] } = { rejectUnauthorized: !opts.insecure };
  if (opts.cacert !== null) tls.ca = trustedCAs(opts.cacert);
  return tls;
}

/** Why we aborted a request ourselves; anything else that ends one is the network's doing. */
class Stop extends Error {
  constructor(readonly error: FetchError) {
    super(error.message);
  }
}

export class AsyncEngine implements Engine {
  readonly mode = 'async' as const;
  private readonly agent: Agent;
  /** One ProxyAgent per proxy in use (core/rules.ts proxyFor decides which URL takes which). */
  private readonly proxies = new Map<string, ProxyAgent>();
  private readonly agentOptions: Agent.Options;
  private readonly tls: ReturnType<typeof tlsOptions>;
  readonly headers: Record<string, string>;
  /** Requests in flight, so one listener on the run's signal can cancel them all. */
  readonly active = new Set<Exchange>();
  private watching: AbortSignal | null = null;
  /** Sockets still connecting: close() ends them, as the Agent does not. */
  private readonly connecting = new Set<Socket>();
  /** The net under undici while this engine runs (onStackFault). */
  private readonly net = (err: unknown) => this.onStackFault(err);
  /** Connections per origin: at most this many kept-alive ones can be found dead in a row. */
  readonly connections: number;

  constructor(
    readonly opts: RequestOptions,
    concurrency: number,
  ) {
    // The deadline is ours (a timer per request), so undici's per-phase timeouts are off.
    const AgentClass = loadAgent();
    this.tls = tlsOptions(opts);
    this.connections = concurrency;
    this.agentOptions = { connections: concurrency, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4000 };
    this.agent = new AgentClass({
      ...this.agentOptions,
      connect: trackedConnector({ timeout: opts.timeoutMs, ...this.tls }, this.connecting),
    });
    this.headers = requestHeaders(opts);
    subscribe('undici:client:sendHeaders', noteSocketUse);
  }

  /**
   * One request to a throwaway local endpoint before the clock starts, as the threads pool is
   * warmed: the first request through undici compiles its HTTP parser, and a comparison should
   * not charge that to one mode only. The user's server never sees it.
   */
  async init(): Promise<EngineInfo> {
    const t0 = now();
    const server = createServer((_req, res) => res.end('warm'));
    // The warm-up's connection also shows us undici's HTTP/1 parser, to teach it to skip a 100.
    subscribe('undici:client:connected', skipUnaskedContinue);
    try {
      await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => {
        this.agent.dispatch(
          { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET', headers: { connection: 'close' } },
          {
            onRequestStart() {},
            onResponseStart() {},
            onResponseData() {},
            onResponseEnd: () => resolve(),
            onResponseError: () => resolve(),
          },
        );
      });
    } catch {
      // Not warmed: the first request is a little slower, nothing else.
    } finally {
      unsubscribe('undici:client:connected', skipUnaskedContinue);
      server.closeAllConnections();
      server.close();
    }
    process.on('uncaughtException', this.net);
    process.on('unhandledRejection', this.net);
    return { startupMs: now() - t0, threads: 1 };
  }

  helperPids(): number[] {
    return [];
  }

  fetch(
    job: Job,
    signal: AbortSignal,
    onStart: (t: number, worker: number | null) => void,
    gate: HopGate | null = null,
  ): Promise<AttemptResult> {
    if (this.watching !== signal) {
      this.watching = signal;
      signal.addEventListener('abort', () => {
        for (const x of this.active) x.stop(fetchError('ABORTED'));
      });
    }
    const start = now();
    onStart(start, null);
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(noResponse(start, fetchError('ABORTED')));
      new Exchange(this, job, start, resolve, gate).hop(job.url, this.opts.method);
    });
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, url: URL): void {
    const proxy = proxyFor(url, this.opts.proxy);
    (proxy === null ? this.agent : this.proxyAgent(proxy)).dispatch(options, handler);
  }

  /**
   * The agent for one proxy: plain http is forwarded (absolute-form request line), https goes
   * through a CONNECT tunnel and is verified end to end as without a proxy. Its pools keep our
   * settings, undici's own per-phase timeouts off (the factory; the forwarding pool gets none).
   */
  private proxyAgent(uri: string): ProxyAgent {
    let agent = this.proxies.get(uri);
    if (agent) return agent;
    const ProxyAgentClass = loadProxyAgent();
    const PoolClass = loadUndici('pool', 'Pool');
    const base = this.agentOptions;
    const timeout = this.opts.timeoutMs;
    // The proxy's credential as every mode sends it (core/rules.ts): on the CONNECT and on forwarded requests.
    const token = proxyCredential(uri, this.opts) ?? undefined;
    agent = new ProxyAgentClass({
      ...base,
      uri,
      token,
      proxyTunnel: false,
      requestTls: this.tls,
      // The proxy itself: connecting, and answering a CONNECT, within the deadline.
      proxyTls: { timeout },
      clientFactory: (origin: URL, o: object): Pool => new PoolClass(origin, { ...o, headersTimeout: timeout } as Pool.Options),
      factory: (origin: string | URL, o: { connect?: unknown }): Pool =>
        new PoolClass(origin, { ...base, ...o, connect: tunnelOnce(o.connect) } as Pool.Options),
    } as ProxyAgent.Options);
    this.proxies.set(uri, agent);
    return agent;
  }

  /**
   * undici 7 can throw where nothing catches it (its parser's `assert(!this.paused)` as a socket
   * ends, undici issue 5360), which would end the run with no record for the URLs in flight and
   * no summary. While this engine runs, an error thrown from undici's code with requests in
   * flight fails those requests (REQUEST_FAILED, naming the internal error: their connections'
   * state is unknown) and the run goes on. Anything else is not the HTTP stack's: it ends the
   * process as it would have without this net.
   */
  private onStackFault(err: unknown): void {
    if (this.active.size === 0 || !fromUndici(err))
      return this.unwatch(() =>
        process.nextTick(() => {
          throw err;
        }),
      );
    const error = fetchError('REQUEST_FAILED', `internal HTTP-stack error (undici): ${oneLine(err)}`);
    for (const x of [...this.active]) x.fault(error);
  }

  private unwatch(then: () => void = () => {}): void {
    process.off('uncaughtException', this.net);
    process.off('unhandledRejection', this.net);
    then();
  }

  async close(): Promise<void> {
    this.unwatch();
    unsubscribe('undici:client:sendHeaders', noteSocketUse);
    for (const x of this.active) x.stop(fetchError('ABORTED'));
    await Promise.all([this.agent, ...this.proxies.values()].map((a) => a.destroy().catch(() => {})));
    for (const socket of this.connecting) socket.destroy();
  }
}

type Connector = (opts: object, callback: (err: Error | null, socket?: unknown) => void) => void;

/**
 * A proxy that hangs up on our CONNECT fails the tunnel with undici's UND_ERR_SOCKET, which its
 * pool takes for a passing socket error and connects again — a new CONNECT at once, over and
 * over, until our deadline. Renamed, it fails the request at once (SOCKET_CLOSED, as node:http).
 */
function tunnelOnce(connect: unknown): unknown {
  if (typeof connect !== 'function') return connect;
  const inner = connect as Connector;
  return ((opts, callback) =>
    inner(opts, (err, socket) => {
      if ((err as { code?: unknown } | null)?.code !== 'UND_ERR_SOCKET') return callback(err, socket);
      callback(Object.assign(new Error(`other side closed (the proxy, during CONNECT)`), { code: 'PROXY_CLOSED', cause: err }));
    })) satisfies Connector;
}

/** One URL, through its redirects: a dispatch handler per hop, one result at the end. */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private pending: Stop | null = null;
  private readonly timer: NodeJS.Timeout;
  private url: string;
  /** The first hop's URL and whether a redirect has left its origin: where credentials may go. */
  private first: URL | null = null;
  private left = false;
  private visited: Set<string> | null = null;
  private following = false;
  private method = 'GET';
  /** Whether this hop sends the body: until a redirect turns the method into GET. */
  private withBody: boolean;
  private status: number | null = null;
  private bytes = 0;
  private retryAfterMs: number | null = null;
  private out: WriteStream | null = null;
  private tmp: string | null = null;
  private done = false;
  /** The response is complete; only the file is still being written. */
  private ended = false;
  /** This hop's response head is in: a failure from here on keeps the status and bytes. */
  private headIn = false;
  /** This hop's request went on a connection that had carried one before (noteSocketUse), and any response byte came. */
  reused = false;
  private answered = false;
  /** Sends again after a reused connection died under this attempt (retryStale). */
  private staleRetries = 0;
  /** The last hop requested, its URL made into final_url only at the end (it costs a parse with a fragment). */
  private lastHop: URL | null = null;
  private redirects = 0;
  /** When the last response's head came (the shared clock), and its Content-Type. */
  private headAt: number | null = null;
  private contentType: string | null = null;
  /** --work: the body's SHA-256 as it arrives (the step then computes on it, on this thread). */
  private hash: Hash | null = null;

  constructor(
    private readonly engine: AsyncEngine,
    private readonly job: Job,
    private readonly start: number,
    private readonly resolve: (r: AttemptResult) => void,
    private readonly gate: HopGate | null,
  ) {
    this.url = job.url;
    this.withBody = engine.opts.body !== null;
    engine.active.add(this);
    const ms = engine.opts.timeoutMs;
    this.timer = setTimeout(() => this.stop(timeoutError(ms)), clampTimer(ms));
  }

  hop(url: string, method: string): void {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      this.finish(fetchError('BAD_REDIRECT', `unusable URL: ${url.slice(0, 80)}`));
      return;
    }
    this.url = url;
    this.method = method;
    this.first ??= u;
    this.left ||= u !== this.first && u.origin !== this.first.origin;
    // Anything this URL makes throw here is its own failure: it runs outside undici's handler
    // guards (straight from fetch()), where a throw would end the whole run.
    try {
      const hop = hopHeaders(this.engine.headers, this.first, u, this.left);
      const body = this.withBody ? this.engine.opts.body : null;
      const headers = withBodyType(hop, body);
      const options = { origin: u.origin, path: wirePath(u), method: method as Dispatcher.HttpMethod, headers, body: body?.bytes };
      this.lastHop = u;
      this.engine.dispatch(options, this, u);
    } catch (err) {
      this.fail(mapError(err));
    }
  }

  /** A redirect hop, once the rate gate has its tokens; a stop or the deadline while waiting ends the attempt (stop()). */
  private gatedHop(): void {
    if (this.done) return;
    const wait = this.gate?.tryTake(this.url) ?? 0;
    if (wait <= 0) return this.hop(this.url, this.method);
    setTimeout(() => this.gatedHop(), Math.ceil(wait));
  }

  /** The URL of the hop being sent. */
  get target(): string {
    return this.url;
  }

  /** The HTTP stack failed under this request (AsyncEngine.onStackFault): ended, even where undici can no longer abort it. */
  fault(error: FetchError): void {
    try {
      this.stop(error);
    } catch {}
    if (!this.done) this.fail(error);
  }

  /** End the request from our side: a deadline, a size limit, a stop. */
  stop(error: FetchError): void {
    if (this.done) return;
    const reason = new Stop(error);
    if (this.controller) return this.controller.abort(reason);
    // Not started: undici hands over no way to abort until onRequestStart, which comes only once
    // connected (a stalled TLS handshake: at its own connect timeout, later than ours). End the
    // attempt now; a late start is aborted at once and its callbacks find the attempt done.
    this.pending = reason;
    this.fail(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.headIn = false;
    this.answered = false;
    this.reused = false;
    if (this.pending) return controller.abort(this.pending);
    // undici writes this request's head next, in this same step, and tells noteSocketUse on which socket.
    writing = this;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.answered = true;
    // An interim 1xx: the final response follows (undici hands it here; node:http does not).
    if (statusCode >= 100 && statusCode < 200) return;
    // undici passes a status below 100 (099) that it then fails on: not HTTP, and no status.
    if (statusCode < 100) return controller.abort(new Stop(fetchError('PROTOCOL_ERROR')));
    this.status = statusCode;
    this.headIn = true;
    this.headAt = now();
    this.contentType = firstValue(headers['content-type']) ?? null;
    const opts = this.engine.opts;
    if (statusCode >= 300 && statusCode < 400 && opts.maxRedirects > 0) {
      this.visited ??= new Set([redirectKey(this.job.url)]);
      const step = redirectStep(statusCode, firstValue(headers.location), this.url, this.method, this.visited, opts.maxRedirects);
      if (step.kind === 'fail') return controller.abort(new Stop(step.error));
      if (step.kind === 'follow') {
        this.following = true;
        this.url = step.url;
        this.method = step.method;
        this.withBody &&= step.keepBody;
        return;
      }
    }
    this.following = false;
    this.retryAfterMs = parseRetryAfter(headers['retry-after'], Date.now());
    if (opts.work) this.hash = createHash('sha256');
    if (declaredTooLarge(this.method, statusCode, headers['content-length'], opts.maxSize)) {
      return controller.abort(new Stop(sizeError(opts.maxSize)));
    }
    if (opts.outputDir !== null && statusCode < 400) {
      this.tmp = tempPath(opts.outputDir, safeName(this.job.url), this.job.index);
      this.out = createWriteStream(this.tmp, { flags: 'wx', mode: PART_MODE });
      this.out.on('error', (err) => {
        const error = writeError(err.message);
        if (this.ended) this.fail(error);
        else controller.abort(new Stop(error));
      });
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.following) return; // a redirect's body is read and dropped, keeping the socket usable
    this.bytes += chunk.length;
    if (this.bytes > this.engine.opts.maxSize) {
      this.bytes = limitedBytes(this.bytes, this.engine.opts.maxSize);
      return controller.abort(new Stop(sizeError(this.engine.opts.maxSize)));
    }
    this.hash?.update(chunk);
    // Backpressure from the file is advisory: the stream queues what the disk has not taken yet,
    // bounded per request by --max-size (checked above). Pausing undici's parser is not safe on
    // undici 7: a peer that closes while it is paused (HTTP/1.0, a close-delimited body, any
    // `Connection: close`) trips `assert(!this.paused)` in Parser.finish, thrown from a socket
    // event where nothing can catch it (undici issue 5360, fixed only in undici 8, Node >= 22.19).
    this.out?.write(chunk);
  }

  onResponseEnd(): void {
    if (this.following) {
      this.following = false;
      this.controller = null;
      this.redirects++;
      this.gatedHop();
      return;
    }
    const error = statusError(this.status!);
    if (!this.out) return this.finish(error);
    const out = this.out;
    const tmp = this.tmp!;
    this.ended = true;
    out.end();
    out.once('finish', () => {
      const opts = this.engine.opts;
      let file: string;
      try {
        file = claimInto(opts.outputDir!, saveName(opts.saveClaims, this.job.url, this.job.index), this.job.index, tmp);
      } catch (err) {
        return this.fail(writeError((err as Error).message));
      }
      this.finish(error, file);
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (err instanceof Stop) return this.fail(err.error);
    // undici's forwarding proxy turns the proxy's 407 into an error before we see its head;
    // node:http hands over the response: a 407 is a status in every mode, as any other.
    if (!this.headIn && err.message === 'Proxy Authentication Required (407)') {
      this.status = 407;
      this.headAt = now();
      return this.finish(statusError(407));
    }
    if (this.retryStale(err)) return;
    if (!this.headIn) {
      const error = mapError(err);
      // undici's connect timeout is our deadline too (it is set to -t): the same wording as ours.
      return this.fail(error.code === 'TIMEOUT' ? timeoutError(this.engine.opts.timeoutMs) : error);
    }
    // A 204/304 that announced a length has no body to keep it: undici calls that a mismatch,
    // node:http (and curl) take the response as it is.
    if (!hasBody(this.method, this.status!) && (err as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      return this.onResponseEnd();
    }
    this.fail(bodyError(err));
  }

  /**
   * A kept-alive connection the server had closed, found dead as this request reused it, before
   * any response byte: an idempotent request goes once more on another connection, within this
   * attempt (not a --retries attempt), as the blocking modes (sync/http-hooks.ts markStale) and
   * curl do. Each dead connection leaves undici's pool, so this ends on a fresh one at the latest;
   * the body is bytes in memory, so it can be sent again.
   */
  private retryStale(err: Error): boolean {
    if (!this.reused || this.answered || !IDEMPOTENT_METHODS.has(this.method.toUpperCase())) return false;
    if (this.staleRetries > this.engine.connections || !deadConnection(err)) return false;
    this.staleRetries++;
    this.controller = null;
    // After undici has let go of the dead socket.
    setImmediate(() => {
      if (!this.done) this.hop(this.url, this.method);
    });
    return true;
  }

  private fail(error: FetchError): void {
    if (this.out) {
      // Removed once closed: a file still being opened would otherwise be created after the unlink.
      const tmp = this.tmp!;
      this.out.once('close', () => void unlink(tmp).catch(() => {}));
      this.out.destroy();
      this.out = null;
    }
    this.finish(error);
  }

  private finish(error: FetchError | null, file: string | null = null): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.engine.active.delete(this);
    // --work: the CPU-bound step, on the event loop as everything in this mode; it holds the loop.
    const work = this.engine.opts.work;
    if (work && error === null && this.hash) {
      void workOnLoop(work, this.hash.digest('hex')).then((workMs) => this.settle(error, file, workMs));
    } else this.settle(error, file, null);
  }

  private settle(error: FetchError | null, file: string | null, workMs: number | null): void {
    this.resolve({
      status: this.status,
      bytes: this.bytes,
      start: this.start,
      end: now(),
      worker: null,
      error,
      file,
      retryAfterMs: this.retryAfterMs,
      finalUrl: this.lastHop && requestedUrl(this.lastHop),
      redirects: this.redirects,
      ttfbMs: this.headAt === null ? null : this.headAt - this.start,
      contentType: this.contentType,
      workMs,
    });
  }
}

/** Requests written on each socket so far: one that carried a request before is a reused connection. */
const socketUse = new WeakMap<object, number>();
/** The exchange whose request undici is about to write (set in onRequestStart, taken by noteSocketUse). */
let writing: Exchange | null = null;

/**
 * undici's 'undici:client:sendHeaders' message, published as it writes a request's head, in the
 * same synchronous step as that request's onRequestStart (client-h1.js writeH1): so the exchange
 * learns whether its connection is a reused one. undici 7 tells a handler nothing of its socket.
 */
function noteSocketUse(message: unknown): void {
  const socket = (message as { socket?: object } | null)?.socket;
  if (!socket) return;
  const used = socketUse.get(socket) ?? 0;
  socketUse.set(socket, used + 1);
  if (writing) writing.reused = used > 0;
  if (FAULTS && writing?.target.includes('__stackfault__')) injectStackFault(socket);
  writing = null;
}

// Test hook, off unless the environment asks for it: an error thrown from undici's own socket
// handler, as its parser's assertion is (issue 5360), to prove the run still ends with a record
// for every URL and its summary.
const FAULTS = process.env.FETCHALL_FAULT_INJECTION === '1';

/** The socket's next 'readable' event throws inside undici (its parser's readMore, called from client-h1.js). */
function injectStackFault(socket: object): void {
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'parser');
  const parser = key && (socket as Record<symbol, { readMore?: () => void }>)[key];
  if (!parser) return;
  parser.readMore = () => {
    throw new AssertionError({ message: 'injected fault in the parser (FETCHALL_FAULT_INJECTION)' });
  };
}

/** Whether an error came from undici's code: a frame of its files in the stack. */
function fromUndici(err: unknown): boolean {
  const stack = (err as { stack?: unknown } | null)?.stack;
  return typeof stack === 'string' && /[\\/]undici[\\/]lib[\\/]/.test(stack);
}

/** 'AssertionError: message', on one line. */
function oneLine(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  const text = typeof e?.message === 'string' ? `${typeof e.name === 'string' ? e.name : 'Error'}: ${e.message}` : String(err);
  return text.split('\n')[0]!.slice(0, 200);
}

/** How undici (and the system) say a connection died: the peer closed or reset it. */
function deadConnection(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE' || /other side closed/.test(err.message);
}

let continuePatched = false;

/**
 * RFC 9110 §15.2: a client must parse and skip any 1xx before the final response, even one it
 * did not ask for. undici skips them all but 100 Continue, which it takes for a broken reply
 * when it sent no `Expect` (node:http and curl skip it). Its parser is internal, so it is reached
 * through the socket undici's diagnostics channel hands us; should that change, the patch is
 * skipped and an unasked 100 stays a failure in async mode.
 */
function skipUnaskedContinue(message: unknown): void {
  if (continuePatched) return;
  const socket = (message as { socket?: object } | null)?.socket;
  if (!socket) return;
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'parser');
  const parser = key && (socket as Record<symbol, unknown>)[key];
  if (!parser || typeof parser !== 'object') return;
  type Parser = { statusCode: number; headers: unknown[]; headersSize: number; socket: { destroyed: boolean } };
  const proto = Object.getPrototypeOf(parser) as { onHeadersComplete?: (this: Parser, ...a: [number, boolean, boolean]) => number };
  const original = proto.onHeadersComplete;
  if (typeof original !== 'function' || original.length !== 3) return;
  continuePatched = true;
  proto.onHeadersComplete = function (statusCode, upgrade, keepAlive) {
    if (statusCode !== 100 || upgrade || this.socket.destroyed) return original.call(this, statusCode, upgrade, keepAlive);
    // What undici does for any other 1xx: no body; the final response follows on this socket.
    this.statusCode = statusCode;
    this.headers = [];
    this.headersSize = 0;
    return 1;
  };
}

/**
 * The request target as sync-request (Node's url module) sends it, so every mode sends the same
 * bytes: WHATWG leaves { } | ^ ` unescaped in a query, Node's url module escapes them.
 */
function wirePath(u: URL): string {
  const path = u.pathname + u.search;
  return /[{}|^`]/.test(path) ? path.replace(/[{}|^`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : path;
}
