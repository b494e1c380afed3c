// One attempt at one URL for the blocking engines (threads, processes, inline): the redirect, size and save
// rules around sync-request's hops, the same rules the async engine follows.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { now } from '../core/clock.js';
import { mapError, timeoutError } from '../core/errors.js';
import {
  firstValue,
  hopHeaders,
  parseRetryAfter,
  proxyCredential,
  proxyFor,
  redirectKey,
  redirectStep,
  requestedUrl,
  requestHeaders,
  statusError,
  withBodyType,
  withoutCredentials,
} from '../core/rules.js';
import type { AttemptResult, FetchError, HopGate, Job, RequestOptions } from '../core/types.js';
import { isStale, type SyncRequest, syncHop } from '../sync/client.js';
import { forgetPrivateDir, watchPrivateDir } from '../tempfiles.js';
import { commitSync, discardSync, safeName, tempPath } from './save.js';
import { doWork } from './work.js';

/**
 * The options with the body spooled to a temp file, which the relay streams (RequestBody.file):
 * sync-request would copy it to the relay with every hop.
 */
export async function spoolBody(opts: RequestOptions): Promise<RequestOptions> {
  if (opts.body === null || opts.body.file !== undefined) return opts;
  const dir = await mkdtemp(join(tmpdir(), 'fetchall-body-'));
  watchPrivateDir(dir);
  const file = join(dir, 'body');
  await writeFile(file, opts.body.bytes, { mode: 0o600 });
  return { ...opts, body: { bytes: new Uint8Array(0), contentType: opts.body.contentType, file } };
}

/** Remove what spoolBody made. */
export async function unspoolBody(opts: RequestOptions): Promise<void> {
  if (opts.body?.file === undefined) return;
  await rm(dirname(opts.body.file), { recursive: true, force: true });
  forgetPrivateDir(dirname(opts.body.file));
}

/** One attempt at one URL with sync-request: blocks the calling thread until it is over. */
export function syncFetch(
  request: SyncRequest,
  job: Job,
  opts: RequestOptions,
  worker: number | null,
  onStart: (t: number) => void,
  beforeHop: HopWait | null = null,
): AttemptResult {
  const start = now();
  onStart(start);
  return new BlockingAttempt(request, job, opts, worker, start, beforeHop).run();
}

/**
 * Blocks until the rate gate lets a redirect hop to `url` go, or `untilMs` (Date.now() time)
 * passes; the deadline check before the hop then fails it (see types.ts HopGate).
 */
export type HopWait = (url: string, untilMs: number) => void;

/** A HopWait for a thread holding the gate itself (inline: the main thread, blocked anyway). */
export function blockingHopWait(gate: HopGate): HopWait {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return (url, untilMs) => {
    for (let wait = gate.tryTake(url); wait > 0; wait = gate.tryTake(url)) {
      const left = untilMs - Date.now();
      if (left <= 0) return;
      Atomics.wait(cell, 0, 0, Math.ceil(Math.min(wait, left)));
    }
  };
}

type Hop = ReturnType<typeof syncHop>;

/** The state of one attempt through its redirects: what the record will say, hop by hop. */
class BlockingAttempt {
  private readonly until: number;
  /** The relay streams the body straight here; it is renamed into place only if all went well. */
  private readonly tmp: string | null;
  private readonly headers: Record<string, string>;
  private readonly tls: { insecure: boolean; cacert: string | null } | null;
  /** Sent as async sends it: the WHATWG-normalised URL (percent-encoded, dot segments resolved, no fragment). */
  private readonly first: URL;
  private readonly visited: Set<string>;
  private url: string;
  private method: string;
  /** The body goes on each hop until a redirect turns the method into GET (core/rules.ts redirectStep). */
  private withBody: boolean;
  private left = false;
  private status: number | null = null;
  private bytes = 0;
  private file: string | null = null;
  private retryAfterMs: number | null = null;
  private error: FetchError | null = null;
  private lastHop: URL | null = null;
  private redirects = 0;
  private headAt: number | null = null;
  private contentType: string | null = null;
  /** The last body's SHA-256, when --work needs it. */
  private digest: string | null = null;
  private workMs: number | null = null;

  constructor(
    private readonly request: SyncRequest,
    private readonly job: Job,
    private readonly opts: RequestOptions,
    private readonly worker: number | null,
    private readonly start: number,
    private readonly beforeHop: HopWait | null,
  ) {
    this.until = Date.now() + opts.timeoutMs;
    this.tmp = opts.outputDir !== null ? tempPath(opts.outputDir, safeName(job.url), job.index) : null;
    this.headers = requestHeaders(opts);
    this.tls = opts.insecure || opts.cacert !== null ? { insecure: opts.insecure, cacert: opts.cacert } : null;
    this.first = new URL(redirectKey(job.url));
    this.url = this.first.href;
    this.visited = new Set([this.url]);
    this.method = opts.method;
    this.withBody = opts.body !== null;
  }

  run(): AttemptResult {
    try {
      while (this.step(this.send())) {}
    } catch (err) {
      this.error = thrownError(err, this.opts);
    } finally {
      if (this.tmp && this.file === null) discardSync(this.tmp);
    }
    // --work: the CPU-bound step, here in the thread (or process) that ran the request.
    if (this.opts.work && this.error === null && this.digest !== null) this.workMs = doWork(this.opts.work, this.digest);
    return this.result();
  }

  /** One hop through the relay. URL credentials go as hopHeaders decides, never through sync-request (it would send them to any origin, and throws on userinfo that is not valid percent-encoding). */
  private send(): Hop {
    if (this.until - Date.now() <= 0) throw Object.assign(new Error('deadline'), { code: 'TIMEOUT' });
    const hop = this.url === this.first.href ? this.first : new URL(this.url);
    this.left ||= hop.origin !== this.first.origin;
    this.lastHop = hop;
    const sent = this.withBody ? this.opts.body : null;
    const body = sent ? (sent.file !== undefined ? { file: sent.file } : sent.bytes) : null;
    const proxy = proxyFor(hop, this.opts.proxy);
    const send = { body, proxy, tls: hop.protocol === 'https:' ? this.tls : null, digest: Boolean(this.opts.work) };
    const headers = withProxyCredential(withBodyType(hopHeaders(this.headers, this.first, hop, this.left), sent), proxy, this.opts);
    const once = () => syncHop(this.request, this.method, withoutCredentials(hop), headers, this.until, this.tmp, send);
    let res: Hop;
    try {
      res = once();
    } catch (err) {
      // A kept-alive connection the server had closed: once more on a fresh one, within this attempt.
      if (!isStale(err)) throw err;
      res = once();
    }
    // node:http passes a status below 100 (099) that undici rejects: not HTTP, in every mode.
    if (res.status < 100) throw Object.assign(new Error('Parse Error: invalid status'), { code: 'HPE_INVALID_STATUS' });
    this.noteHead(res, now());
    return res;
  }

  /**
   * Status, content type and when the head came. The relay thread times the head: it says how long
   * ago the head came, counted back from the reply's arrival here. Late by the reply's trip back
   * through the relay (well under 1 ms on an idle machine), as async's time is late by its loop's turn.
   */
  private noteHead(res: Hop, back: number): void {
    this.status = res.status;
    this.headAt = back - Math.max(0, Math.min(res.body.sinceHeadMs ?? 0, back - this.start));
    this.contentType = firstValue(res.headers['content-type']) ?? null;
  }

  /** What the response means: true to follow a redirect, false when the attempt is over. */
  private step(res: Hop): boolean {
    const { body } = res;
    const step = redirectStep(res.status, firstValue(res.headers.location), this.url, this.method, this.visited, this.opts.maxRedirects);
    if (step.kind === 'follow' && !body.error) {
      if (this.tmp) discardSync(this.tmp);
      this.url = step.url;
      this.method = step.method;
      this.redirects++;
      this.withBody &&= step.keepBody;
      this.beforeHop?.(this.url, this.until);
      return true;
    }
    if (step.kind === 'fail') {
      this.error = step.error;
      return false;
    }
    this.bytes = step.kind === 'follow' ? 0 : body.bytes;
    this.digest = body.sha256 ?? null;
    this.retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
    this.error = body.error ? cutError(body.error, this.opts) : statusError(res.status);
    if (this.tmp && body.saved && !this.error) {
      this.file = commitSync(this.opts.outputDir!, this.job.url, this.job.index, this.tmp, this.opts.saveClaims);
    }
    return false;
  }

  private result(): AttemptResult {
    return {
      status: this.status,
      bytes: this.bytes,
      start: this.start,
      end: now(),
      worker: this.worker,
      error: this.error,
      file: this.file,
      retryAfterMs: this.retryAfterMs,
      finalUrl: this.lastHop && requestedUrl(this.lastHop),
      redirects: this.redirects,
      ttfbMs: this.headAt === null ? null : this.headAt - this.start,
      contentType: this.contentType,
      workMs: this.workMs,
    };
  }
}

/**
 * The hop's headers with the proxy's credential, which the relay's hooks move to where the proxy
 * reads it (sync/http-hooks.ts route(): the CONNECT for https, the forwarded request for plain http).
 */
function withProxyCredential(headers: Record<string, string>, proxy: string | null, opts: RequestOptions): Record<string, string> {
  const credential = proxy === null ? null : proxyCredential(proxy, opts);
  return credential === null ? headers : { ...headers, 'proxy-authorization': credential };
}

/** A hop that threw: a deadline, or the client's own error. */
function thrownError(err: unknown, opts: RequestOptions): FetchError {
  const code = (err as { code?: unknown }).code;
  const message = String((err as Error).message ?? err);
  if (code === 'TIMEOUT' || /timed? ?out|ETIMEDOUT|ESOCKETTIMEDOUT/i.test(`${String(code)} ${message}`)) {
    return timeoutError(opts.timeoutMs);
  }
  return mapError(err);
}

/** The relay hooks' error for a cut body, worded as the async engine words it. */
function cutError(error: FetchError, opts: RequestOptions): FetchError {
  if (error.code === 'TIMEOUT') return timeoutError(opts.timeoutMs);
  return error;
}
