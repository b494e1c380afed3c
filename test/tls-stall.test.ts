// A server that takes the TCP connection and never speaks TLS: every mode ends the URL with
// TIMEOUT at -t (async's request has not started yet, so its deadline cannot wait for undici),
// a stop before the connection is up is ABORTED at once, and no socket outlives its deadline or a stop.

import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapError } from '../src/core/errors.js';
import { ndjson, type Running, run, start } from './helpers/cli.js';
import { useServer } from './helpers/server.js';
import { until, within } from './helpers/wait.js';

const ctx = useServer();
let silent: Server;
let port = 0;
/** Every socket the silent server took, and when each closed (null while open). */
const sockets: { socket: Socket; closedAt: number | null }[] = [];

beforeAll(async () => {
  silent = createServer((socket) => {
    const entry = { socket, closedAt: null as number | null };
    sockets.push(entry);
    socket.on('error', () => {});
    socket.on('close', () => {
      // The server's clock (src/server/stats.ts), so it compares with its arrival times.
      entry.closedAt = performance.timeOrigin + performance.now();
    });
    // Reads the ClientHello and never answers it.
    socket.resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

let running: Running | null = null;
afterEach(() => {
  running?.child.kill('SIGKILL');
  running = null;
});

describe('a TLS handshake that never comes', () => {
  for (const mode of ['async', 'threads', 'inline'] as const) {
    it(`${mode}: TIMEOUT with the deadline's message`, async () => {
      const r = await run(['-m', mode, '-f', 'ndjson', '-q', '-t', '1500', `https://127.0.0.1:${port}/x?${mode}`]);
      const [rec] = ndjson(r.stdout);
      expect(rec!.error).toEqual({ code: 'TIMEOUT', message: 'no complete response within 1500 ms' });
      expect(rec!.status).toBeNull();
      expect(r.code).toBe(1);
    });
  }

  it('async: the stalled socket is closed soon after its TIMEOUT, while the run goes on', async () => {
    const before = sockets.length;
    // One slot for the stalled URL, one for five 1 s requests in turn: the run outlives the 2 s deadline.
    const slow = Array.from({ length: 5 }, (_, i) => `${ctx.server.url}/delay/1000?s=${i}`);
    running = start(['-f', 'ndjson', '-q', '-c', '2', '-t', '2000', `https://127.0.0.1:${port}/z`, ...slow]);
    await running.waitFor(/TIMEOUT/);
    const mine = () => sockets.slice(before);
    await until(() => mine().length > 0 && mine().every((s) => s.closedAt !== null), 'the stalled TLS socket closed at the server');
    const r = await within(running.done, 'the run to finish');
    expect(ndjson(r.stdout).filter((x) => x.ok)).toHaveLength(5);
    // Closed by fetchall itself, not by its exit: before the last of the slow requests even
    // arrived (it then took 1 s more), by the server's log and this server's close, one clock.
    const last = ctx.server.stats().requests.find((q) => q.path.includes('/delay/1000?s=4'))!;
    expect(Math.max(...mine().map((s) => s.closedAt!))).toBeLessThan(last.arrival);
  });

  it('async: SIGINT while the handshake stalls ends the URL as ABORTED at once, exit 130', async () => {
    const before = sockets.length;
    // --trace-exit: a process.exit() call says so on stderr; a run that ends by itself calls none.
    running = start(['-f', 'ndjson', '-t', '60000', `https://127.0.0.1:${port}/w`], { env: { NODE_OPTIONS: '--trace-exit' } });
    await until(() => sockets.length > before, 'the TLS connection at the stalling server');
    running.child.kill('SIGINT');
    await running.waitFor(/ABORTED/);
    const r = await within(running.done, 'the exit after SIGINT');
    // A socket left connecting would hold the process until cli.ts's 1.5 s timer forces the exit:
    // that, not how long the exit took, is what is checked.
    expect(r.stderr).not.toMatch(/Exited the environment/);
    expect(r.code).toBe(130);
    const recs = ndjson(r.stdout);
    expect(recs.map((x) => (x.error as { code: string }).code)).toEqual(['ABORTED']);
    expect(r.stderr).not.toMatch(/client is destroyed|internal error/);
  });
});

describe('mapError', () => {
  it("maps undici's connect timeout to TIMEOUT", () => {
    const err = Object.assign(new Error('Connect Timeout Error (attempted address: 127.0.0.1:1, timeout: 10ms)'), {
      code: 'UND_ERR_CONNECT_TIMEOUT',
    });
    expect(mapError(err).code).toBe('TIMEOUT');
  });
});
