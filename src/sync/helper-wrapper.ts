// Runs sync-rpc's helper server, but exits when the process that started it is gone, so no
// helper outlives fetchall, even after a SIGKILL that left no chance to clean up.
// argv: [node, this file, sync-rpc/lib/worker.js, port, key]

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';

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
// --max-size, enforced where the body is: sync-request buffers a whole body in this process (and
// encodes it again for the reply), so a limit checked only by the caller would let an endless or
// huge body grow here without bound. A response over the limit is cut off with SIZE_LIMIT.
const maxSize = Number(process.env.FETCHALL_HELPER_MAX_SIZE);
if (maxSize > 0) {
  const limit = (res: IncomingMessage, method: string) => {
    // HEAD answers, 204 and 304 carry no body whatever their Content-Length says.
    if (method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) return;
    const tooBig = () => res.destroy(Object.assign(new Error(`body larger than ${maxSize} bytes`), { code: 'SIZE_LIMIT' }));
    if (Number(res.headers['content-length']) > maxSize) return tooBig();
    let seen = 0;
    res.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxSize) tooBig();
    });
  };
  for (const mod of [http, https]) {
    const original = mod.request;
    (mod as { request: unknown }).request = function (this: unknown, ...args: Parameters<typeof http.request>) {
      const req = original.apply(this, args);
      req.on('response', (res: IncomingMessage) => limit(res, req.method));
      return req;
    };
  }
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
