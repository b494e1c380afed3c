// The HTTP rules every engine shares (src/core/rules.ts and errors.ts), each at its boundaries,
// and held end to end where an engine once had its own copy: the no-body rule, the fragment rule.

import { describe, expect, it } from 'vitest';
import { ERROR_CODES, fetchError, mapError, sizeError, TLS_CERT_CODES, timeoutError } from '../src/core/errors.js';
import {
  declaredTooLarge,
  hasBody,
  limitedBytes,
  originOf,
  parseRetryAfter,
  proxyFor,
  proxyUrl,
  redirectKey,
  redirectStep,
  statusError,
  withBodyType,
} from '../src/core/rules.js';
import type { ProxySettings } from '../src/core/types.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const MODES = ['async', 'threads', 'processes', 'inline'] as const;

describe('hasBody: the one no-body rule', () => {
  it('HEAD answers, 1xx, 204 and 304 have no body; anything else has one', () => {
    for (const status of [200, 201, 205, 301, 404, 500]) expect(hasBody('GET', status), `GET ${status}`).toBe(true);
    for (const status of [100, 101, 103, 199, 204, 304]) expect(hasBody('GET', status), `GET ${status}`).toBe(false);
    for (const status of [200, 404, 500]) expect(hasBody('HEAD', status), `HEAD ${status}`).toBe(false);
    expect(hasBody('POST', 200)).toBe(true);
  });

  it('a declared length is refused only above --max-size, and only when there is a body', () => {
    expect(declaredTooLarge('GET', 200, '1000', 1000)).toBe(false);
    expect(declaredTooLarge('GET', 200, '1001', 1000)).toBe(true);
    expect(declaredTooLarge('GET', 200, undefined, 1000)).toBe(false);
    expect(declaredTooLarge('HEAD', 200, '1001', 1000)).toBe(false);
    expect(declaredTooLarge('GET', 204, '1001', 1000)).toBe(false);
    expect(declaredTooLarge('GET', 304, '1001', 1000)).toBe(false);
  });

  it('a cut body counts the limit, never more', () => {
    expect(limitedBytes(999, 1000)).toBe(999);
    expect(limitedBytes(1000, 1000)).toBe(1000);
    expect(limitedBytes(65_536, 1000)).toBe(1000);
  });
});

describe('redirectStep', () => {
  const follow = (n: number, max: number) => {
    const visited = new Set([redirectKey('http://h/0')]);
    let url = 'http://h/0';
    const steps = [];
    for (let i = 1; i <= n; i++) {
      const step = redirectStep(302, `/${i}`, url, 'GET', visited, max);
      steps.push(step);
      if (step.kind !== 'follow') break;
      url = step.url;
    }
    return steps;
  };

  it('follows exactly --max-redirects hops and fails the next one', () => {
    expect(follow(2, 2).map((s) => s.kind)).toEqual(['follow', 'follow']);
    const three = follow(3, 2);
    expect(three.map((s) => s.kind)).toEqual(['follow', 'follow', 'fail']);
    expect(three[2]).toEqual({ kind: 'fail', error: fetchError('TOO_MANY_REDIRECTS', 'more than 2 redirects') });
    expect(follow(2, 1)[1]).toEqual({ kind: 'fail', error: fetchError('TOO_MANY_REDIRECTS', 'more than 1 redirect') });
  });

  it('returns the 3xx itself with --max-redirects 0, and any non-redirect status as final', () => {
    expect(redirectStep(302, '/x', 'http://h/', 'GET', new Set(), 0)).toEqual({ kind: 'final' });
    for (const status of [200, 300, 304, 305, 399]) expect(redirectStep(status, '/x', 'http://h/', 'GET', new Set(), 5).kind).toBe('final');
  });

  it('changes the method as browsers and curl do', () => {
    const method = (status: number, m: string) => {
      const step = redirectStep(status, '/x', 'http://h/', m, new Set(), 5);
      return step.kind === 'follow' ? step.method : step.kind;
    };
    expect(method(303, 'POST')).toBe('GET');
    expect(method(303, 'PUT')).toBe('GET');
    expect(method(301, 'POST')).toBe('GET');
    expect(method(302, 'POST')).toBe('GET');
    expect(method(301, 'PUT')).toBe('PUT');
    expect(method(307, 'POST')).toBe('POST');
    expect(method(308, 'POST')).toBe('POST');
  });

  it('the body goes where the method goes: kept by 307, 308 and a PUT after 301/302, dropped with a rewrite to GET', () => {
    const keeps = (status: number, m: string) => {
      const step = redirectStep(status, '/x', 'http://h/', m, new Set(), 5);
      return step.kind === 'follow' && step.keepBody;
    };
    expect([301, 302, 303, 307, 308].map((s) => keeps(s, 'POST'))).toEqual([false, false, false, true, true]);
    expect([301, 302, 303, 307, 308].map((s) => keeps(s, 'PUT'))).toEqual([true, true, false, true, true]);
  });

  it('fails a missing, unusable or non-HTTP Location', () => {
    const code = (location: string | undefined) => {
      const step = redirectStep(302, location, 'http://h/', 'GET', new Set(), 5);
      return step.kind === 'fail' ? step.error.code : step.kind;
    };
    expect(code(undefined)).toBe('BAD_REDIRECT');
    expect(code('')).toBe('BAD_REDIRECT');
    expect(code('http://[::1')).toBe('BAD_REDIRECT');
    expect(code('ftp://h/x')).toBe('BAD_REDIRECT');
    expect(code('https://other/x')).toBe('follow');
  });

  it('judges a loop without fragments, which never reach the server', () => {
    // The first URL's fragment: /a#top redirecting to /a is a loop at once.
    const first = 'http://h/a#top';
    const step = redirectStep(302, '/a', first, 'GET', new Set([redirectKey(first)]), 5);
    expect(step).toEqual({ kind: 'fail', error: fetchError('REDIRECT_LOOP', 'redirect loop: http://h/a visited twice') });
    // A Location's fragment: /b#x after /b is the same URL again.
    const visited = new Set([redirectKey('http://h/a')]);
    const toB = redirectStep(302, '/b', 'http://h/a', 'GET', visited, 5);
    expect(toB).toEqual({ kind: 'follow', url: 'http://h/b', method: 'GET', keepBody: true });
    expect(redirectStep(302, '/b#x', 'http://h/b', 'GET', visited, 5).kind).toBe('fail');
    // and the URL followed is the one requested: no fragment
    expect(redirectStep(302, '/c#x', 'http://h/b', 'GET', visited, 5)).toEqual({
      kind: 'follow',
      url: 'http://h/c',
      method: 'GET',
      keepBody: true,
    });
  });
});

describe('proxyFor: one proxy per URL, as curl picks it', () => {
  const P = 'http://proxy:3128';
  const via = (url: string, env: Record<string, string>, over: Partial<ProxySettings> = {}) =>
    proxyFor(url, { proxy: null, noProxy: false, env, ...over });

  it('takes the scheme’s variable, lower case first, an empty one as unset; host:port alone means http://', () => {
    expect(via('http://a/', { HTTP_PROXY: P })).toBe(P);
    expect(via('http://a/', { http_proxy: 'proxy:3128' })).toBe(P);
    expect(via('http://a/', { http_proxy: 'http://low:1', HTTP_PROXY: P })).toBe('http://low:1');
    expect(via('http://a/', { http_proxy: '', HTTP_PROXY: P })).toBe(P);
    expect(via('https://a/', { HTTP_PROXY: P })).toBeNull();
    expect(via('https://a/', { HTTPS_PROXY: P })).toBe(P);
    expect(via('https://a/', { https_proxy: P })).toBe(P);
    expect(via('http://a/', {})).toBeNull();
  });

  it('--proxy beats the environment, --no-proxy beats everything; credentials are kept for the proxy', () => {
    expect(via('http://a/', { HTTP_PROXY: 'http://env:1' }, { proxy: P })).toBe(P);
    expect(via('https://a/', {}, { proxy: 'http://u:p%40w@proxy:3128/ignored' })).toBe('http://u:p%40w@proxy:3128');
    expect(via('http://a/', { HTTP_PROXY: P }, { proxy: P, noProxy: true })).toBeNull();
  });

  it('NO_PROXY (either case): *, host names with their subdomains (a leading . or *. alike), ports, IP addresses and ranges', () => {
    const bypass = (url: string, list: string, name = 'NO_PROXY') => via(url, { HTTP_PROXY: P, HTTPS_PROXY: P, [name]: list }) === null;
    expect(bypass('http://anything/', '*')).toBe(true);
    expect(bypass('http://example.com/', 'example.com')).toBe(true);
    expect(bypass('http://www.Example.com./', 'example.com')).toBe(true);
    expect(bypass('http://notexample.com/', 'example.com')).toBe(false);
    expect(bypass('http://example.com/', '.example.com')).toBe(true);
    expect(bypass('http://a.example.com/', '*.example.com')).toBe(true);
    expect(bypass('http://a.example.com/', 'other.org, .example.com', 'no_proxy')).toBe(true);
    expect(bypass('http://example.com:8080/', 'example.com:8080')).toBe(true);
    expect(bypass('http://example.com/', 'example.com:8080')).toBe(false);
    expect(bypass('https://example.com/', 'example.com:443')).toBe(true);
    expect(bypass('http://127.0.0.1:9/', '127.0.0.1')).toBe(true);
    expect(bypass('http://127.0.0.2/', '127.0.0.1')).toBe(false);
    expect(bypass('http://10.1.2.3/', '10.0.0.0/8')).toBe(true);
    expect(bypass('http://11.1.2.3/', '10.0.0.0/8')).toBe(false);
    expect(bypass('http://[::1]:8080/', '::1')).toBe(true);
    expect(bypass('http://[::1]:8080/', '[::1]:8080')).toBe(true);
    expect(bypass('http://[fd00::5]/', 'fd00::/8')).toBe(true);
    expect(bypass('http://localhost/', '127.0.0.1')).toBe(false);
    expect(via('http://a.b/', { HTTP_PROXY: P, no_proxy: '', NO_PROXY: 'a.b' })).toBeNull();
  });

  it('NO_PROXY applies to --proxy too (as in curl)', () => {
    expect(via('http://local/', { NO_PROXY: 'local' }, { proxy: P })).toBeNull();
  });

  it('proxyUrl takes http proxies only and says why not', () => {
    expect(proxyUrl('proxy:8080')).toEqual({ url: 'http://proxy:8080' });
    expect(proxyUrl('socks5://p:1080')).toEqual({ reason: 'unsupported proxy scheme socks5: (only http:// proxies)' });
    expect(proxyUrl('http://')).toEqual({ reason: 'not a proxy URL' });
  });
});

describe('bodies and TLS errors', () => {
  it('a hop with the body carries its Content-Type unless -H named one; a hop without it carries none', () => {
    const base = { 'user-agent': 'x' };
    const bytes = Buffer.from('a=1');
    expect(withBodyType(base, { bytes, contentType: 'application/x-www-form-urlencoded' })).toEqual({
      'user-agent': 'x',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(withBodyType(base, { bytes, contentType: null })).toBe(base);
    expect(withBodyType(base, null)).toBe(base);
  });

  it('a certificate that fails verification keeps its code (undici’s tunnel wraps it); a refused CONNECT is PROXY_FAILED', () => {
    for (const code of Object.keys(TLS_CERT_CODES)) {
      expect(mapError(Object.assign(new Error('why'), { code })).code).toBe(code);
    }
    const wrapped = Object.assign(new Error('wrapped'), {
      code: 'UND_ERR_PRX_TLS',
      cause: Object.assign(new Error('Hostname/IP does not match'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
    });
    expect(mapError(wrapped)).toEqual({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: 'Hostname/IP does not match' });
    expect(mapError(new Error('Proxy response (407) !== 200 when HTTP Tunneling'))).toEqual({
      code: 'PROXY_FAILED',
      message: 'the proxy refused the tunnel: 407',
    });
    // A handshake that is not a certificate check is still TLS_FAILED.
    expect(
      mapError(Object.assign(new Error('write EPROTO ... SSL routines:ssl3_get_record:wrong version number'), { code: 'EPROTO' })).code,
    ).toBe('TLS_FAILED');
  });
});

describe('the other shared rules', () => {
  it('originOf: scheme, host and port; the text itself when it is no URL', () => {
    expect(originOf('http://h:80/a?b#c')).toBe('http://h');
    expect(originOf('http://h:8080/a')).toBe('http://h:8080');
    expect(originOf('https://u:p@h/a')).toBe('https://h');
    expect(originOf('not a url')).toBe('not a url');
  });

  it('parseRetryAfter: seconds or an HTTP date, else null', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(' 0 ', 0)).toBe(0);
    expect(parseRetryAfter(['2', '9'], 0)).toBe(2000);
    const at = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', at - 1500)).toBe(1500);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', at + 1500)).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBeNull();
    expect(parseRetryAfter(undefined, 0)).toBeNull();
  });

  it('statusError: 400 and above only', () => {
    expect(statusError(399)).toBeNull();
    expect(statusError(400)).toEqual({ code: 'HTTP_STATUS', message: '400 Bad Request' });
    expect(statusError(599)).toEqual({ code: 'HTTP_STATUS', message: '599' });
  });

  it('every code has a meaning and a default message; the shared wordings', () => {
    for (const [code, { meaning, message }] of Object.entries(ERROR_CODES)) {
      expect(meaning, code).not.toBe('');
      expect(fetchError(code as keyof typeof ERROR_CODES)).toEqual({ code, message });
    }
    expect(fetchError('ABORTED')).toEqual({ code: 'ABORTED', message: 'cancelled' });
    expect(fetchError('ECONNREFUSED', 'connect refused')).toEqual({ code: 'ECONNREFUSED', message: 'connect refused' });
    expect(timeoutError(1500)).toEqual({ code: 'TIMEOUT', message: 'no complete response within 1500 ms' });
    expect(sizeError(1000)).toEqual({ code: 'SIZE_LIMIT', message: 'body larger than 1000 bytes' });
  });
});

const ctx = useServer();

type Rec = { index: number; ok: boolean; status: number | null; bytes: number; error: { code: string } | null };

describe.each(MODES)('%s mode, end to end', (mode) => {
  it('a URL with a fragment that redirects to itself is a loop at the first hop', async () => {
    const before = ctx.server.stats().requests.filter((q) => q.path === '/loop').length;
    const r = await run(['-m', mode, '-f', 'ndjson', `${ctx.server.url}/loop#top`]);
    const [rec] = ndjson(r.stdout) as Rec[];
    expect(rec).toMatchObject({ ok: false, status: 302, error: { code: 'REDIRECT_LOOP' } });
    // one request: the fragment does not make /loop#top and /loop two URLs
    expect(ctx.server.stats().requests.filter((q) => q.path === '/loop').length - before).toBe(1);
  });

  it('HEAD with a Content-Length over --max-size succeeds: there is no body to refuse', async () => {
    const r = await run(['-m', mode, '-X', 'HEAD', '--max-size', '1000', '-f', 'ndjson', `${ctx.server.url}/bytes/5000`]);
    expect(r.code, r.stderr).toBe(0);
    expect(ndjson(r.stdout)).toMatchObject([{ ok: true, status: 200, bytes: 0, error: null }]);
  });
});
