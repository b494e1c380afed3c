// sync-request, the deliberately blocking client, on fetchall's one blocking transport: the
// calling thread posts each call to its process's relay thread (relay-thread.ts) and blocks in
// Atomics.wait until the reply is queued. No helper process, no socket, no key: see
// docs/blocking.md. The transport only: what to do with a response (redirects, limits, saving)
// is engines/blocking.ts.

import { receiveMessageOnPort } from 'node:worker_threads';
import { clampTimer } from '../core/clock.js';
import { loadSyncRequestWith, type SyncRequestFn } from './internals.js';
import { type BodyReport, PRIVATE, type RelayCall, type RelayClient, type RelayReply, type TlsSpec } from './protocol.js';

type SyncResponse = ReturnType<SyncRequestFn>;
export type SyncRequest = SyncRequestFn;

/** How long a blocked client sleeps between checks that it should still be waiting (its parent alive). */
const SLICE_MS = 250;

/** Deadline (Date.now() clock) for the call now in progress. */
let deadline = 0;

/** An error a relay call ends with; `stale`: a reused connection died before any response byte. */
function relayError(code: string, message: string, stale = false): Error {
  return Object.assign(new Error(message), { code, stale });
}

/** Whether a hop failed on a kept-alive connection the server had closed (see http-hooks.ts markStale). */
export function isStale(err: unknown): boolean {
  return (err as { stale?: unknown } | null)?.stale === true;
}

/**
 * One call through the relay: post it, block until its reply (told by its number) is queued, or
 * the deadline (plus a second, so the relay reports its own timeout first) passes. `alive` is
 * asked between slices: a pool process whose parent is gone stops waiting and exits.
 */
function channelOf(relay: RelayClient, alive: () => boolean): (args: unknown) => unknown {
  const cell = new Int32Array(relay.flag);
  let seq = Atomics.load(cell, 0);
  return (args) => {
    const call: RelayCall = { seq: ++seq, args };
    const until = (deadline || Date.now() + 30_000) + 1000;
    relay.port.postMessage(call);
    for (;;) {
      const seen = Atomics.load(cell, 0);
      for (let m = receiveMessageOnPort(relay.port); m; m = receiveMessageOnPort(relay.port)) {
        const reply = m.message as RelayReply;
        if (reply.seq !== call.seq) continue; // the late reply to a call given up on
        if (reply.ok) return reply.value;
        throw relayError(reply.error?.code ?? 'REQUEST_FAILED', reply.error?.message ?? 'request failed', reply.error?.stale);
      }
      const left = until - Date.now();
      if (left <= 0) throw relayError('TIMEOUT', 'no reply from the relay before the deadline');
      if (!alive()) process.exit(0);
      // The calling thread blocks here for the whole request: that is the point of these modes.
      Atomics.wait(cell, 0, seen, clampTimer(Math.min(left, SLICE_MS)));
    }
  };
}

/**
 * Load a fresh sync-request on a channel to this process's relay thread. Cheap: no process
 * starts; the relay thread already runs sync-request's worker.
 */
export function loadSyncRequest(relay: RelayClient, alive: () => boolean = () => true): SyncRequest {
  return loadSyncRequestWith(channelOf(relay, alive));
}

/** Slack for the stand-by timers behind the relay hooks' own deadline. */
const STANDBY_MS = 2000;

/** A response as the relay hands it over: its body already consumed there (counted, saved or cut). */
export interface HopReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: BodyReport;
}

/** What a hop sends besides its headers, and how it gets there: the relay's hooks route it. */
export interface HopSend {
  /** The bytes, or a file of them that the relay streams (a large body, copied nowhere). */
  body: Uint8Array | { file: string } | null;
  /** The proxy for this URL (core/rules.ts proxyFor); null = direct. */
  proxy: string | null;
  /** For an https URL, -k and --cacert; null = verify against the system's CAs. */
  tls: TlsSpec | null;
  /** The body's SHA-256 is wanted (--work computes on it). */
  digest?: boolean;
}

/**
 * One request, no redirect followed, through sync-request and the relay: blocks the calling
 * thread until the relay has read the whole body, or cut it, by `until` (Date.now() clock).
 * `save` is the temp file the relay streams a body of a status below 400 to.
 */
export function syncHop(
  request: SyncRequest,
  method: string,
  url: string,
  headers: Record<string, string>,
  until: number,
  save: string | null,
  send: HopSend = { body: null, proxy: null, tls: null },
): HopReply {
  // The relay's hooks enforce `until` themselves, body included, and report what came by then;
  // the blocked wait (and sync-request's own timer) only stand by in case no answer comes.
  deadline = until + STANDBY_MS;
  try {
    // sync-request's own defaults (no timeout, endless redirects, throwing on >= 300) are all
    // replaced, so the blocking engines follow exactly the rules the async one does.
    const res = request(method, url, {
      headers: withPrivate(headers, until, save, send),
      // Copied to the relay thread: only small bodies go this way (a large one goes as a file).
      body: send.body instanceof Uint8Array ? Buffer.from(send.body.buffer, send.body.byteOffset, send.body.byteLength) : undefined,
      followRedirects: false,
      timeout: clampTimer(until - Date.now() + STANDBY_MS),
      retry: false,
      gzip: false,
    });
    return { status: res.statusCode, headers: res.headers, body: bodyReport(res) };
  } finally {
    deadline = 0;
  }
}

/** The request headers plus the private ones the relay's hooks take off before sending. */
function withPrivate(headers: Record<string, string>, until: number, tmp: string | null, send: HopSend): Record<string, string> {
  const all: Record<string, string> = { ...headers, [PRIVATE.deadline]: String(until) };
  if (send.digest) all[PRIVATE.digest] = '1';
  if (tmp) all[PRIVATE.save] = encodeURIComponent(tmp);
  if (send.proxy) all[PRIVATE.proxy] = send.proxy;
  if (send.tls) all[PRIVATE.tls] = encodeURIComponent(JSON.stringify(send.tls));
  if (send.body && !(send.body instanceof Uint8Array)) all[PRIVATE.bodyFile] = encodeURIComponent(send.body.file);
  return all;
}

/** What the relay's hooks did with the body (see http-hooks.ts); no report means no body at all. */
function bodyReport(res: SyncResponse): BodyReport {
  const raw = res.headers[PRIVATE.body];
  try {
    if (typeof raw === 'string') return JSON.parse(raw) as BodyReport;
  } catch {}
  return { bytes: 0, saved: false, error: null };
}

/** A few round trips through a fresh client, so the measured requests do not pay for cold code. */
export function warmUp(request: SyncRequest, url: string, times = 3): void {
  // '' : the relay's warm endpoint is closed (a member replaced mid-run starts cold).
  for (let i = 0; i < times && url !== ''; i++) {
    deadline = Date.now() + 5000;
    try {
      request('GET', url, { timeout: 5000 });
    } catch {
      // A failed warm-up only means a colder first request.
    } finally {
      deadline = 0;
    }
  }
}
