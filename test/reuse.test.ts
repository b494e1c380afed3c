// A server that closes a kept-alive connection when its 4th request arrives, before any response
// byte and without `Connection: close` (#16.8): every mode sends that request once more on a fresh
// connection, within the same attempt, as curl does.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { ndjson, run } from './helpers/cli.js';
import { keepAliveResponse, type RawServer, startRaw } from './helpers/raw-server.js';

type Rec = { index: number; ok: boolean; status: number | null; attempts: number; error: { code: string } | null };

let server: RawServer;

beforeAll(async () => {
  server = await startRaw((req, socket) => {
    if (req.nth >= 4) socket.destroy();
    else socket.write(keepAliveResponse(`ok ${req.target}`));
  });
});
afterAll(() => server?.close());

describe('a kept-alive connection the server closed on its 4th request', () => {
  it.each(MODES)('%s: 20 of 20 ok at -c 1, each in one attempt, on fresh connections', async (mode) => {
    const before = { requests: server.requests.length, connections: server.connections() };
    const list = Array.from({ length: 20 }, (_, i) => `${server.url}/${mode}/${i}`);
    const r = await run(['-m', mode, '-c', '1', '-f', 'ndjson', ...list]);
    const recs = (ndjson(r.stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
    expect(recs.map((x) => x.error?.code ?? x.status)).toEqual(list.map(() => 200));
    expect(recs.map((x) => x.attempts)).toEqual(list.map(() => 1));
    expect(r.code, r.stderr).toBe(0);
    // Each connection carries 3 answered requests and dies on a 4th, sent again on the next one.
    const conns = server.connections() - before.connections;
    const seen = server.requests.slice(before.requests);
    expect(seen.filter((q) => q.nth < 4)).toHaveLength(20);
    expect(conns).toBeGreaterThanOrEqual(7);
    expect(seen.filter((q) => q.nth >= 4)).toHaveLength(conns - 1);
  });

  it('async: a POST is not sent again (not idempotent): its record says the connection closed', async () => {
    const list = Array.from({ length: 4 }, (_, i) => `${server.url}/post/${i}`);
    const r = await run(['-m', 'async', '-c', '1', '-X', 'POST', '-f', 'ndjson', ...list]);
    const recs = (ndjson(r.stdout) as unknown as Rec[]).sort((a, b) => a.index - b.index);
    expect(recs.map((x) => x.error?.code ?? x.status)).toEqual([200, 200, 200, 'SOCKET_CLOSED']);
    expect(r.code).toBe(1);
  });
});
