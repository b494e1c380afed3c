// One sync-rpc helper process for a whole pool of blocking clients: started here (the main
// thread, without blocking), then every worker's sync-request is pointed at its port and key
// (client.ts, `shared`) instead of starting a helper of its own. sync-rpc's helper is an async
// server: it serves each connection on its own, so N threads blocked at once are N requests in
// flight there, and the pool costs one node process, not N.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type AddressInfo, connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const wrapper = fileURLToPath(new URL('./helper-wrapper.js', import.meta.url));

/** Where a worker's sync-request finds the shared helper. */
export interface SharedHelperAddress {
  port: number;
  /** sync-rpc's key (hex) that the helper checks on every call. */
  key: string;
}

export interface SharedHelper extends SharedHelperAddress {
  pid: number;
  child: ChildProcess;
}

/** sync-rpc's helper entry, as sync-request would load it. */
function rpcWorker(): string {
  const rpcPath = createRequire(require.resolve('sync-request')).resolve('sync-rpc');
  return createRequire(rpcPath).resolve('./worker');
}

/**
 * Start the helper on a loopback socket reserved here and handed over as its fd 3 (so no other
 * process can take the port first), under the wrapper that reads bodies itself and exits with
 * us. Resolves once spawned, not once listening: clients ping it until it answers.
 */
export async function startSharedHelper(maxSize: number): Promise<SharedHelper> {
  const server = createServer();
  // Only the helper answers on this socket; anything our copy happens to accept is refused.
  server.on('connection', (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  const key = randomBytes(32).toString('hex');
  try {
    if (fd < 0) throw new Error('cannot share a listening socket on this platform');
    // Its stderr is not the user's: a failing helper shows up as its URLs' one-line errors.
    const child = spawn(process.execPath, [wrapper, rpcWorker(), String(port), key], {
      stdio: ['ignore', 'ignore', 'ignore', fd],
      env: {
        ...process.env,
        FETCHALL_HELPER_MAX_SIZE: String(maxSize),
        FETCHALL_PARENT_PID: String(process.pid),
        FETCHALL_HELPER_LISTEN_FD: '3',
      },
    });
    if (!child.pid) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw err;
    }
    child.on('error', () => {});
    return { pid: child.pid, port, key, child };
  } finally {
    // The child has its copy of the socket once spawn returns.
    server.close();
  }
}

/** Whether the helper on `port` answers sync-rpc's ping within `waitMs`. */
export function pingHelper(port: number, waitMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.end('ping\r\n'));
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.on('data', (d: Buffer) => (reply += d.toString()));
    socket.on('end', () => done(reply === 'pong'));
    socket.on('error', () => done(false));
    const timer = setTimeout(() => done(false), waitMs);
  });
}

/** Ping until the helper answers (a fresh one takes a node start-up), or `waitMs` passes. */
export async function untilAlive(port: number, waitMs = 10_000): Promise<boolean> {
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    if (await pingHelper(port)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}
