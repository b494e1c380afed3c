// When a failed attempt is tried again, and after how long: the retry rules in one place.

import type { AttemptResult, FetchError } from '../core/types.js';

/** Failures a later attempt may not repeat: the network's, not the request's. */
const RETRYABLE_CODES = new Set([
  'TIMEOUT',
  'SOCKET_CLOSED',
  'PROTOCOL_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'REQUEST_FAILED',
]);

/** 429 and 5xx, or a network failure; never another 4xx, which would only fail again. */
export function retryable(r: AttemptResult): boolean {
  if (r.status !== null && (r.status === 429 || r.status >= 500) && r.error?.code === 'HTTP_STATUS') return true;
  return r.error !== null && RETRYABLE_CODES.has(r.error.code);
}

/**
 * The wait before the next attempt: exponential backoff with jitter (100 ms, 200 ms, 400 ms …, at
 * most 10 s and at most `maxWaitMs`), or the server's Retry-After when longer. null when the
 * server asks for longer than `maxWaitMs`: the URL fails now rather than stalling the run.
 */
export function backoffMs(attempt: number, retryAfterMs: number | null, maxWaitMs: number, random = Math.random): number | null {
  const base = Math.min(10_000, 100 * 2 ** (attempt - 1));
  const jittered = Math.min(maxWaitMs, base / 2 + random() * (base / 2));
  if (retryAfterMs === null) return jittered;
  return retryAfterMs > maxWaitMs ? null : Math.max(jittered, retryAfterMs);
}

/** The error of a URL failed at once because its Retry-After was longer than --retry-max-wait. */
export function refusedError(error: FetchError, retryAfterMs: number, maxWaitMs: number): FetchError {
  const why = `the server asked to wait (Retry-After ${waitText(retryAfterMs)}), longer than --retry-max-wait ${waitText(maxWaitMs)}`;
  return { code: error.code, message: `${error.message}: ${why}` };
}

/** '500 ms', '10 s', '1.5 s': for a reason in a record. */
function waitText(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}
