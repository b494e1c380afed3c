// sync-request, the deliberately blocking client, loaded so that: its round trip to its helper
// goes through the relay thread (Atomics.wait, no process per request), its helper process is
// known to fetchall (to count, measure and stop it), and its helper reads each body itself.
// The transport only: what to do with a response (redirects, limits, saving) is engines/blocking.ts.

import childProcess from 'node:child_process';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { clampTimer } from '../core/clock.js';
import { type BodyReport, PRIVATE, type RelayCall, type RelayClient, type RelayReply, type TlsSpec } from './protocol.js';
import type { SharedHelperAddress } from './shared-helper.js';

interface SyncResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | string;
}
export type SyncRequest = (method: string, url: string, options: Record<string, unknown>) => SyncResponse;
type RpcResult = { stdout: Buffer; stderr: Buffer; status: number; error?: Error };

const require = createRequire(import.meta.url);
const wrapper = fileURLToPath(new URL('./helper-wrapper.js', import.meta.url));

/** Deadline (Date.now() clock) for the relay call now in progress. */
let deadline = 0;

/** The blocking side of one relay channel: a call posted, the thread blocked until the reply is queued. */
interface Channel {
  cell: Int32Array;
  port: MessagePort;
  roundTrip(call: RelayCall, waitMs: number): RelayReply | undefined;
  /** sync-rpc's transport function: one call to its helper through the relay. */
  relayCall(rpcPort: number, input: string): RpcResult;
}

function channelOf(relay: RelayClient): Channel {
  const cell = new Int32Array(relay.flag);
  const port: MessagePort = relay.port;
  const roundTrip = (call: RelayCall, waitMs: number): RelayReply | undefined => {
    Atomics.store(cell, 0, 0);
    port.postMessage(call);
    // The calling thread blocks here for the whole request: that is the point of this mode.
    Atomics.wait(cell, 0, 0, clampTimer(waitMs));
    return receiveMessageOnPort(port)?.message as RelayReply | undefined;
  };
  const relayCall = (rpcPort: number, input: string): RpcResult => {
    const call: RelayCall = { kind: 'rpc', port: rpcPort, input, deadline: deadline || Date.now() + 30_000 };
    // The extra second lets the relay report its own timeout first.
    const msg = roundTrip(call, Math.max(0, call.deadline - Date.now()) + 1000);
    if (!msg) return fail('TIMEOUT', 'no reply from the relay before the deadline');
    // The relay only talks to sync-rpc's helper on loopback: a socket error there (refused,
    // reset) means the helper is gone, not that the URL's server refused.
    if (msg.error) return msg.error.code === 'TIMEOUT' ? fail('TIMEOUT', msg.error.message) : fail('HELPER_FAILED', msg.error.message);
    return { stdout: Buffer.from(msg.stdout!), stderr: Buffer.alloc(0), status: 0 };
  };
  Object.defineProperty(relayCall, 'name', { value: 'fetchallRelay' });
  return { cell, port, roundTrip, relayCall };
}

/** What the spawn patches share while sync-rpc loads. */
interface LoadContext {
  channel: Channel;
  maxSize: number;
  onHelper: (pid: number) => void;
  shared: SharedHelperAddress | null;
  /** The port the relay holds listening for the helper about to start, and that socket's fd. */
  reservation: { port: number; fd: number } | null;
}

const original = childProcess.spawn;
const originalSync = childProcess.spawnSync;
const SYNC_OK = { stderr: Buffer.alloc(0), status: 0, pid: 0, output: [], signal: null };

/**
 * sync-rpc starts its helper with child_process.spawn: run it under our parent-watching wrapper
 * and learn its pid. The helper takes over the relay's listening socket as its fd 3 instead of
 * binding the port itself: nothing can take the port in between, so concurrent runs never collide.
 */
function patchedSpawn(ctx: LoadContext) {
  return (cmd: string, args: readonly string[], options: childProcess.SpawnOptions) => {
    const isHelper = Array.isArray(args) && /sync-rpc[\\/]lib[\\/]worker\.js$/.test(String(args[0]));
    if (!isHelper) return original(cmd, args, options);
    // The shared helper already runs: sync-rpc gets a stand-in to unref and, at exit, kill.
    if (ctx.shared) return Object.assign(new EventEmitter(), { unref() {}, kill: () => true, pid: undefined });
    const held = ctx.reservation !== null && String(args[1]) === String(ctx.reservation.port) ? ctx.reservation : null;
    ctx.reservation = null;
    try {
      // Its stderr is not the user's: a failing helper shows up as its URL's one-line error.
      const child = original(cmd, [wrapper, ...args], {
        ...options,
        stdio: held ? ['ignore', 'ignore', 'ignore', held.fd] : ['ignore', 'ignore', 'ignore'],
        env: {
          ...process.env,
          FETCHALL_HELPER_MAX_SIZE: String(ctx.maxSize),
          FETCHALL_PARENT_PID: String(process.pid),
          FETCHALL_HELPER_LISTEN_FD: held ? '3' : '',
        },
      });
      if (child.pid) ctx.onHelper(child.pid);
      return child;
    } finally {
      // The child has its copy once spawn returns; queued ahead of the first ping, so the relay
      // has closed its own before anything connects.
      if (held) ctx.channel.port.postMessage({ kind: 'release', port: held.port } satisfies RelayCall);
    }
  };
}

/**
 * While it starts, sync-rpc also spawns a node process to find a free port and one per "ping"
 * until its helper answers; the relay does both without a process, which is most of the pool's
 * start-up. Any other spawnSync passes through untouched.
 */
function patchedSpawnSync(ctx: LoadContext) {
  return (cmd: string, args: readonly string[], options: childProcess.SpawnSyncOptions) => {
    const a0 = Array.isArray(args) ? String(args[0]) : '';
    if (/sync-rpc[\\/]lib[\\/]find-port\.js$/.test(a0)) {
      if (ctx.shared) return { ...SYNC_OK, stdout: Buffer.from(String(ctx.shared.port)) };
      const msg = ctx.channel.roundTrip({ kind: 'free-port' }, 10_000);
      if (msg?.stdout) {
        const fd = msg.fd ?? -1;
        ctx.reservation = fd < 0 ? null : { port: Number(Buffer.from(msg.stdout).toString()), fd };
        return { ...SYNC_OK, stdout: Buffer.from(msg.stdout) };
      }
    }
    const ping =
      a0 === '-e' ? /^var c=require\('net'\)\.connect\((\d+),'127\.0\.0\.1'.*c\.end\("ping\\r\\n"\)/.exec(String(args[1])) : null;
    if (ping) {
      const res = ctx.channel.relayCall(Number(ping[1]), 'ping\r\n');
      // Not listening yet: pause as a spawned process would have, rather than spin.
      if (res.error) Atomics.wait(ctx.channel.cell, 0, 0, 10);
      return { ...res, pid: 0, output: [], signal: null };
    }
    return originalSync(cmd, args, options);
  };
}

/**
 * sync-rpc draws its key (which its helper checks on every call) as it starts: the shared helper
 * was started with one already, so that draw returns it. Returns the undo.
 */
function sharedKey(shared: SharedHelperAddress | null): () => void {
  const originalRandom = crypto.randomBytes;
  if (shared) {
    (crypto as { randomBytes: unknown }).randomBytes = (size: number, ...rest: unknown[]) => {
      if (size !== 32 || rest.length > 0) return (originalRandom as (...a: unknown[]) => Buffer)(size, ...rest);
      crypto.randomBytes = originalRandom;
      return Buffer.from(shared.key, 'hex');
    };
  }
  return () => {
    crypto.randomBytes = originalRandom;
  };
}

/**
 * Load sync-request with the relay as its fastest transport. `onHelper` learns the pid of the
 * helper process it starts. This blocks while sync-rpc starts its helper: that is the start-up.
 * With `shared`, no helper is started: sync-request uses the one already running there
 * (shared-helper.ts), and this blocks only until that helper answers.
 */
export function loadSyncRequest(
  relay: RelayClient,
  maxSize: number,
  onHelper: (pid: number) => void,
  shared: SharedHelperAddress | null = null,
): SyncRequest {
  const channel = channelOf(relay);
  const ctx: LoadContext = { channel, maxSize, onHelper, shared, reservation: null };
  // sync-rpc captures child_process.spawn when it loads: patched for that moment only.
  (childProcess as { spawn: unknown }).spawn = patchedSpawn(ctx);
  (childProcess as { spawnSync: unknown }).spawnSync = patchedSpawnSync(ctx);
  const restoreKey = sharedKey(shared);
  // sync-rpc kills its helper at exit: with a shared one that is a stand-in, and a reload (a
  // replaced helper) must not pile up exit listeners.
  const exitListeners = process.listeners('exit');
  try {
    // A second load in one thread (inline mode, run again by compare) must start a fresh helper
    // on the new relay, not reuse the module bound to the last run's stopped one.
    const syncRequestPath = require.resolve('sync-request');
    const rpcPath = createRequire(syncRequestPath).resolve('sync-rpc');
    delete require.cache[syncRequestPath];
    delete require.cache[rpcPath];
    const rpc = require(rpcPath) as { FUNCTION_PRIORITY: unknown[] };
    rpc.FUNCTION_PRIORITY.unshift(channel.relayCall);
    return require('sync-request') as SyncRequest;
  } finally {
    (childProcess as { spawn: unknown }).spawn = original;
    (childProcess as { spawnSync: unknown }).spawnSync = originalSync;
    restoreKey();
    if (shared) for (const l of process.listeners('exit')) if (!exitListeners.includes(l)) process.off('exit', l);
  }
}

function fail(code: string, message: string): RpcResult {
  return {
    stdout: Buffer.alloc(0),
    stderr: Buffer.from(message),
    status: 1,
    error: Object.assign(new Error(message), { code }),
  };
}

/** Slack for the stand-by timers behind the helper's own deadline. */
const STANDBY_MS = 2000;

/** A response as the helper hands it over: its body already consumed there (counted, saved or cut). */
export interface HopReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: BodyReport;
}

/** What a hop sends besides its headers, and how it gets there: the helper routes it. */
export interface HopSend {
  /** The bytes, or a file of them that the helper streams (a large body, copied nowhere). */
  body: Uint8Array | { file: string } | null;
  /** The proxy for this URL (core/rules.ts proxyFor); null = direct. */
  proxy: string | null;
  /** For an https URL, -k and --cacert; null = verify against the system's CAs. */
  tls: TlsSpec | null;
}

/**
 * One request, no redirect followed, through sync-request and its helper: blocks the calling
 * thread until the helper has read the whole body, or cut it, by `until` (Date.now() clock).
 * `save` is the temp file the helper streams a body of a status below 400 to.
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
  // The helper enforces `until` itself, body included, and reports what came by then; the relay
  // (and sync-request's own timer) only stand by in case the helper cannot answer.
  deadline = until + STANDBY_MS;
  try {
    // sync-request's own defaults (no timeout, endless redirects, throwing on >= 300) are all
    // replaced, so the blocking engines follow exactly the rules the async one does.
    const res = request(method, url, {
      headers: withPrivate(headers, until, save, send),
      // A Buffer goes to the helper as JSON (an array of numbers): only small bodies go that way.
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

/** Whether a failed hop means the helper process is gone (its port refuses or resets), not the URL's server. */
export function isHelperFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = String((err as Error | null)?.message ?? err);
  return code === 'HELPER_FAILED' || /^fetchallRelay failed/.test(message);
}

/** The request headers plus the private ones the helper takes off before sending. */
function withPrivate(headers: Record<string, string>, until: number, tmp: string | null, send: HopSend): Record<string, string> {
  const all: Record<string, string> = { ...headers, [PRIVATE.deadline]: String(until) };
  if (tmp) all[PRIVATE.save] = encodeURIComponent(tmp);
  if (send.proxy) all[PRIVATE.proxy] = send.proxy;
  if (send.tls) all[PRIVATE.tls] = encodeURIComponent(JSON.stringify(send.tls));
  if (send.body && !(send.body instanceof Uint8Array)) all[PRIVATE.bodyFile] = encodeURIComponent(send.body.file);
  return all;
}

/** What the helper did with the body (see helper-wrapper.ts); no report means no body at all. */
function bodyReport(res: SyncResponse): BodyReport {
  const raw = res.headers[PRIVATE.body];
  try {
    if (typeof raw === 'string') return JSON.parse(raw) as BodyReport;
  } catch {}
  return { bytes: 0, saved: false, error: null };
}

/** A few round trips through a fresh helper, so the measured requests do not pay for cold code. */
export function warmUp(request: SyncRequest, url: string, times = 3): void {
  for (let i = 0; i < times; i++) {
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
