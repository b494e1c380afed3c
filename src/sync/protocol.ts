// The messages between a blocking client (a pool thread, a pool process's main thread, or the main
// thread in inline mode) and the relay thread of its own process, which does the client's HTTP.
// Shared by both sides, never duplicated.

import type { MessagePort } from 'node:worker_threads';

/** Handed to the relay thread once per blocking client. */
export interface RelayClient {
  port: MessagePort;
  /**
   * A 4-byte SharedArrayBuffer: the sequence number of the last call the relay has answered. The
   * relay posts its reply first and raises this second, so a client that sees its number finds
   * its reply queued; a reply to a call given up on (deadline) is told apart by its number.
   */
  flag: SharedArrayBuffer;
}

/** One call of sync-request's worker function: `args` is what sync-request's index.js passes it. */
export interface RelayCall {
  seq: number;
  args: unknown;
}

export interface RelayReply {
  seq: number;
  /** sync-request's worker resolved (`value`: its {s, h, b, u}) or rejected (`error`). */
  ok: boolean;
  value?: unknown;
  error?: { code: string | undefined; message: string; stale?: boolean };
}

/** What the relay thread is started with (workerData). */
export interface RelayData {
  /** --max-size, enforced where the body is read. */
  maxSize: number;
}

/**
 * Private headers between the blocking client and the relay's HTTP hooks (http-hooks.ts): the
 * relay reads the body itself (counts it, or streams it to its file) so no body crosses a thread.
 * They never reach the network: the hooks strip them before sending.
 */
export const PRIVATE = {
  /** Request: epoch ms by which the whole response, body included, must be in. */
  deadline: 'x-fetchall-deadline',
  /** Request: the temp file (URI-encoded) to stream a body of a status below 400 to. */
  save: 'x-fetchall-save',
  /** Request: the proxy to go through (core/rules.ts proxyFor), `http://[user:pw@]host:port`. */
  proxy: 'x-fetchall-proxy',
  /** Request: the file (URI-encoded) the hooks stream as the request body. */
  bodyFile: 'x-fetchall-body-file',
  /** Request, https only: JSON {@link TlsSpec}, URI-encoded. */
  tls: 'x-fetchall-tls',
  /** Request: "1" when --work needs the body's SHA-256 (the body is read where it arrives, not kept). */
  digest: 'x-fetchall-digest',
  /** Response: JSON {@link BodyReport}, in place of the body. */
  body: 'x-fetchall-body',
} as const;

/** -k and --cacert for one https request. */
export interface TlsSpec {
  insecure: boolean;
  /** Absolute path of a PEM bundle trusted besides the system's CAs. */
  cacert: string | null;
}

/** What the relay's hooks tell the client about a body they consumed. */
export interface BodyReport {
  bytes: number;
  /** The body went to the `save` file, complete and closed. */
  saved: boolean;
  error: { code: string; message: string } | null;
  /** ms from the response head's arrival to this report (the relay's clock is another thread's). */
  sinceHeadMs?: number;
  /** Hex SHA-256 of the body, when asked for (PRIVATE.digest). */
  sha256?: string;
}
