// The HTTP rules every engine shares (src/core/rules.ts and errors.ts), each at its boundaries,
// and held end to end where an engine once had its own copy: the no-body rule, the fragment rule.

import { describe, expect, it } from 'vitest';
import { ERROR_CODES, fetchError, sizeError, timeoutError } from '../src/core/errors.js';
import {
  declaredTooLarge,
  hasBody,
  limitedBytes,
  originOf,
  parseRetryAfter,
  redirectKey,
  redirectStep,
  statusError,
} from '../src/core/rules.js';
import { ndjson, run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const MODES = ['async', 'threads', 'inline'] as const;

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
    expect(toB).toEqual({ kind: 'follow', url: 'http://h/b', method: 'GET' });
    expect(redirectStep(302, '/b#x', 'http://h/b', 'GET', visited, 5).kind).toBe('fail');
    // and the URL followed is the one requested: no fragment
    expect(redirectStep(302, '/c#x', 'http://h/b', 'GET', visited, 5)).toEqual({ kind: 'follow', url: 'http://h/c', method: 'GET' });
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
