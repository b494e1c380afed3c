// Runs sync-rpc's helper server, but exits when the process that started it is gone, so no
// helper outlives fetchall, even after a SIGKILL that left no chance to clean up; and consumes
// every response body here, so no body is ever buffered, encoded or sent back to the client.
// argv: [node, this file, sync-rpc/lib/worker.js, port, key]

import { createWriteStream, unlink, type WriteStream } from 'node:fs';
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { fetchError, sizeError, writeError } from '../core/errors.js';
import { bodyError, declaredTooLarge, limitedBytes } from '../core/rules.js';
import type { FetchError } from '../core/types.js';
import { clampTimer } from '../measure/clock.js';
import { type BodyReport, PRIVATE } from './protocol.js';

const target = process.argv[2]!;
process.argv.splice(2, 1);
// The parent as fetchall named it, not as found now: if fetchall died while this started, we
// are already reparented and must not take the new parent for ours.
const parent = Number(process.env.FETCHALL_PARENT_PID) || process.ppid;
const orphaned = () => process.ppid !== parent;
if (orphaned()) process.exit(0);
setInterval(() => {
  if (orphaned()) process.exit(0);
}, 200).unref();

// --max-size, enforced where the body is.
const maxSize = Number(process.env.FETCHALL_HELPER_MAX_SIZE) > 0 ? Number(process.env.FETCHALL_HELPER_MAX_SIZE) : Infinity;

type Callback = (res: IncomingMessage) => void;

/**
 * sync-request (through then-request and http-basic) would buffer a whole body here, encode it
 * as base64 inside JSON and send it back, and the client would copy it again on each hop: about
 * 15 copies per body. Instead the body is read here as it arrives — counted, limited, streamed
 * to its file — and sync-request gets an empty body with a {@link BodyReport} header. So a
 * body costs a chunk or two in flight, wherever it goes, and a cut body (reset, size limit,
 * deadline) still reports its status and the bytes that came, as undici does.
 */
function consume(req: ClientRequest, res: IncomingMessage, save: string | null, deadline: number, callback: Callback): void {
  // The head is in now: this callback is node:http's response event.
  const headAt = performance.now();
  let bytes = 0;
  let error: FetchError | null = null;
  let out: WriteStream | null = null;
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    res.removeAllListeners('data');
    if (error) res.destroy();
    const report: BodyReport = { bytes, saved: out !== null && error === null, error, sinceHeadMs: performance.now() - headAt };
    const empty = new PassThrough();
    empty.end();
    const headers = { ...res.headers, [PRIVATE.body]: JSON.stringify(report) };
    callback(Object.assign(empty, { statusCode: res.statusCode, headers }) as unknown as IncomingMessage);
  };
  // The reply waits for the file to be closed (and, on failure, removed), so the client never
  // renames or removes a file this process still writes.
  let ending = false;
  const finish = (err: FetchError | null) => {
    if (ending) return;
    ending = true;
    error = err;
    if (error) res.pause();
    if (!out) return settle();
    const file = out;
    file.once('close', () => (error && save ? unlink(save, () => settle()) : settle()));
    if (error) file.destroy();
    else file.end();
  };
  const timer = setTimeout(() => finish(fetchError('TIMEOUT', 'deadline passed during the body')), clampTimer(deadline - Date.now()));
  if (!Number.isFinite(deadline)) clearTimeout(timer);
  // Once the head is in, http-basic would take a later socket error for a failed request and
  // lose the status and the bytes: the body's outcome is decided here instead. An error after a
  // complete response (stray bytes after a 204) is the next response's, and there is none.
  req.removeAllListeners('error');
  req.on('error', (err) => {
    if (!res.complete) finish(bodyError(err));
  });
  const status = res.statusCode ?? 0;
  if (declaredTooLarge(req.method, status, res.headers['content-length'], maxSize)) return finish(sizeError(maxSize));
  if (save && status < 400) {
    out = createWriteStream(save, { flags: 'wx' });
    out.on('error', (err) => {
      const failed = writeError(err.message);
      // Failing while the last bytes are flushed: the close that follows reports it.
      if (ending) error ??= failed;
      else finish(failed);
    });
  }
  res.on('data', (chunk: Buffer) => {
    if (error) return;
    bytes += chunk.length;
    if (bytes > maxSize) {
      bytes = limitedBytes(bytes, maxSize);
      return finish(sizeError(maxSize));
    }
    if (out && !out.write(chunk)) {
      res.pause();
      out.once('drain', () => res.resume());
    }
  });
  res.on('end', () => finish(null));
  res.on('error', (err) => finish(bodyError(err)));
  // Node reports a body cut short ('aborted', a premature close) on some versions only by closing.
  res.on('close', () => {
    if (!res.complete) finish(fetchError('SOCKET_CLOSED'));
  });
}

/** Take (and remove, so they are never sent) the private request headers. */
function takePrivate(headers: OutgoingHttpHeaders | undefined): { save: string | null; deadline: number } {
  const save = headers?.[PRIVATE.save];
  const deadline = Number(headers?.[PRIVATE.deadline]);
  if (headers) {
    delete headers[PRIVATE.save];
    delete headers[PRIVATE.deadline];
  }
  return { save: typeof save === 'string' ? decodeURIComponent(save) : null, deadline: deadline > 0 ? deadline : Infinity };
}

// http-basic calls http.request / https.request with (options, callback) and hands the response
// given to that callback to then-request: take it over there.
for (const mod of [http, https]) {
  const original = mod.request;
  (mod as { request: unknown }).request = function (this: unknown, ...args: unknown[]) {
    const at = args.findIndex((a) => typeof a === 'function');
    if (at < 0) return (original as (...a: unknown[]) => ClientRequest).apply(this, args);
    const options = args.find((a) => a !== null && typeof a === 'object' && !(a instanceof URL)) as
      | { headers?: OutgoingHttpHeaders }
      | undefined;
    const { save, deadline } = takePrivate(options?.headers);
    const callback = args[at] as Callback;
    let waiting: NodeJS.Timeout | undefined;
    args[at] = (res: IncomingMessage) => {
      clearTimeout(waiting);
      consume(req, res, save, deadline, callback);
    };
    const req = (original as (...a: unknown[]) => ClientRequest).apply(this, args);
    // Until the headers come: no status to report, the request just fails with TIMEOUT.
    if (Number.isFinite(deadline)) {
      waiting = setTimeout(
        () => req.destroy(Object.assign(new Error('deadline passed before the response'), { code: 'TIMEOUT' })),
        clampTimer(deadline - Date.now()),
      );
      req.once('close', () => clearTimeout(waiting));
    }
    return req;
  };
}

// The port was reserved by fetchall, which passed us its listening socket: sync-rpc's worker
// listens on that socket rather than binding the port again, which another process could have
// taken since (EADDRINUSE, or worse, that process's helper answering our pings).
const listenFd = Number(process.env.FETCHALL_HELPER_LISTEN_FD);
if (listenFd > 0) {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server) {
    net.Server.prototype.listen = listen;
    return listen.call(this, { fd: listenFd });
  } as typeof listen;
}

createRequire(import.meta.url)(target);
