// Every error fetchall names: a record's stable codes with their meaning, the one mapping from any
// client's error to them, and the run's own (a usage error, a fatal one).

import type { FetchError } from './types.js';

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

/** A mistake by the user: printed as one line, never with a stack trace. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Something outside the user's control stopped the run (e.g. the pool could not start): one line, exit 1. */
export class FatalError extends Error {
  readonly exitCode = 1;
}
