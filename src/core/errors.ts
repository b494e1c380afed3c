// Every error fetchall names: a record's stable codes with their meaning, the one mapping from any
// client's error to them, and the run's own (a usage error, a fatal one).

import type { FetchError } from './types.js';

/**
 * The stable error codes a record's `error.code` can carry (besides system codes such as
 * ECONNREFUSED, ECONNRESET, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, which pass through): what each
 * means, and the message a record gets when nothing more specific is known.
 */
export const ERROR_CODES = {
  TIMEOUT: { meaning: 'the whole request overran --timeout', message: 'no complete response within the timeout' },
  HTTP_STATUS: { meaning: 'the server answered with a status of 400 or more', message: 'error status' },
  SIZE_LIMIT: { meaning: 'the body exceeded --max-size', message: 'body larger than --max-size' },
  TOO_MANY_REDIRECTS: { meaning: 'more redirects than --max-redirects', message: 'too many redirects' },
  REDIRECT_LOOP: { meaning: 'a redirect led back to a URL already visited', message: 'redirect loop' },
  BAD_REDIRECT: { meaning: 'a redirect with a missing or unusable Location', message: 'unusable redirect' },
  PROTOCOL_ERROR: { meaning: 'the reply was not valid HTTP', message: 'reply is not valid HTTP' },
  TLS_FAILED: { meaning: 'the TLS handshake failed (e.g. https to a plain-HTTP port)', message: 'TLS handshake failed' },
  PROXY_FAILED: { meaning: 'the proxy refused to open a tunnel (CONNECT) to an https URL', message: 'the proxy refused the tunnel' },
  SOCKET_CLOSED: {
    meaning: 'the connection closed before the response was complete',
    message: 'connection closed before the response was complete',
  },
  BAD_INPUT: { meaning: 'the input line is not a fetchable URL', message: 'not a fetchable URL' },
  ABORTED: { meaning: 'cancelled by SIGINT/SIGTERM or a closed output', message: 'cancelled' },
  WORKER_CRASH: {
    meaning: 'the pool member running the request (a worker thread, or a process in processes mode) died',
    message: 'pool member died',
  },
  WRITE_FAILED: { meaning: 'the body could not be saved under --output-dir', message: 'cannot save body' },
  REQUEST_FAILED: { meaning: 'any other failure, with the client’s message', message: 'request failed' },
} as const satisfies Record<string, { meaning: string; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A server certificate that fails verification keeps Node's (OpenSSL's) code, the same in every
 * mode, so a record says which check failed; -k skips them all, --cacert adds a CA.
 */
export const TLS_CERT_CODES = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server’s certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed CA that is not trusted (see --cacert)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate’s issuer is not trusted (or the server sent no chain)',
  UNABLE_TO_GET_ISSUER_CERT: 'an issuer in the chain is missing',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer is not among the trusted CAs',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is not for this host name or IP address',
  CERT_SIGNATURE_FAILURE: 'a signature in the chain does not verify',
  CERT_REVOKED: 'the certificate is revoked',
  CERT_UNTRUSTED: 'the certificate is not trusted for this purpose',
  CERT_REJECTED: 'the certificate is rejected for this purpose',
  INVALID_CA: 'an issuer in the chain is not a CA',
  INVALID_PURPOSE: 'the certificate is not for a TLS server',
  PATH_LENGTH_EXCEEDED: 'the chain is longer than a CA allows',
  CERT_CHAIN_TOO_LONG: 'the chain is too long',
  HOSTNAME_MISMATCH: 'the certificate is not for this host name',
} as const satisfies Record<string, string>;

/** A record's error: one of fetchall's codes (its default message unless given), or a system code with its message. */
export function fetchError(code: ErrorCode, message?: string): FetchError;
export function fetchError(code: string, message: string): FetchError;
export function fetchError(code: string, message?: string): FetchError {
  return { code, message: message ?? ERROR_CODES[code as ErrorCode].message };
}

/** The one wording of each error several engines raise, so the modes' records read alike. */
export const timeoutError = (timeoutMs: number): FetchError => fetchError('TIMEOUT', `no complete response within ${timeoutMs} ms`);
export const sizeError = (maxSize: number): FetchError => fetchError('SIZE_LIMIT', `body larger than ${maxSize} bytes`);
export const writeError = (reason: string): FetchError => fetchError('WRITE_FAILED', `cannot save body: ${reason}`);

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
  // No descriptor for the socket: the process's open-file limit (ulimit -n), or the system's.
  EMFILE: 'too many open files: no file descriptor left for the connection (ulimit -n)',
  ENFILE: 'too many open files in the system: no file descriptor left for the connection',
};

/** Codes that say the process ran out of file descriptors. */
export const FD_LIMIT_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

/** Any client error (undici's, sync-request's, a system one) → a stable code and a one-line message. */
export function mapError(err: unknown): FetchError {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const causeCode = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(err);
  if (code && code in ERROR_CODES) return fetchError(code, message);
  // undici's connect timeout is set to the request's deadline: it is that deadline passing.
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || causeCode === 'UND_ERR_CONNECT_TIMEOUT') return fetchError('TIMEOUT');
  // undici wraps a tunnel's failed check (UND_ERR_PRX_TLS); node:https hands it as is.
  if (code && code in TLS_CERT_CODES) return fetchError(code, message);
  if (causeCode && causeCode in TLS_CERT_CODES) {
    return fetchError(causeCode, typeof e?.cause?.message === 'string' ? e.cause.message.split('\n')[0]! : message);
  }
  // undici's words for a refused CONNECT; the helper's (helper-wrapper.ts) carry PROXY_FAILED.
  const refused = /Proxy response \((\d+)\) !== 200/.exec(message);
  if (refused) return proxyRefused(Number(refused[1]));
  // A peer that hangs up mid-response reads as ECONNRESET in node:http and UND_ERR_SOCKET in
  // undici: one code, so the modes compare.
  if (/socket hang up|other side closed|^aborted$|premature close/i.test(message)) {
    return fetchError('SOCKET_CLOSED');
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
    return fetchError('PROTOCOL_ERROR');
  if (/UND_ERR_SOCKET|other side closed|socket hang up|premature close|aborted/i.test(any)) {
    return fetchError('SOCKET_CLOSED');
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
 * The classes `--fail-on` chooses from: `4xx` and `5xx` are URLs that failed on their HTTP status
 * alone; `error` is every other failure (network, timeout, size, redirects, a bad input line).
 */
export const FAIL_CLASSES = ['error', '4xx', '5xx'] as const;
export type FailClass = (typeof FAIL_CLASSES)[number];
export type FailCounts = Record<FailClass, number>;

/** The class of a failed URL, from its record's status and error. */
export function failClass(r: { status: number | null; error: FetchError | null }): FailClass {
  if (r.error?.code !== 'HTTP_STATUS' || r.status === null) return 'error';
  return r.status < 500 ? '4xx' : '5xx';
}

/** A CONNECT the proxy answered with `status`, worded alike in every mode. */
export function proxyRefused(status: number): FetchError {
  return fetchError('PROXY_FAILED', `the proxy refused the tunnel: ${status}`);
}

/** What a usage error is about, as data: the CLI shows `reason` beside commander's own naming of flag and value. */
export interface UsageProblem {
  /** The flag at fault ('--concurrency'), or null when it is not a flag (a file, the input, a port in use). */
  flag: string | null;
  /** Why, in a phrase that reads after the flag (or after the value, when there is no flag). */
  reason: string;
  /**
   * The value at fault: echoed after the reason ('got …', a string quoted) for a flag, or named
   * before the reason otherwise (a file). Left out where the reason already quotes it.
   */
  value?: string | number | null;
}

/** A mistake by the user: printed as one line, never with a stack trace (exit 2, see exit.ts). */
export class UsageError extends Error {
  readonly flag: string | null;
  readonly reason: string;
  readonly value: string | number | null;

  constructor(p: UsageProblem) {
    super(usageMessage(p));
    this.flag = p.flag;
    this.reason = p.reason;
    this.value = p.value ?? null;
  }
}

/** '--flag: reason, got 'value'' · 'value: reason' · 'reason'. */
function usageMessage({ flag, reason, value = null }: UsageProblem): string {
  if (flag === null) return value === null ? reason : `${value}: ${reason}`;
  if (value === null) return `${flag}: ${reason}`;
  return `${flag}: ${reason}, got ${typeof value === 'string' ? `'${value}'` : value}`;
}

/** Something outside the user's control stopped the run (e.g. the pool could not start): one line, exit 1. */
export class FatalError extends Error {}
