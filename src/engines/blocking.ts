// One attempt at one URL for both blocking engines (threads, inline): the redirect, size and save
// rules around sync-request's hops, the same rules the async engine follows.

import { fetchError, mapError, timeoutError } from '../core/errors.js';
import {
  firstValue,
  hopHeaders,
  parseRetryAfter,
  proxyFor,
  redirectKey,
  redirectStep,
  requestedUrl,
  requestHeaders,
  statusError,
  withBodyType,
  withoutCredentials,
} from '../core/rules.js';
import type { AttemptResult, FetchError, Job, RequestOptions } from '../core/types.js';
import { now } from '../measure/clock.js';
import { isHelperFailure, type SyncRequest, syncHop } from '../sync/client.js';
import { commitSync, discardSync, safeName, tempPath } from './save.js';

/** One attempt at one URL with sync-request: blocks the calling thread until it is over. */
export function syncFetch(
  request: SyncRequest,
  job: Job,
  opts: RequestOptions,
  worker: number | null,
  onStart: (t: number) => void,
): AttemptResult {
  const start = now();
  onStart(start);
  const until = Date.now() + opts.timeoutMs;
  // The helper streams the body straight here; it is renamed into place only if all went well.
  const tmp = opts.outputDir !== null ? tempPath(opts.outputDir, safeName(job.url), job.index) : null;
  let status: number | null = null;
  let bytes = 0;
  let file: string | null = null;
  let retryAfterMs: number | null = null;
  let error: FetchError | null = null;
  let lastHop: URL | null = null;
  let redirects = 0;
  let headAt: number | null = null;
  let contentType: string | null = null;
  const headers = requestHeaders(opts);
  try {
    // Send what async sends: the WHATWG-normalised URL (percent-encoded, dot segments resolved,
    // no fragment), so a comparison differs only in the concurrency model.
    const first = new URL(redirectKey(job.url));
    let url = first.href;
    let method = opts.method;
    // The body goes on each hop until a redirect turns the method into GET (core/rules.ts redirectStep).
    let withBody = opts.body !== null;
    const tls = opts.insecure || opts.cacert !== null ? { insecure: opts.insecure, cacert: opts.cacert } : null;
    let left = false;
    const visited = new Set([url]);
    for (;;) {
      if (until - Date.now() <= 0) throw Object.assign(new Error('deadline'), { code: 'TIMEOUT' });
      const hop = url === first.href ? first : new URL(url);
      left ||= hop.origin !== first.origin;
      // URL credentials go as hopHeaders decides, never through sync-request (it would send them
      // to any origin, and throws on userinfo that is not valid percent-encoding).
      lastHop = hop;
      const sent = withBody ? opts.body : null;
      const send = { body: sent?.bytes ?? null, proxy: proxyFor(hop, opts.proxy), tls: hop.protocol === 'https:' ? tls : null };
      const res = syncHop(
        request,
        method,
        withoutCredentials(hop),
        withBodyType(hopHeaders(headers, first, hop, left), sent),
        until,
        tmp,
        send,
      );
      const back = now();
      const body = res.body;
      // node:http passes a status below 100 (099) that undici rejects: not HTTP, in every mode.
      if (res.status < 100) throw Object.assign(new Error('Parse Error: invalid status'), { code: 'HPE_INVALID_STATUS' });
      status = res.status;
      // The helper's clock is not ours: it says how long ago the head came, counted back from the
      // reply's arrival here. Late by the reply's trip back through the relay (well under 1 ms on
      // an idle machine), as async's time is late by its event loop's turn.
      headAt = back - Math.max(0, Math.min(body.sinceHeadMs ?? 0, back - start));
      contentType = firstValue(res.headers['content-type']) ?? null;
      const step = redirectStep(status, firstValue(res.headers.location), url, method, visited, opts.maxRedirects);
      if (step.kind === 'follow' && !body.error) {
        if (tmp) discardSync(tmp);
        url = step.url;
        method = step.method;
        redirects++;
        withBody &&= step.keepBody;
        continue;
      }
      if (step.kind === 'fail') {
        error = step.error;
        break;
      }
      bytes = step.kind === 'follow' ? 0 : body.bytes;
      retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
      error = body.error ? helperError(body.error, opts) : statusError(status);
      if (tmp && body.saved && !error) file = commitSync(opts.outputDir!, job.url, job.index, tmp, opts.saveClaims);
      break;
    }
  } catch (err) {
    error = thrownError(err, opts);
  } finally {
    if (tmp && file === null) discardSync(tmp);
  }
  const ttfbMs = headAt === null ? null : headAt - start;
  return {
    status,
    bytes,
    start,
    end: now(),
    worker,
    error,
    file,
    retryAfterMs,
    finalUrl: lastHop && requestedUrl(lastHop),
    redirects,
    ttfbMs,
    contentType,
  };
}

/** A hop that threw: its helper gone, a deadline, or the client's own error. */
function thrownError(err: unknown, opts: RequestOptions): FetchError {
  const code = (err as { code?: unknown }).code;
  const message = String((err as Error).message ?? err);
  if (isHelperFailure(err)) return fetchError('HELPER_FAILED');
  if (code === 'TIMEOUT' || /timed? ?out|ETIMEDOUT|ESOCKETTIMEDOUT/i.test(`${String(code)} ${message}`)) {
    return timeoutError(opts.timeoutMs);
  }
  return mapError(err);
}

/** The helper's error for a cut body, worded as the async engine words it. */
function helperError(error: FetchError, opts: RequestOptions): FetchError {
  if (error.code === 'TIMEOUT') return timeoutError(opts.timeoutMs);
  return error;
}
