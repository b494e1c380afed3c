// A Host given with -H names the first origin's virtual host: it goes there and to same-origin
// redirects, never to another origin (which gets its own Host), in every mode, as curl does.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers/cli.js';

interface Origin {
  url: string;
  hosts: { path: string; host: string | undefined }[];
  server: Server;
}

function origin(route: (path: string) => string | null): Promise<Origin> {
  const o = { hosts: [] } as unknown as Origin;
  o.server = createServer((req, res) => {
    const path = req.url ?? '/';
    o.hosts.push({ path, host: req.headers.host });
    const location = route(path);
    res.writeHead(location ? 302 : 200, location ? { location } : {});
    res.end('ok\n');
  });
  return new Promise((resolve) =>
    o.server.listen(0, '127.0.0.1', () => {
      o.url = `http://127.0.0.1:${(o.server.address() as { port: number }).port}`;
      resolve(o);
    }),
  );
}

let a: Origin;
let b: Origin;
beforeAll(async () => {
  b = await origin(() => null);
  // /cross → B; /same → A.
  a = await origin((path) => {
    const [p, q = ''] = path.split('?');
    if (p === '/cross') return `${b.url}/seen?${q}`;
    if (p === '/same') return `/seen?${q}`;
    return null;
  });
});
afterAll(() => {
  for (const o of [a, b]) {
    o.server.closeAllConnections();
    o.server.close();
  }
});

const hostAt = (o: Origin, tag: string, path = '/seen') => o.hosts.find((h) => h.path === `${path}?${tag}`)?.host;

describe('-H Host: on redirects', () => {
  for (const mode of ['async', 'threads', 'processes', 'inline'] as const) {
    it(`${mode}: dropped on a hop to another origin, kept on a same-origin one`, async () => {
      const cross = `cross-${mode}`;
      const same = `same-${mode}`;
      const r = await run([
        '-m',
        mode,
        '-c',
        '2',
        '-f',
        'ndjson',
        '-q',
        '-H',
        'Host: vhost.test',
        `${a.url}/cross?${cross}`,
        `${a.url}/same?${same}`,
      ]);
      expect(ndjson(r.stdout).map((x) => x.status)).toEqual([200, 200]);
      expect(hostAt(a, cross, '/cross')).toBe('vhost.test');
      expect(hostAt(b, cross)).toBe(new URL(b.url).host);
      expect(hostAt(a, same)).toBe('vhost.test');
    });
  }
});
