// The test server is the ground truth for every other test, so its behaviour is pinned here.

import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../src/server/index.js';
import { startServer } from '../src/server/index.js';

let server: TestServer;
// A private agent so leftover keep-alive sockets cannot leak into other test files.
const agent = new Agent();

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.close();
  await agent.close();
});

async function get(path: string, signal?: AbortSignal) {
  const res = await request(`${server.url}${path}`, { dispatcher: agent, signal });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

describe('test server', () => {
  it('listens on a free port and reports a base URL without a trailing slash', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('/delay/:ms answers 200 after roughly that long', async () => {
    const t0 = performance.now();
    const res = await get('/delay/150');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('delayed 150 ms\n');
    // Only a lower bound: timers never fire early, but CI can make them arbitrarily late.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('/status/:code returns that status, Retry-After on request, and 400 for nonsense', async () => {
    expect((await get('/status/404')).status).toBe(404);
    expect((await get('/status/500?i=1')).status).toBe(500);
    const limited = await get('/status/429?retry-after=3');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('3');
    expect((await get('/status/204')).body.length).toBe(0);
    expect((await get('/status/99')).status).toBe(400);
    expect((await get('/status/abc')).status).toBe(400);
  });

  it('/bytes/:n sends exactly n bytes of the repeating pattern', async () => {
    const n = 200_000;
    const res = await get(`/bytes/${n}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(n));
    expect(res.body.length).toBe(n);
    const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
    expect(res.body.toString('latin1')).toBe(pattern.repeat(Math.ceil(n / pattern.length)).slice(0, n));
    expect((await get('/bytes/0')).body.length).toBe(0);
  });

  it('/drip/:n/:ms sends n bytes', async () => {
    const res = await get('/drip/50/100');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(50);
  });

  it('/endless keeps streaming until the client stops reading', async () => {
    const res = await request(`${server.url}/endless`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    let got = 0;
    for await (const chunk of res.body) {
      got += (chunk as Buffer).length;
      if (got > 1_000_000) break;
    }
    expect(got).toBeGreaterThan(1_000_000);
  });

  it('/redirect/:n walks down a relative chain to 200 ok', async () => {
    const first = await get('/redirect/3');
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/redirect/2');
    let path = '/redirect/3';
    let hops = 0;
    for (;;) {
      const res = await get(path);
      if (res.status !== 302) {
        expect(res.status).toBe(200);
        expect(res.body.toString()).toBe('ok\n');
        break;
      }
      path = String(res.headers.location);
      hops++;
    }
    expect(hops).toBe(3);
  });

  it('/loop redirects to itself', async () => {
    const res = await get('/loop');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/loop');
  });

  it('/flaky/:n fails n times per key with 503 and Retry-After: 0, then succeeds', async () => {
    const a = await get('/flaky/2?key=t1');
    const b = await get('/flaky/2?key=t1');
    const c = await get('/flaky/2?key=t1');
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.headers['retry-after']).toBe('0');
    // A different key has its own count.
    expect((await get('/flaky/2?key=t2')).status).toBe(503);
  });

  it('/headers echoes the request headers', async () => {
    const res = await request(`${server.url}/headers`, {
      dispatcher: agent,
      headers: { 'user-agent': 'fetchall-test', 'x-test': 'yes' },
    });
    const json = (await res.body.json()) as Record<string, string>;
    expect(json['user-agent']).toBe('fetchall-test');
    expect(json['x-test']).toBe('yes');
  });

  it('answers 404 for unknown paths', async () => {
    const res = await get('/no/such/thing');
    expect(res.status).toBe(404);
  });

  it('counts concurrency: 5 parallel delays give peak 5 and served 5', async () => {
    server.reset();
    await Promise.all(Array.from({ length: 5 }, (_, i) => get(`/delay/300?i=${i}`)));
    const stats = server.stats();
    expect(stats.served).toBe(5);
    expect(stats.peak).toBe(5);
    expect(stats.inFlight).toBe(0);
    expect(stats.requests).toHaveLength(5);
    for (const r of stats.requests) {
      expect(r.path).toMatch(/^\/delay\/300\?i=\d$/);
      expect(r.finish).not.toBeNull();
      expect(r.finish as number).toBeGreaterThanOrEqual(r.arrival);
    }
  });

  it('/stats and /reset-stats are served over HTTP without counting themselves', async () => {
    server.reset();
    await get('/status/200');
    const res = await request(`${server.url}/stats`, {
      dispatcher: agent,
      headers: { 'x-test': 'probe' },
    });
    const stats = (await res.body.json()) as { served: number; requests: { path: string }[] };
    expect(stats.served).toBe(1);
    expect(stats.requests.map((r) => r.path)).toEqual(['/status/200']);
    const reset = await get('/reset-stats');
    expect(reset.status).toBe(204);
    expect(server.stats()).toMatchObject({ served: 0, peak: 0, requests: [] });
  });

  it('records user-agent and x- headers of each request', async () => {
    server.reset();
    const res = await request(`${server.url}/status/200`, {
      dispatcher: agent,
      headers: { 'user-agent': 'ua-1', 'x-test': 'abc', 'x-other': 'def', accept: 'text/plain' },
    });
    await res.body.dump();
    const [entry] = server.stats().requests;
    expect(entry?.headers).toEqual({ 'user-agent': 'ua-1', 'x-test': 'abc', 'x-other': 'def' });
  });

  it('/hang never answers, so the client times out, and the server sees the client go', async () => {
    server.reset();
    await expect(get('/hang', AbortSignal.timeout(200))).rejects.toThrow();
    // The close reaches the server asynchronously; wait for it rather than guessing a delay.
    for (let i = 0; i < 100 && server.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.stats().inFlight).toBe(0);
    expect(server.stats().requests[0]?.finish).not.toBeNull();
  });

  it('/reset cuts the connection mid-body, which the client sees as an error', async () => {
    await expect(get('/reset')).rejects.toThrow();
  });

  it('/garbage is not HTTP, which the client sees as an error', async () => {
    await expect(get('/garbage')).rejects.toThrow();
  });

  it('close() resolves promptly while a /hang request is still open', async () => {
    const own = await startServer();
    const client = new Agent();
    const pending = request(`${own.url}/hang`, { dispatcher: client }).then(
      async (res) => {
        await res.body.dump();
        return 'answered';
      },
      () => 'failed',
    );
    for (let i = 0; i < 100 && own.stats().inFlight === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(own.stats().inFlight).toBe(1);
    await own.close();
    expect(await pending).toBe('failed');
    await client.close();
  });
});
