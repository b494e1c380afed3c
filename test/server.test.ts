// The test server is the ground truth for every other test, so each route, its /stats account and `fetchall serve` are pinned here.

import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestServer } from '../src/server/index.js';
import { startServer } from '../src/server/index.js';
import { spawnServer } from '../src/server/process.js';
import { ROUTES, routeList } from '../src/server/routes.js';
import { type Running, start } from './helpers/cli.js';

const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
const pattern = (n: number): string => PATTERN.repeat(Math.ceil(n / PATTERN.length)).slice(0, n);

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

beforeEach(() => server.reset());

async function get(path: string, opts: { signal?: AbortSignal; method?: 'GET' | 'HEAD'; base?: string } = {}) {
  const res = await request(`${opts.base ?? server.url}${path}`, { dispatcher: agent, signal: opts.signal, method: opts.method });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

const text = async (path: string) => {
  const res = await get(path);
  return `${res.status} ${res.body.toString()}`;
};

/** Resolves when `check` holds; a deadline rather than a hope. */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Node may fire a timer up to a millisecond before its nominal time, measured on this clock.
const TIMER_SLACK_MS = 2;

describe('the route table', () => {
  it('GET / lists every route of the table, in order, usage then what it does, without counting itself', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body.toString()).toBe(routeList());
    const usages = res.body
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(usages).toEqual([
      '/',
      '/delay/:ms',
      '/status/:code',
      '/flaky/:n',
      '/bytes/:n',
      '/drip/:n/:ms',
      '/endless',
      '/redirect/:n',
      '/absolute-redirect/:n',
      '/loop',
      '/hang',
      '/reset',
      '/garbage',
      '/headers',
      '/echo',
      '/stats',
      '/reset-stats',
    ]);
    expect(res.body.toString().split('\n')[1]).toMatch(/^\/delay\/:ms {2,}200 after ms milliseconds/);
    expect(server.stats().served).toBe(0);
  });

  it('each route is listed under its own name, and each listed route answers (HEAD, sample arguments)', async () => {
    for (const [name, route] of Object.entries(ROUTES)) expect(route.usage.split('/')[1]).toBe(name);
    const noAnswer = ['/hang', '/reset', '/garbage'];
    for (const { usage } of Object.values(ROUTES).filter((r) => !noAnswer.includes(r.usage))) {
      const path = usage.replace(':code', '200').replace(/:\w+/g, '0');
      expect({ path, status: (await get(path, { method: 'HEAD' })).status }).toEqual({
        path,
        status: usage === '/reset-stats' ? 204 : usage === '/loop' ? 302 : 200,
      });
    }
  });

  it('answers 404 naming the path for unknown routes, Object.prototype names included, and counts them', async () => {
    const paths = ['/no/such/thing', '/constructor', '/__proto__', '/toString', '/hasOwnProperty?x=1', '/Delay/1'];
    for (const p of paths) expect(await text(p)).toBe(`404 not found: ${p.split('?')[0]}\n`);
    expect(server.stats().served).toBe(paths.length);
  });

  it('routes without arguments are 404 with one', async () => {
    for (const p of ['/endless/1', '/hang/1', '/reset/1', '/garbage/1', '/headers/1', '/echo/1', '/loop/c', '/loop/a/b', '//']) {
      expect((await get(p)).status).toBe(404);
    }
  });
});

describe('routes', () => {
  it('listens on a free port and reports a base URL without a trailing slash', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('/delay/:ms answers 200 after that long, and /stats times it', async () => {
    const t0 = performance.now();
    expect(await text('/delay/150')).toBe('200 delayed 150 ms\n');
    // Only lower bounds: timers never fire early, but CI can make them arbitrarily late.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
    const [entry] = server.stats().requests;
    expect(entry?.path).toBe('/delay/150');
    expect((entry?.finish as number) - (entry?.arrival as number)).toBeGreaterThanOrEqual(150 - TIMER_SLACK_MS);
  });

  it('/delay/:ms: a shorter delay sent later still finishes first, and the peak is 2', async () => {
    const long = get('/delay/400?i=long');
    await until(() => server.stats().served === 1, 'the long delay to arrive');
    await get('/delay/20?i=short');
    await long;
    const s = server.stats();
    expect(s.requests.map((r) => r.path)).toEqual(['/delay/400?i=long', '/delay/20?i=short']);
    const [a, b] = s.requests.map((r) => ({ arrival: r.arrival, finish: r.finish ?? Number.NaN }));
    expect(a?.arrival).toBeLessThan(b?.arrival as number);
    expect(b?.finish).toBeLessThan(a?.finish as number);
    expect({ served: s.served, peak: s.peak, inFlight: s.inFlight }).toEqual({ served: 2, peak: 2, inFlight: 0 });
  });

  it('/delay without one whole number is 400', async () => {
    for (const p of ['/delay', '/delay/', '/delay/x', '/delay/-1', '/delay/1.5', '/delay/1/2', '/delay/99999999999999999']) {
      expect(await text(p)).toBe('400 bad delay\n');
    }
  });

  it('/status/:code returns that status and its reason, inside 200..599 only', async () => {
    expect(await text('/status/404')).toBe('404 404 Not Found\n');
    expect(await text('/status/500?i=1')).toBe('500 500 Internal Server Error\n');
    expect((await get('/status/200')).status).toBe(200);
    expect((await get('/status/599')).status).toBe(599);
    for (const code of ['199', '600', '99', 'abc', '']) expect(await text(`/status/${code}`)).toBe('400 bad status\n');
  });

  it('/status/:code: 204, 205 and 304 carry no body', async () => {
    for (const code of [204, 205, 304]) {
      const res = await get(`/status/${code}`);
      expect({ status: res.status, length: res.body.length }).toEqual({ status: code, length: 0 });
    }
  });

  it('/status/:code adds Retry-After on request to 429 and 503 only', async () => {
    expect((await get('/status/429?retry-after=3')).headers['retry-after']).toBe('3');
    expect((await get('/status/503?retry-after=2')).headers['retry-after']).toBe('2');
    expect((await get('/status/500?retry-after=3')).headers['retry-after']).toBeUndefined();
    expect((await get('/status/429')).headers['retry-after']).toBeUndefined();
  });

  it('/bytes/:n sends exactly n bytes of the repeating pattern', async () => {
    const n = 200_000;
    const res = await get(`/bytes/${n}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(n));
    expect(res.body.toString('latin1')).toBe(pattern(n));
    expect((await get('/bytes/0')).body.length).toBe(0);
    expect((await get('/bytes/1')).body.toString()).toBe('a');
    expect(await text('/bytes/x')).toBe('400 bad byte count\n');
    expect(server.stats().served).toBe(4);
  });

  it('/bytes/:n answers HEAD with the length and no body', async () => {
    const res = await get('/bytes/5000000', { method: 'HEAD' });
    expect({ status: res.status, length: res.headers['content-length'], body: res.body.length }).toEqual({
      status: 200,
      length: '5000000',
      body: 0,
    });
  });

  it('/drip/:n/:ms sends exactly n pattern bytes, the first early and the last after ms', async () => {
    const t0 = performance.now();
    const res = await request(`${server.url}/drip/100/600`, { dispatcher: agent });
    expect(res.headers['content-length']).toBe('100');
    const chunks: Buffer[] = [];
    let first = 0;
    for await (const chunk of res.body) {
      first ||= performance.now() - t0;
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString('latin1');
    expect(body).toBe(pattern(100));
    // The first of 20 slices is due at 30 ms: it must not wait for the whole drip.
    expect(first).toBeLessThan(600);
    const [entry] = server.stats().requests;
    expect((entry?.finish as number) - (entry?.arrival as number)).toBeGreaterThanOrEqual(600 - TIMER_SLACK_MS);
  });

  it('/drip/:n/:ms: fewer bytes than slices, zero bytes, HEAD, and bad arguments', async () => {
    expect((await get('/drip/3/60')).body.toString()).toBe('abc');
    const empty = await get('/drip/0/100000');
    expect({ status: empty.status, length: empty.headers['content-length'], body: empty.body.length }).toEqual({
      status: 200,
      length: '0',
      body: 0,
    });
    const head = await get('/drip/10/100000', { method: 'HEAD' });
    expect({ status: head.status, length: head.headers['content-length'] }).toEqual({ status: 200, length: '10' });
    for (const p of ['/drip/5', '/drip/x/5', '/drip/5/x', '/drip/1/2/3']) expect(await text(p)).toBe('400 bad drip\n');
  });

  it('/endless keeps streaming the pattern until the client stops reading', async () => {
    const res = await request(`${server.url}/endless`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    const chunks: Buffer[] = [];
    let got = 0;
    for await (const chunk of res.body) {
      chunks.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got > 1_000_000) break;
    }
    expect(Buffer.concat(chunks).toString('latin1')).toBe(pattern(got));
    await until(() => server.stats().inFlight === 0, 'the server to see the client go');
    const head = await get('/endless', { method: 'HEAD' });
    expect({ status: head.status, body: head.body.length }).toEqual({ status: 200, body: 0 });
  });

  it('/redirect/:n takes exactly n relative hops to 200 ok, each one a request in /stats', async () => {
    let path = '/redirect/3';
    const seen: string[] = [];
    for (;;) {
      const res = await get(path);
      seen.push(`${res.status} ${path}`);
      if (res.status !== 302) break;
      expect(res.body.toString()).toBe(`redirecting to ${res.headers.location}\n`);
      path = String(res.headers.location);
    }
    expect(seen).toEqual(['302 /redirect/3', '302 /redirect/2', '302 /redirect/1', '200 /redirect/0']);
    expect(await text('/redirect/0')).toBe('200 ok\n');
    expect(server.stats().requests.map((r) => r.path)).toEqual(['/redirect/3', '/redirect/2', '/redirect/1', '/redirect/0', '/redirect/0']);
    expect(await text('/redirect/x')).toBe('400 bad redirect count\n');
  });

  it('/absolute-redirect/:n hops to a full URL on the same server', async () => {
    const res = await get('/absolute-redirect/2');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${server.url}/absolute-redirect/1`);
    expect(await text('/absolute-redirect/0')).toBe('200 ok\n');
  });

  it('/loop redirects to itself, /loop/a and /loop/b to each other', async () => {
    const to = async (p: string) => {
      const res = await get(p);
      return `${res.status} ${res.headers.location}`;
    };
    expect([await to('/loop'), await to('/loop/a'), await to('/loop/b')]).toEqual(['302 /loop', '302 /loop/b', '302 /loop/a']);
  });

  it('/flaky/:n fails n times per key with 503 and Retry-After: 0, then succeeds', async () => {
    const a = await get('/flaky/2?key=t1');
    const b = await get('/flaky/2?key=t1');
    const c = await get('/flaky/2?key=t1');
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.headers['retry-after']).toBe('0');
    expect(b.body.toString()).toBe('flaky: attempt 2 of 2 fails\n');
    expect(c.body.toString()).toBe('flaky: attempt 3 ok\n');
    // A different key has its own count.
    expect((await get('/flaky/2?key=t2')).status).toBe(503);
  });

  it('/flaky/:n?retry-after=s asks for that wait; anything but seconds is 0', async () => {
    expect((await get('/flaky/1?key=ra1&retry-after=7')).headers['retry-after']).toBe('7');
    expect((await get('/flaky/1?key=ra1&retry-after=7')).status).toBe(200);
    expect((await get('/flaky/1?key=ra2&retry-after=-1')).headers['retry-after']).toBe('0');
    expect((await get('/flaky/1?key=ra3&retry-after=soon')).headers['retry-after']).toBe('0');
  });

  it('/flaky/:n without a key counts per request target; 0 never fails; nonsense is 400', async () => {
    expect([await text('/flaky/1?i=own'), await text('/flaky/1?i=own')]).toEqual([
      '503 flaky: attempt 1 of 1 fails\n',
      '200 flaky: attempt 2 ok\n',
    ]);
    expect(await text('/flaky/0?i=zero')).toBe('200 flaky: attempt 1 ok\n');
    expect(await text('/flaky/x')).toBe('400 bad flaky count\n');
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

  it('/echo answers with the method, the headers, and the length and sha256 of the body it read', async () => {
    const body = Buffer.concat([Buffer.from('a=1&b=\r\n'), Buffer.alloc(70_000, 7)]);
    const res = await request(`${server.url}/echo?i=1`, {
      dispatcher: agent,
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/x-test' },
    });
    expect(res.statusCode).toBe(200);
    const json = (await res.body.json()) as { method: string; headers: Record<string, string>; length: number; sha256: string };
    expect(json).toMatchObject({ method: 'PUT', length: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    expect(json.headers['content-type']).toBe('application/x-test');
    expect(server.stats().requests.map((r) => r.path)).toEqual(['/echo?i=1']);
  });

  it('/hang never answers, so the client times out, and the server sees the client go', async () => {
    await expect(get('/hang', { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    // The close reaches the server asynchronously; wait for it rather than guessing a delay.
    await until(() => server.stats().inFlight === 0, 'the server to see the client go');
    expect(server.stats().requests[0]?.finish).not.toBeNull();
  });

  it('/reset cuts the connection mid-body, which the client sees as an error', async () => {
    await expect(get('/reset')).rejects.toThrow();
    expect(server.stats().served).toBe(1);
  });

  it('/garbage is not HTTP, which the client sees as an error', async () => {
    await expect(get('/garbage')).rejects.toThrow();
  });
});

describe('the stats log', () => {
  it('counts concurrency: 5 parallel delays give peak 5 and served 5', async () => {
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
    expect((await get('/stats/x')).status).toBe(404);
  });

  it('records user-agent and x- headers of each request', async () => {
    const res = await request(`${server.url}/status/200`, {
      dispatcher: agent,
      headers: { 'user-agent': 'ua-1', 'x-test': 'abc', 'x-other': 'def', accept: 'text/plain' },
    });
    await res.body.dump();
    const [entry] = server.stats().requests;
    expect(entry?.headers).toEqual({ 'user-agent': 'ua-1', 'x-test': 'abc', 'x-other': 'def' });
  });

  it('a reset while a request is open restarts the peak from it, not from 0', async () => {
    const ac = new AbortController();
    const hung = get('/hang', { signal: ac.signal }).catch(() => 'aborted');
    await until(() => server.stats().inFlight === 1, 'the hang to arrive');
    server.reset();
    expect(server.stats()).toEqual({ served: 0, inFlight: 1, peak: 1, requests: [] });
    await get('/status/200');
    expect(server.stats()).toMatchObject({ served: 1, inFlight: 1, peak: 2 });
    ac.abort();
    expect(await hung).toBe('aborted');
    await until(() => server.stats().inFlight === 0, 'the server to see the client go');
  });

  it('keeps only the last logCap requests, oldest first, while the counts stay exact', async () => {
    const own = await startServer({ logCap: 3 });
    try {
      for (let i = 0; i < 7; i++) await get(`/status/200?i=${i}`, { base: own.url });
      const s = own.stats();
      expect(s.served).toBe(7);
      expect(s.requests.map((r) => r.path)).toEqual(['/status/200?i=4', '/status/200?i=5', '/status/200?i=6']);
      own.reset();
      await get('/status/200?i=after', { base: own.url });
      expect(own.stats().requests.map((r) => r.path)).toEqual(['/status/200?i=after']);
    } finally {
      await own.close();
    }
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
    await until(() => own.stats().inFlight === 1, 'the hang to arrive');
    await own.close();
    expect(await pending).toBe('failed');
    await client.close();
  });
});

describe('fetchall serve', () => {
  let child: Running | undefined;
  afterEach(() => {
    child?.child.kill('SIGKILL');
    child = undefined;
  });

  const deadline = <T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref())]);

  it('prints its base URL as the first line, then the same route list GET / answers', async () => {
    child = start(['serve', '--port', '0'], { stdin: 'ignore' });
    const base = await deadline(child.waitFor(/^http:\/\/127\.0\.0\.1:\d+$/), 'the base URL');
    const last = Object.values(ROUTES).at(-1)?.usage as string;
    await deadline(child.waitFor(new RegExp(`^${last} `)), 'the route list');
    const listed = await get('/', { base });
    expect(child.stdout()).toBe(`${base}\n${listed.body.toString()}`);
    expect(child.stdout().split('\n')[0]).toBe(base);
    child.child.kill('SIGTERM');
    const done = await deadline(child.done, 'serve to stop');
    expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: 'fetchall serve: stopped\n' });
  });

  it('spawnServer (the demo witness) reads the URL past the route list and stops the child on close()', async () => {
    const witness = await spawnServer();
    try {
      expect(witness.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await get('/delay/10', { base: witness.url });
      expect((await witness.stats()).served).toBe(1);
      await witness.reset();
      expect((await witness.stats()).served).toBe(0);
    } finally {
      await witness.close();
    }
    await expect(get('/', { base: witness.url })).rejects.toThrow();
  });
});
