// Credentials and redirects, in every mode: credential headers and URL credentials stay on the
// origin the user named; URL credentials that are not valid percent-encoding are one URL's business.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers/cli.js';

/** A loopback server that records every request's headers and answers per `route`. */
interface Origin {
  url: string;
  seen: { path: string; headers: IncomingHttpHeaders }[];
  route: (path: string) => { status: number; location?: string };
  server: Server;
}

function origin(): Promise<Origin> {
  const o = { seen: [], route: () => ({ status: 200 }) } as unknown as Origin;
  o.server = createServer((req, res) => {
    const path = req.url ?? '/';
    o.seen.push({ path, headers: req.headers });
    const { status, location } = o.route(path);
    res.writeHead(status, location ? { location, 'content-type': 'text/plain' } : { 'content-type': 'text/plain' });
    res.end(`${status} ${path}\n`);
  });
  return new Promise((resolve) =>
    o.server.listen(0, '127.0.0.1', () => {
      o.url = `http://127.0.0.1:${(o.server.address() as { port: number }).port}`;
      resolve(o);
    }),
  );
}

// Two ports on one host are two origins (origin = scheme + host + port).
let a: Origin;
let b: Origin;
beforeAll(async () => {
  [a, b] = await Promise.all([origin(), origin()]);
  // /cross → B; /same → A (relative Location); /abs → A (absolute Location); /bounce → B → back to A.
  a.route = (path) => {
    const [p, q = ''] = path.split('?');
    if (p === '/cross') return { status: 302, location: `${b.url}/seen?${q}` };
    if (p === '/same') return { status: 302, location: `/seen?${q}` };
    if (p === '/abs') return { status: 307, location: `${a.url}/seen?${q}` };
    if (p === '/bounce') return { status: 302, location: `${b.url}/back?${q}` };
    return { status: 200 };
  };
  b.route = (path) => {
    const [p, q = ''] = path.split('?');
    if (p === '/back') return { status: 302, location: `${a.url}/seen?${q}` };
    return { status: 200 };
  };
});
afterAll(() => {
  for (const o of [a, b]) {
    o.server.closeAllConnections();
    o.server.close();
  }
});

const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const credentials = (h: IncomingHttpHeaders | undefined) => Object.fromEntries(CREDENTIAL_HEADERS.map((k) => [k, h?.[k]]));
/** The headers the last request whose path has `tag` arrived with, at `o`. */
const seenAt = (o: Origin, tag: string) => o.seen.filter((s) => s.path.includes(tag) && s.path.startsWith('/seen')).at(-1)?.headers;
const basic = (raw: Buffer | string) => `Basic ${Buffer.from(raw).toString('base64')}`;
const authority = (url: string) => url.replace(/^http:\/\//, '');

describe.each(['async', 'threads', 'processes', 'inline'] as const)('%s mode', (mode) => {
  it('drops Authorization and Cookie (given with -H) on a hop to another origin, keeps them on the same origin; Proxy-Authorization reaches no origin', async () => {
    const t = `h-${mode}-${Date.now()}`;
    const r = await run([
      '-m',
      mode,
      '-f',
      'ndjson',
      '-H',
      'Authorization: Bearer s3cret',
      '-H',
      'Cookie: sid=abc',
      '-H',
      'Proxy-Authorization: Basic cHJveHk6cA==',
      '-H',
      'X-Keep: yes',
      `${a.url}/cross?${t}-cross`,
      `${a.url}/same?${t}-same`,
      `${a.url}/abs?${t}-abs`,
      `${a.url}/bounce?${t}-bounce`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(r.stdout).map((x) => x.status)).toEqual([200, 200, 200, 200]);
    // Proxy-Authorization is the proxy's: with no proxy it goes nowhere (test/proxy.test.ts has it at the proxy).
    const given = { authorization: 'Bearer s3cret', cookie: 'sid=abc', 'proxy-authorization': undefined };
    const none = { authorization: undefined, cookie: undefined, 'proxy-authorization': undefined };
    // The first hop carries them: the user named that origin.
    expect(credentials(a.seen.find((s) => s.path.includes(`${t}-cross`))?.headers)).toEqual(given);
    // Another origin never sees them; headers that are not credentials still go.
    expect(credentials(seenAt(b, `${t}-cross`))).toEqual(none);
    expect(seenAt(b, `${t}-cross`)?.['x-keep']).toBe('yes');
    // Same origin, by a relative or an absolute Location: kept.
    expect(credentials(seenAt(a, `${t}-same`))).toEqual(given);
    expect(credentials(seenAt(a, `${t}-abs`))).toEqual(given);
    // Once dropped they stay dropped, even when a later hop comes back to the first origin.
    expect(b.seen.some((s) => s.path.startsWith('/back') && s.path.includes(`${t}-bounce`))).toBe(true);
    expect(credentials(seenAt(a, `${t}-bounce`))).toEqual(none);
  });

  it('sends URL credentials as Basic auth on the same origin only', async () => {
    const t = `u-${mode}-${Date.now()}`;
    const withUser = (path: string) => `http://user:p%40ss@${authority(a.url)}${path}`;
    const r = await run([
      '-m',
      mode,
      '-f',
      'ndjson',
      withUser(`/cross?${t}-cross`),
      withUser(`/same?${t}-same`),
      withUser(`/abs?${t}-abs`),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const auth = basic('user:p@ss');
    expect(a.seen.find((s) => s.path.includes(`${t}-cross`))?.headers.authorization).toBe(auth);
    expect(seenAt(b, `${t}-cross`)?.authorization).toBeUndefined();
    expect(seenAt(a, `${t}-same`)?.authorization).toBe(auth);
    expect(seenAt(a, `${t}-abs`)?.authorization).toBe(auth);
  });

  it('sends URL credentials that are not valid percent-encoding as curl does, and fetches the rest', async () => {
    const t = `bad-${mode}-${Date.now()}`;
    const host = authority(a.url);
    const r = await run([
      '-m',
      mode,
      '-f',
      'ndjson',
      `http://%ZZ:x@${host}/seen?${t}-zz`,
      `${a.url}/seen?${t}-plain`,
      `http://a%C3:%E2%82%AC@${host}/seen?${t}-byte`,
    ]);
    expect(r.stderr).not.toMatch(/internal error|URIError|\bat \S+:\d+:\d+/);
    expect(r.code, r.stderr).toBe(0);
    expect(
      ndjson(r.stdout)
        .map((x) => [x.index, x.status, x.error])
        .sort(),
    ).toEqual([
      [0, 200, null],
      [1, 200, null],
      [2, 200, null],
    ]);
    // A '%' not followed by two hex digits goes as it is; a valid escape is its byte, UTF-8 or not.
    expect(seenAt(a, `${t}-zz`)?.authorization).toBe(basic('%ZZ:x'));
    expect(seenAt(a, `${t}-plain`)?.authorization).toBeUndefined();
    expect(seenAt(a, `${t}-byte`)?.authorization).toBe(basic(Buffer.from([0x61, 0xc3, 0x3a, 0xe2, 0x82, 0xac])));
  });
});
