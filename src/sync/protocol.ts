// The messages between the blocking side of sync-request (a pool worker, or the main thread in
// inline mode) and the relay thread, and between the client and its helper. Shared, never duplicated.

import type { MessagePort } from 'node:worker_threads';

/** Handed to the relay thread once per blocking client. */
export interface RelayClient {
  port: MessagePort;
  /** A 4-byte SharedArrayBuffer: 0 while a call is pending, 1 when the reply is queued. */
  flag: SharedArrayBuffer;
}

export type RelayCall =
  | {
      kind: 'rpc';
      port: number;
      input: string;
      /** Epoch ms (Date.now() clock) after which the relay gives up with TIMEOUT. */
      deadline: number;
    }
  /**
   * A loopback port for sync-rpc's helper (sync-rpc would spawn a node process to find one), kept
   * listening so no other process can take it; the reply carries the socket's fd for the helper.
   */
  | { kind: 'free-port' }
  /** The helper has its copy of the reserved socket: the relay closes its own (no reply). */
  | { kind: 'release'; port: number };

export interface RelayReply {
  stdout: Uint8Array | null;
  error: { code: string; message: string } | null;
  /** For 'free-port': the listening socket's fd, shared by every thread of this process. */
  fd?: number;
}

/**
 * Private headers between the blocking client and sync-request's helper process: the helper
 * reads the body itself (counts it, or streams it to its file) so no body crosses a socket or a
 * thread. They never reach the network: the helper strips the request ones before sending.
 */
export const PRIVATE = {
  /** Request: epoch ms by which the whole response, body included, must be in. */
  deadline: 'x-fetchall-deadline',
  /** Request: the temp file (URI-encoded) to stream a body of a status below 400 to. */
  save: 'x-fetchall-save',
  /** Request: the proxy to go through (core/rules.ts proxyFor), `http://[user:pw@]host:port`. */
  proxy: 'x-fetchall-proxy',
  /** Request: the file (URI-encoded) the helper streams as the request body. */
  bodyFile: 'x-fetchall-body-file',
  /** Request, https only: JSON {@link TlsSpec}, URI-encoded. */
  tls: 'x-fetchall-tls',
  /** Response: JSON {@link BodyReport}, in place of the body. */
  body: 'x-fetchall-body',
} as const;

/** -k and --cacert for one https request. */
export interface TlsSpec {
  insecure: boolean;
  /** Absolute path of a PEM bundle trusted besides the system's CAs. */
  cacert: string | null;
}

/** What the helper tells the client about a body it consumed. */
export interface BodyReport {
  bytes: number;
  /** The body went to the `save` file, complete and closed. */
  saved: boolean;
  error: { code: string; message: string } | null;
  /**
   * ms from the response head's arrival here to this report: the helper and its client run on
   * different clocks, so the client dates the head by counting back from when the reply reached it.
   */
  sinceHeadMs?: number;
}
