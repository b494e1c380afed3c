// Proxies in every mode, through a loopback proxy written here (plain HTTP forwarding and CONNECT)
// that counts what passes; the target servers log which connection each request came on, so the
// proxy's count and the targets' logs must agree.

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MODES } from '../src/core/types.js';
import { ndjson, run } from './helpers/cli.js';

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const CA = `${TLS}ca.pem`;

interface Proxy {
  url: string;
  server: Server;
  /** Absolute-form request targets forwarded, with the Proxy-Authorization they came with. */
  forwarded: { url: string; auth: string | undefined }[];
  /** CONNECT targets tunnelled (or refused). */
  tunnels: { target: string; auth: string | undefined }[];
  /** Local ports of the proxy's own connections to targets: how a target tells proxied requests. */
  upstream: Set<number>;
}

/** A forwarding and tunnelling proxy; a CONNECT to blocked.invalid is refused with 403. */
async function startProxy(): Promise<Proxy> {
  const p = { forwarded: [], tunnels: [], upstream: new Set<number>() } as unknown as Proxy;
  const hopless = (h: IncomingHttpHeaders) => {
    const { 'proxy-authorization': _a, 'proxy-connection': _c, ...rest } = h;
    return rest;
  };
  p.server = createHttpServer((req, res) => {
    p.forwarded.push({ url: req.url!, auth: req.headers['proxy-authorization'] });
    const u = new URL(req.url!);
    const up = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: req.method, headers: hopless(req.headers), agent: false },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
    );
    up.on('socket', (s: Socket) => s.on('connect', () => p.upstream.add(s.localPort!)));
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  p.server.on('connect', (req, client: Socket, head: Buffer) => {
    p.tunnels.push({ target: req.url!, auth: req.headers['proxy-authorization'] });
    client.on('error', () => {});
    if (req.url!.startsWith('blocked.invalid:')) return void client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(':')), Number(req.url!.slice(req.url!.lastIndexOf(':') + 1))];
    const up = connect(port, host, () => {
      p.upstream.add(up.localPort!);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
  p.url = `http://127.0.0.1:${(p.server.address() as { port: number }).port}`;
  return p;
}

/** A target that logs each request's path and the client port it came from. */
interface Target {
  url: string;
  server: Server;
  log: { path: string; from: number; auth: string | undefined }[];
}

async function startTarget(secure: boolean): Promise<Target> {
  const t = { log: [] } as unknown as Target;
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    t.log.push({ path: req.url!, from: req.socket.remotePort!, auth: req.headers['proxy-authorization'] });
    res.end(`ok ${req.url}\n`);
  };
  t.server = secure
    ? createHttpsServer({ cert: readFileSync(`${TLS}server.pem`), key: readFileSync(`${TLS}server.key`) }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
  t.url = `${secure ? 'https' : 'http'}://127.0.0.1:${(t.server.address() as { port: number }).port}`;
  return t;
}

let proxy: Proxy;
let other: Proxy;
let web: Target;
let secure: Target;

beforeAll(async () => {
  [proxy, other, web, secure] = await Promise.all([startProxy(), startProxy(), startTarget(false), startTarget(true)]);
});
afterAll(() => {
  for (const s of [proxy, other, web, secure]) {
    s.server.closeAllConnections();
    s.server.close();
  }
});
beforeEach(() => {
  for (const p of [proxy, other]) {
    p.forwarded.length = 0;
    p.tunnels.length = 0;
    // An earlier test's upstream port, recycled by the kernel for a direct connection in this one,
    // would count it as proxied (seen in CI on a busy machine): each test counts its own.
    p.upstream.clear();
  }
});

/** Run with only these proxy variables in the environment (the test runner's own are cleared). */
const NO_ENV = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };
async function fetchAll(mode: string, urls: string[], flags: string[] = [], env: Record<string, string> = {}) {
  const r = await run(['-m', mode, '-c', '2', '-f', 'ndjson', ...flags, ...urls], { env: { ...NO_ENV, ...env } });
  const records = ndjson(r.stdout) as { url: string; ok: boolean; ms: number; error: { code: string; message: string } | null }[];
  expect(records, r.stderr).toHaveLength(urls.length);
  return records;
}

/** The target's log entries for these paths: which came through a proxy's connection, which not. */
const via = (t: Target, p: Proxy, tag: string) => {
  const mine = t.log.filter((e) => e.path.includes(tag));
  return { requests: mine.length, proxied: mine.filter((e) => p.upstream.has(e.from)).length };
};
const urls = (t: Target, tag: string, n = 3) => Array.from({ length: n }, (_, i) => `${t.url}/${tag}?i=${i}`);

describe.each(MODES)('%s mode', (mode) => {
  it('HTTP_PROXY is honoured: each http request is forwarded in absolute form, and the target saw them all come from the proxy', async () => {
    const tag = `env-http-${mode}`;
    const list = urls(web, tag);
    const records = await fetchAll(mode, list, [], { HTTP_PROXY: proxy.url });
    expect(records.every((r) => r.ok)).toBe(true);
    expect(proxy.forwarded.map((f) => f.url).sort()).toEqual([...list].sort());
    expect(via(web, proxy, tag)).toEqual({ requests: 3, proxied: 3 });
  });

  it('https_proxy (lower case) is honoured: https URLs go through a CONNECT tunnel, verified end to end with --cacert', async () => {
    const tag = `env-https-${mode}`;
    const records = await fetchAll(mode, urls(secure, tag, 2), ['--cacert', CA], { https_proxy: proxy.url });
    expect(records.every((r) => r.ok)).toBe(true);
    expect(proxy.forwarded).toEqual([]);
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.tunnels.map((t) => t.target))).toEqual(new Set([secure.url.replace('https://', '')]));
    expect(via(secure, proxy, tag)).toEqual({ requests: 2, proxied: 2 });
  });

  it('NO_PROXY=127.0.0.1 bypasses the proxy for that host', async () => {
    const tag = `bypass-${mode}`;
    const records = await fetchAll(mode, [...urls(web, tag, 2), ...urls(secure, tag, 1)], ['--cacert', CA], {
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: 'example.com, 127.0.0.1',
    });
    expect(records.every((r) => r.ok)).toBe(true);
    expect([proxy.forwarded, proxy.tunnels]).toEqual([[], []]);
    expect([via(web, proxy, tag), via(secure, proxy, tag)]).toEqual([
      { requests: 2, proxied: 0 },
      { requests: 1, proxied: 0 },
    ]);
  });

  it('--proxy overrides the environment, and its credentials go to the proxy as Proxy-Authorization', async () => {
    const tag = `flag-${mode}`;
    const withCreds = proxy.url.replace('http://', 'http://user:p%40ss@');
    const records = await fetchAll(mode, [...urls(web, tag, 2), ...urls(secure, tag, 1)], ['--proxy', withCreds, '--cacert', CA], {
      HTTP_PROXY: other.url,
      HTTPS_PROXY: other.url,
    });
    expect(records.every((r) => r.ok)).toBe(true);
    expect([other.forwarded, other.tunnels]).toEqual([[], []]);
    const auth = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    expect(proxy.forwarded.map((f) => f.auth)).toEqual([auth, auth]);
    expect(proxy.tunnels.map((t) => t.auth)).toEqual([auth]);
    expect([via(web, proxy, tag), via(secure, proxy, tag)]).toEqual([
      { requests: 2, proxied: 2 },
      { requests: 1, proxied: 1 },
    ]);
  });

  it("-H Proxy-Authorization goes to the proxy only (CONNECT, forwarded request), never to an origin; it wins over the proxy URL's credentials", async () => {
    const tag = `hdr-${mode}`;
    const secret = 'Bearer proxy-secret';
    const withCreds = proxy.url.replace('http://', 'http://user:pw@');
    const records = await fetchAll(
      mode,
      [...urls(web, tag, 2), ...urls(secure, tag, 1)],
      ['--proxy', withCreds, '--cacert', CA, '-H', `Proxy-Authorization: ${secret}`],
    );
    expect(records.every((r) => r.ok)).toBe(true);
    expect(proxy.forwarded.map((f) => f.auth)).toEqual([secret, secret]);
    expect(proxy.tunnels.map((t) => t.auth)).toEqual([secret]);
    const seen = [...web.log, ...secure.log].filter((e) => e.path.includes(tag));
    expect(seen).toHaveLength(3);
    expect(seen.map((e) => e.auth)).toEqual([undefined, undefined, undefined]);
  });

  it('-H Proxy-Authorization with no proxy (none set, or NO_PROXY) is not sent at all', async () => {
    const tag = `hdr-direct-${mode}`;
    const list = [...urls(web, tag, 2), ...urls(secure, tag, 1)];
    const flags = ['--cacert', CA, '-H', 'Proxy-Authorization: Basic c2VjcmV0'];
    const direct = await fetchAll(mode, list, flags);
    const bypass = await fetchAll(mode, list, flags, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect([...direct, ...bypass].every((r) => r.ok)).toBe(true);
    expect([proxy.forwarded, proxy.tunnels]).toEqual([[], []]);
    const seen = [...web.log, ...secure.log].filter((e) => e.path.includes(tag));
    expect(seen).toHaveLength(6);
    expect(seen.filter((e) => e.auth !== undefined)).toEqual([]);
  });

  it('--no-proxy ignores HTTP_PROXY and HTTPS_PROXY', async () => {
    const tag = `none-${mode}`;
    const records = await fetchAll(mode, [...urls(web, tag, 2), ...urls(secure, tag, 1)], ['--no-proxy', '--cacert', CA], {
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
    });
    expect(records.every((r) => r.ok)).toBe(true);
    expect([proxy.forwarded, proxy.tunnels]).toEqual([[], []]);
    expect(via(web, proxy, tag)).toEqual({ requests: 2, proxied: 0 });
  });

  it('a proxy that accepts and never answers: TIMEOUT at -t, for forwarding and for CONNECT alike', async () => {
    const silent = createNetServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const at = `127.0.0.1:${(silent.address() as { port: number }).port}`;
      const records = await fetchAll(mode, [`http://${at}/plain`, 'https://tunnel.invalid/'], ['-t', '1000'], {
        HTTP_PROXY: at,
        HTTPS_PROXY: at,
      });
      expect(records.map((r) => r.error)).toEqual([
        { code: 'TIMEOUT', message: 'no complete response within 1000 ms' },
        { code: 'TIMEOUT', message: 'no complete response within 1000 ms' },
      ]);
      // Ended by the deadline itself, not by the blocking client's stand-by timer 2 s after it.
      for (const r of records) expect(r.ms).toBeLessThan(2900);
    } finally {
      silent.close();
    }
  });

  it('a proxy that hangs up on the CONNECT: SOCKET_CLOSED at once, not at -t, after one CONNECT', async () => {
    let connects = 0;
    const rude = createNetServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        connects++;
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    try {
      const at = `http://127.0.0.1:${(rude.address() as { port: number }).port}`;
      const [rec] = await fetchAll(mode, ['https://tunnel.invalid/'], ['-t', '20000'], { HTTPS_PROXY: at });
      expect(rec!.error?.code).toBe('SOCKET_CLOSED');
      expect(rec!.ms).toBeLessThan(10_000);
      expect(connects).toBe(1);
    } finally {
      rude.close();
    }
  });

  it('a forwarding proxy that answers 407: HTTP_STATUS with status 407, as any status', async () => {
    const gate = createHttpServer((_req, res) => {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="x"' });
      res.end('auth');
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    try {
      const at = `http://127.0.0.1:${(gate.address() as { port: number }).port}`;
      const [rec] = await fetchAll(mode, [`${web.url}/auth407`], [], { HTTP_PROXY: at });
      expect({ status: (rec as unknown as { status: number | null }).status, code: rec!.error?.code }).toEqual({
        status: 407,
        code: 'HTTP_STATUS',
      });
    } finally {
      gate.closeAllConnections();
      gate.close();
    }
  });

  it('a CONNECT the proxy refuses is PROXY_FAILED with its status', async () => {
    const [rec] = await fetchAll(mode, ['https://blocked.invalid/x'], [], { HTTPS_PROXY: proxy.url });
    expect(rec!.error).toEqual({ code: 'PROXY_FAILED', message: 'the proxy refused the tunnel: 403' });
    expect(proxy.tunnels.map((t) => t.target)).toEqual(['blocked.invalid:443']);
  });
});

describe('proxy usage errors', () => {
  it('an unusable --proxy or proxy variable: one line naming it, exit 2', async () => {
    const flag = await run(['--proxy', 'socks5://127.0.0.1:1080', `${web.url}/`], { env: NO_ENV });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--proxy.*unsupported proxy scheme socks5: \(only http:\/\/ proxies\)/);
    const env = await run([`${web.url}/`], { env: { ...NO_ENV, HTTPS_PROXY: 'ftp://x' } });
    expect(env.code).toBe(2);
    expect(env.stderr.trim()).toBe(
      'fetchall: HTTPS_PROXY=ftp://x: unsupported proxy scheme ftp: (only http:// proxies) (--no-proxy ignores it)',
    );
  });
});
