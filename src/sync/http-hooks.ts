// The relay thread's HTTP, as sync-request's worker (then-request, http-basic) does it through
// node:http: every response body is consumed here (counted, limited, streamed to its file), so no
// body is buffered, encoded or handed back; requests are routed through a proxy and given their
// TLS options; and the private headers from the client are taken off before anything is sent.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync, unlink, type WriteStream } from 'node:fs';
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { clampTimer } from '../core/clock.js';
import { fetchError, proxyRefused, sizeError, writeError } from '../core/errors.js';
import { bodyError, declaredTooLarge, IDEMPOTENT_METHODS, limitedBytes, trustedCAs } from '../core/rules.js';
import type { FetchError } from '../core/types.js';
import { PART_MODE } from '../tempfiles.js';
import { type BodyReport, PRIVATE, type TlsSpec } from './protocol.js';

/** --max-size, enforced where the body is (set once by installHooks). */
let maxSize = Infinity;

type Callback = (res: IncomingMessage) => void;

/**
 * sync-request (through then-request and http-basic) would buffer a whole body here, encode it
 * as base64 inside JSON and send it back, and the client would copy it again on each hop: about
 * 15 copies per body. Instead the body is read here as it arrives — counted, limited, streamed
 * to its file — and sync-request gets an empty body with a {@link BodyReport} header. So a
 * body costs a chunk or two in flight, wherever it goes, and a cut body (reset, size limit,
 * deadline) still reports its status and the bytes that came, as undici does.
 *
 * One response body read here: counted, cut at the limit or the deadline, streamed to its file,
 * hashed when --work asks, then reported.
 */
class BodyConsumer {
  /** The head is in now: the consumer is made in node:http's response event. */
  private readonly headAt = performance.now();
  private bytes = 0;
  private error: FetchError | null = null;
  private out: WriteStream | null = null;
  private settled = false;
  private ending = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly hash: Hash | null;

  constructor(
    private readonly req: ClientRequest,
    private readonly res: IncomingMessage,
    private readonly save: string | null,
    digest: boolean,
    private readonly callback: Callback,
  ) {
    this.hash = digest ? createHash('sha256') : null;
  }

  start(deadline: number): void {
    const { req, res } = this;
    if (Number.isFinite(deadline)) {
      this.timer = setTimeout(
        () => this.finish(fetchError('TIMEOUT', 'deadline passed during the body')),
        clampTimer(deadline - Date.now()),
      );
    }
    // Once the head is in, http-basic would take a later socket error for a failed request and
    // lose the status and the bytes: the body's outcome is decided here instead. An error after a
    // complete response (stray bytes after a 204) is the next response's, and there is none.
    req.removeAllListeners('error');
    req.on('error', (err) => {
      if (!res.complete) this.finish(bodyError(err));
    });
    const status = res.statusCode ?? 0;
    if (declaredTooLarge(req.method, status, res.headers['content-length'], maxSize)) return this.finish(sizeError(maxSize));
    if (this.save && status < 400) this.open(this.save);
    res.on('data', (chunk: Buffer) => this.data(chunk));
    res.on('end', () => this.finish(null));
    res.on('error', (err) => this.finish(bodyError(err)));
    // Node reports a body cut short ('aborted', a premature close) on some versions only by closing.
    res.on('close', () => {
      if (!res.complete) this.finish(fetchError('SOCKET_CLOSED'));
    });
  }

  private open(path: string): void {
    this.out = createWriteStream(path, { flags: 'wx', mode: PART_MODE });
    this.out.on('error', (err) => {
      const failed = writeError(err.message);
      // Failing while the last bytes are flushed: the close that follows reports it.
      if (this.ending) this.error ??= failed;
      else this.finish(failed);
    });
  }

  private data(chunk: Buffer): void {
    if (this.error) return;
    this.bytes += chunk.length;
    if (this.bytes > maxSize) {
      this.bytes = limitedBytes(this.bytes, maxSize);
      return this.finish(sizeError(maxSize));
    }
    this.hash?.update(chunk);
    if (this.out && !this.out.write(chunk)) {
      this.res.pause();
      this.out.once('drain', () => this.res.resume());
    }
  }

  /** The reply waits for the file to be closed (and, on failure, removed), so the client never renames or removes a file this process still writes. */
  private finish(err: FetchError | null): void {
    if (this.ending) return;
    this.ending = true;
    this.error = err;
    if (err) this.res.pause();
    const file = this.out;
    if (!file) return this.settle();
    file.once('close', () => (this.error && this.save ? unlink(this.save, () => this.settle()) : this.settle()));
    if (err) file.destroy();
    else file.end();
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    const { res, error } = this;
    res.removeAllListeners('data');
    if (error) res.destroy();
    const report: BodyReport = {
      bytes: this.bytes,
      saved: this.out !== null && error === null,
      error,
      sinceHeadMs: performance.now() - this.headAt,
    };
    if (this.hash && !error) report.sha256 = this.hash.digest('hex');
    const empty = new PassThrough();
    empty.end();
    const headers = { ...res.headers, [PRIVATE.body]: JSON.stringify(report) };
    this.callback(Object.assign(empty, { statusCode: res.statusCode, headers }) as unknown as IncomingMessage);
  }
}

/** Take (and remove, so they are never sent) the private request headers. */
function takePrivate(headers: OutgoingHttpHeaders | undefined): {
  save: string | null;
  deadline: number;
  proxy: string | null;
  tls: TlsSpec | null;
  bodyFile: string | null;
  digest: boolean;
} {
  const digest = headers?.[PRIVATE.digest] === '1';
  if (headers) delete headers[PRIVATE.digest];
  const save = headers?.[PRIVATE.save];
  const bodyFile = headers?.[PRIVATE.bodyFile];
  const deadline = Number(headers?.[PRIVATE.deadline]);
  const proxy = headers?.[PRIVATE.proxy];
  const tlsSpec = headers?.[PRIVATE.tls];
  if (headers) {
    delete headers[PRIVATE.save];
    delete headers[PRIVATE.deadline];
    delete headers[PRIVATE.proxy];
    delete headers[PRIVATE.tls];
    delete headers[PRIVATE.bodyFile];
  }
  return {
    save: typeof save === 'string' ? decodeURIComponent(save) : null,
    deadline: deadline > 0 ? deadline : Infinity,
    proxy: typeof proxy === 'string' ? proxy : null,
    tls: typeof tlsSpec === 'string' ? (JSON.parse(decodeURIComponent(tlsSpec)) as TlsSpec) : null,
    bodyFile: typeof bodyFile === 'string' ? decodeURIComponent(bodyFile) : null,
    digest,
  };
}

/** A body from its file: its length in place of then-request's 0 (it was handed no body). */
function fileLength(headers: OutgoingHttpHeaders | undefined, file: string): void {
  if (!headers) return;
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-length') delete headers[k];
  headers['content-length'] = String(statSync(file).size);
}

/** Stream the file where http-basic ends the request (pipe ends it when the file is done). */
function streamFile(req: ClientRequest, file: string): void {
  const end = req.end;
  req.end = function (this: ClientRequest) {
    req.end = end;
    const source = createReadStream(file);
    source.once('error', (err) => req.destroy(err));
    source.pipe(req);
    return req;
  } as typeof req.end;
}

/** http-basic's request options, as it passes them to http.request / https.request. */
interface RequestArgs {
  host?: string;
  port?: number;
  path?: string;
  headers?: OutgoingHttpHeaders;
  agent?: unknown;
  createConnection?: unknown;
  rejectUnauthorized?: boolean;
  ca?: string[];
}

// Taken before they are wrapped below: the CONNECT to a proxy is ours, not a request to consume.
const plainRequest = http.request;

/** --cacert bundles by path, read once, with the CAs trusted by default (core/rules.ts trustedCAs). */
const bundles = new Map<string, string[]>();
function tlsOptions(spec: TlsSpec | null): { rejectUnauthorized: boolean; ca?: string[] } {
  if (!spec) return { rejectUnauthorized: true };
  const out: { rejectUnauthorized: boolean; ca?: string[] } = { rejectUnauthorized: !spec.insecure };
  if (spec.cacert !== null) {
    let ca = bundles.get(spec.cacert);
    if (!ca) {
      ca = trustedCAs(spec.cacert);
      bundles.set(spec.cacert, ca);
    }
    out.ca = ca;
  }
  return out;
}

/**
 * Send one request as the client asked, through a proxy if it named one, and with its -k and
 * --cacert: plain http goes to the proxy with the absolute URL as its target; https goes through
 * a CONNECT tunnel, with TLS to the server over it, verified as without a proxy. Returns what
 * stops a tunnel still being opened, for a request that ends first: a request with no socket
 * yet neither closes nor fails when destroyed, so its deadline's error is handed over here.
 */
function route(options: RequestArgs, secure: boolean, proxyUrl: string | null, spec: TlsSpec | null): (err?: Error) => void {
  const trust = tlsOptions(spec);
  if (secure) Object.assign(options, trust);
  options.headers ??= {};
  const headers = options.headers;
  // The proxy's credential (engines/blocking.ts sends it as a header): never for an origin, so it
  // is taken off here and goes only where the proxy reads it, the CONNECT or the forwarded request.
  const given = Object.keys(headers).filter((k) => k.toLowerCase() === 'proxy-authorization');
  const sent = given.length > 0 ? String(headers[given[0]!]) : null;
  for (const k of given) delete headers[k];
  if (!proxyUrl) return () => {};
  const proxy = new URL(proxyUrl);
  const host = options.host ?? 'localhost';
  const authority = `${net.isIPv6(host) ? `[${host}]` : host}${options.port ? `:${options.port}` : ''}`;
  const auth =
    sent ??
    (proxy.username || proxy.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`
      : null);
  const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(proxy.port) || 80;
  if (!secure) {
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) headers.host = authority;
    if (auth) headers['proxy-authorization'] = auth;
    options.path = `http://${authority}${options.path ?? '/'}`;
    options.host = proxyHost;
    options.port = proxyPort;
    return () => {};
  }
  let tunnel: ClientRequest | null = null;
  let open = false;
  let created: ((err: Error | null, socket?: net.Socket) => void) | null = null;
  options.agent = undefined;
  options.createConnection = (_o: unknown, oncreate: (err: Error | null, socket?: net.Socket) => void) => {
    created = oncreate;
    const target = `${authority}${options.port ? '' : ':443'}`;
    tunnel = plainRequest({
      host: proxyHost,
      port: proxyPort,
      method: 'CONNECT',
      path: target,
      headers: auth ? { host: target, 'proxy-authorization': auth } : { host: target },
      agent: false,
    });
    tunnel.once('connect', (res: IncomingMessage, socket: net.Socket, head: Buffer) => {
      open = true;
      if (res.statusCode !== 200) {
        socket.destroy();
        const refused = proxyRefused(res.statusCode ?? 0);
        return oncreate(Object.assign(new Error(refused.message), { code: refused.code }));
      }
      if (head.length > 0) socket.unshift(head);
      oncreate(null, tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host, ...trust }));
    });
    tunnel.once('error', (err) => oncreate(err));
    tunnel.end();
    return undefined;
  };
  return (err) => {
    if (open) return;
    tunnel?.destroy();
    // Node calls it once: the tunnel's own error that follows is dropped.
    if (err) created?.(err);
  };
}

let installed = false;

/**
 * http-basic calls http.request / https.request with (options, callback) and hands the response
 * given to that callback to then-request: take it over there. Patches this thread's node:http
 * only (each thread has its own modules): the relay thread's.
 */
export function installHooks(limit: number): void {
  maxSize = limit > 0 ? limit : Infinity;
  if (installed) return;
  installed = true;
  for (const mod of [http, https]) hook(mod);
}

function hook(mod: typeof http | typeof https): void {
  const original = mod.request;
  (mod as { request: unknown }).request = function (this: unknown, ...args: unknown[]) {
    const at = args.findIndex((a) => typeof a === 'function');
    if (at < 0) return (original as (...a: unknown[]) => ClientRequest).apply(this, args);
    const options = args.find((a) => a !== null && typeof a === 'object' && !(a instanceof URL)) as RequestArgs | undefined;
    const { save, deadline, proxy, tls: tlsSpec, bodyFile, digest } = takePrivate(options?.headers);
    if (bodyFile !== null) fileLength(options?.headers, bodyFile);
    const unroute = options ? route(options, mod === https, proxy, tlsSpec) : (_err?: Error) => {};
    const callback = args[at] as Callback;
    let waiting: NodeJS.Timeout | undefined;
    args[at] = (res: IncomingMessage) => {
      clearTimeout(waiting);
      new BodyConsumer(req, res, save, digest, callback).start(deadline);
    };
    const req = (original as (...a: unknown[]) => ClientRequest).apply(this, args);
    markStale(req);
    if (bodyFile !== null) streamFile(req, bodyFile);
    req.once('close', () => unroute());
    // Until the headers come: no status to report, the request just fails with TIMEOUT.
    if (Number.isFinite(deadline)) {
      waiting = setTimeout(
        () => {
          const err = Object.assign(new Error('deadline passed before the response'), { code: 'TIMEOUT' });
          unroute(err);
          req.destroy(err);
        },
        clampTimer(deadline - Date.now()),
      );
      req.once('close', () => clearTimeout(waiting));
    }
    return req;
  };
}

/**
 * A kept-alive connection the server closed just as we reused it dies before any response byte:
 * marked stale, so the client sends an idempotent request again once on a fresh connection, as
 * curl does ("Connection died, retrying a fresh connect").
 */
function markStale(req: ClientRequest): void {
  req.prependListener('error', (err: NodeJS.ErrnoException) => {
    if (!req.reusedSocket || !IDEMPOTENT_METHODS.has(req.method)) return;
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || /socket hang up/.test(err.message)) {
      Object.assign(err, { stale: true });
    }
  });
}
