// The rules every engine shares, by value and at each boundary (beside rules.test.ts): redirects
// (the limit at N and N+1, loops, method rewriting, bad Locations), safe, unique and atomic saved
// files (engines/save.ts), Retry-After, the status that fails, error mapping, and where credentials go.

import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, fetchError, mapError } from '../src/core/errors.js';
import {
  hopHeaders,
  noResponse,
  parseRetryAfter,
  type RedirectStep,
  redirectStep,
  requestHeaders,
  statusError,
  withoutCredentials,
} from '../src/core/rules.js';
import type { RequestOptions } from '../src/core/types.js';
import { commitSync, discardSync, newSaveClaims, safeName, saveName, tempPath } from '../src/engines/save.js';
import { runId } from '../src/tempfiles.js';

const dir = mkdtempSync(join(tmpdir(), 'fetchall-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/**
 * Follow a chain of 302s as an engine does: `/r/N` redirects to `/r/N-1` until `/r/0` answers.
 * Returns the steps taken, ending with the first that is not a follow.
 */
function follow(hops: number, maxRedirects: number): RedirectStep[] {
  let url = `http://h/r/${hops}`;
  const visited = new Set([url]);
  const steps: RedirectStep[] = [];
  for (let n = hops; ; n--) {
    const step =
      n === 0
        ? redirectStep(200, undefined, url, 'GET', visited, maxRedirects)
        : redirectStep(302, `/r/${n - 1}`, url, 'GET', visited, maxRedirects);
    steps.push(step);
    if (step.kind !== 'follow') return steps;
    url = step.url;
  }
}

describe('redirectStep', () => {
  it('--max-redirects 2 follows two hops and fails the third', () => {
    expect(follow(2, 2).map((s) => s.kind)).toEqual(['follow', 'follow', 'final']);
    const three = follow(3, 2);
    expect(three.map((s) => s.kind)).toEqual(['follow', 'follow', 'fail']);
    expect(three[2]).toEqual({ kind: 'fail', error: { code: 'TOO_MANY_REDIRECTS', message: 'more than 2 redirects' } });
  });

  it.each([1, 3, 5])('--max-redirects %i follows that many hops and fails one more', (max) => {
    expect(follow(max, max).at(-1)!.kind).toBe('final');
    expect(follow(max, max)).toHaveLength(max + 1);
    const over = follow(max + 1, max);
    expect(over).toHaveLength(max + 1);
    expect(over.at(-1)).toEqual({
      kind: 'fail',
      error: { code: 'TOO_MANY_REDIRECTS', message: `more than ${max} redirect${max === 1 ? '' : 's'}` },
    });
  });

  it('--max-redirects 0 returns the 3xx itself, Location or not', () => {
    expect(redirectStep(302, '/x', 'http://h/', 'GET', new Set(['http://h/']), 0)).toEqual({ kind: 'final' });
    expect(redirectStep(301, undefined, 'http://h/', 'GET', new Set(['http://h/']), 0)).toEqual({ kind: 'final' });
  });

  it.each([200, 204, 300, 304, 305, 399, 404])('treats %i as final', (status) => {
    expect(redirectStep(status, '/x', 'http://h/', 'GET', new Set(['http://h/']), 5)).toEqual({ kind: 'final' });
  });

  it('resolves a relative Location against the current URL and records it as visited', () => {
    const visited = new Set(['http://h/a/b']);
    expect(redirectStep(307, '../c?d=1', 'http://h/a/b', 'PUT', visited, 5)).toEqual({
      kind: 'follow',
      url: 'http://h/c?d=1',
      method: 'PUT',
      keepBody: true,
    });
    expect([...visited]).toEqual(['http://h/a/b', 'http://h/c?d=1']);
    expect(redirectStep(308, 'https://other:8443/x', 'http://h/c', 'GET', visited, 5)).toEqual({
      kind: 'follow',
      url: 'https://other:8443/x',
      method: 'GET',
      keepBody: true,
    });
  });

  it('detects a loop, before the limit', () => {
    const visited = new Set(['http://h/loop']);
    expect(redirectStep(302, '/loop', 'http://h/loop', 'GET', visited, 5)).toEqual({
      kind: 'fail',
      error: { code: 'REDIRECT_LOOP', message: 'redirect loop: http://h/loop visited twice' },
    });
    // a → b → a with a limit of 1: the loop is named, not the limit
    const ab = new Set(['http://h/a']);
    expect(redirectStep(302, '/b', 'http://h/a', 'GET', ab, 1).kind).toBe('follow');
    expect(redirectStep(302, '/a', 'http://h/b', 'GET', ab, 1)).toMatchObject({ kind: 'fail', error: { code: 'REDIRECT_LOOP' } });
  });

  it.each([
    [301, 'POST', 'GET'],
    [302, 'POST', 'GET'],
    [303, 'POST', 'GET'],
    [301, 'GET', 'GET'],
    [301, 'PUT', 'PUT'],
    [302, 'DELETE', 'DELETE'],
    [303, 'PUT', 'GET'],
    [303, 'DELETE', 'GET'],
    [303, 'GET', 'GET'],
    // a 303 turns a request into a retrieval, and HEAD already is one (RFC 9110 15.4.4, Fetch)
    [303, 'HEAD', 'HEAD'],
    [301, 'HEAD', 'HEAD'],
    [307, 'POST', 'POST'],
    [308, 'POST', 'POST'],
    [307, 'PATCH', 'PATCH'],
  ])('%i after %s goes on with %s', (status, method, next) => {
    expect(redirectStep(status, '/next', 'http://h/', method, new Set(['http://h/']), 5)).toEqual({
      kind: 'follow',
      url: 'http://h/next',
      method: next,
      // the body goes on only with the method it was sent with
      keepBody: next === method,
    });
  });

  it('fails a redirect without a Location, with an unusable one, or to another scheme', () => {
    const step = (location: string | undefined, status = 302) =>
      redirectStep(status, location, 'http://h/', 'GET', new Set(['http://h/']), 5);
    expect(step(undefined)).toEqual({ kind: 'fail', error: { code: 'BAD_REDIRECT', message: '302 without a Location header' } });
    expect(step('', 301)).toEqual({ kind: 'fail', error: { code: 'BAD_REDIRECT', message: '301 without a Location header' } });
    expect(step('http://[::1')).toEqual({ kind: 'fail', error: { code: 'BAD_REDIRECT', message: 'unusable Location: "http://[::1"' } });
    const long = `http://[${'x'.repeat(200)}`;
    expect(step(long)).toEqual({
      kind: 'fail',
      error: { code: 'BAD_REDIRECT', message: `unusable Location: ${JSON.stringify(long.slice(0, 80))}` },
    });
    expect(step('ftp://h/file')).toEqual({ kind: 'fail', error: { code: 'BAD_REDIRECT', message: 'redirect to unsupported scheme ftp:' } });
    expect(step('javascript:alert(1)')).toEqual({
      kind: 'fail',
      error: { code: 'BAD_REDIRECT', message: 'redirect to unsupported scheme javascript:' },
    });
    expect(step('HTTPS://H/x')).toEqual({ kind: 'follow', url: 'https://h/x', method: 'GET', keepBody: true });
  });
});

describe('safeName', () => {
  it('keeps a readable part of the URL and ends with a hash of the whole URL', () => {
    const url = 'https://example.com/a/b.html?q=1';
    expect(safeName(url)).toBe(`example.com_a_b.html_q_1-${hash(url)}`);
    expect(safeName('HTTP://h:80/')).toBe(`h_80-${hash('HTTP://h:80/')}`);
  });

  it.each([
    'http://h/../../etc/passwd',
    'http://h/..%2F..%2Fetc',
    'http://h/a\\b',
    'http://h/\u0000\r\n\t',
    'http://h/.hidden',
    'http://h/-dash-',
    'http://h/_._',
    'http://h/.../...',
    'http://h/日本語',
  ])('makes a safe name of %j', (url) => {
    const name = safeName(url);
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{12}$|^body-[0-9a-f]{12}$/);
    expect(name).not.toContain('..');
    expect(name.endsWith(`-${hash(url)}`)).toBe(true);
  });

  it('leaves credentials out of the name and out of its hash: names are readable by every user', () => {
    const name = safeName('http://alice:S3cretPW@127.0.0.1:8080/bytes/10');
    expect(name).toBe(`127.0.0.1_8080_bytes_10-${hash('http://127.0.0.1:8080/bytes/10')}`);
    expect(safeName('https://tok@h/x')).toBe(safeName('https://h/x'));
    // an @ in the path or query is not userinfo
    expect(safeName('http://h/a@b?c=d@e')).toBe(`h_a_b_c_d_e-${hash('http://h/a@b?c=d@e')}`);
  });

  it('names a URL with nothing readable "body"', () => {
    expect(safeName('http://')).toBe(`body-${hash('http://')}`);
    expect(safeName('http://../..')).toBe(`body-${hash('http://../..')}`);
  });

  it('keeps 80 readable characters, then cuts, never ending on a separator', () => {
    const eighty = `http://${'a'.repeat(80)}`;
    expect(safeName(eighty)).toBe(`${'a'.repeat(80)}-${hash(eighty)}`);
    const more = `http://${'a'.repeat(79)}bc`;
    expect(safeName(more)).toBe(`${'a'.repeat(79)}b-${hash(more)}`);
    const cutAtDot = `http://${'a'.repeat(78)}.xyz`;
    expect(safeName(cutAtDot)).toBe(`${'a'.repeat(78)}.x-${hash(cutAtDot)}`);
    const dotAt80 = `http://${'a'.repeat(79)}.yz`;
    expect(safeName(dotAt80)).toBe(`${'a'.repeat(79)}-${hash(dotAt80)}`);
    expect(safeName(`http://${'b'.repeat(3000)}`)).toHaveLength(80 + 13);
  });

  it('collapses runs of unsafe characters and dots, and trims separators at both ends', () => {
    const name = (url: string) => safeName(url).slice(0, -13);
    expect(name('http://h/a??b')).toBe('h_a_b');
    expect(name('http://h/a..b')).toBe('h_a.b');
    expect(name('http://h/a....b')).toBe('h_a.b');
    expect(name('http://__-a-__')).toBe('a');
    expect(name('http://..a..')).toBe('a');
    // only a leading scheme is dropped
    expect(name('ab/ftp://c')).toBe('ab_ftp_c');
    // cut at 80, then every separator the cut left at the end goes
    expect(name(`http://${'a'.repeat(78)}._x`)).toBe('a'.repeat(78));
  });

  it('gives URLs that read the same different names', () => {
    const urls = ['http://h/a?x=1', 'http://h/a?x_1', 'http://h/a/x/1', 'https://h/a?x=1', 'http://h/a?x=1#f'];
    expect(new Set(urls.map(safeName)).size).toBe(urls.length);
  });
});

describe('saveName, commitSync and discardSync', () => {
  /** A body as the helper leaves it: streamed to the record's temporary file, not yet in place. */
  const stream = (out: string, url: string, index: number, body: string) => {
    const tmp = tempPath(out, safeName(url), index);
    writeFileSync(tmp, body, { flag: 'wx' });
    return tmp;
  };

  it('gives the first record of a URL its name and a later one the name with its index', () => {
    const claims = newSaveClaims();
    expect(saveName(claims, 'http://h/a', 0)).toBe(safeName('http://h/a'));
    expect(saveName(claims, 'http://h/b', 1)).toBe(safeName('http://h/b'));
    expect(saveName(claims, 'http://h/a', 2)).toBe(`${safeName('http://h/a')}-2`);
    expect(saveName(claims, 'http://h/a', 3)).toBe(`${safeName('http://h/a')}-3`);
    // without a claims table every record of a URL takes the plain name
    expect(saveName(null, 'http://h/a', 4)).toBe(safeName('http://h/a'));
  });

  it('claims from a table of about a million names', () => {
    expect(newSaveClaims().byteLength).toBe(8 * 2 ** 20);
  });

  it('moves a body from its temporary file, named by pid, run and index, into a file of its own', () => {
    expect(runId()).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{8}$`));
    expect(tempPath('/d', 'n', 7)).toBe(`/d/.n.${runId()}.7.part`);
    const out = mkdtempSync(join(dir, 'commit-'));
    const claims = newSaveClaims();
    const first = commitSync(out, 'http://h/saved', 0, stream(out, 'http://h/saved', 0, 'one'), claims);
    const second = commitSync(out, 'http://h/saved', 1, stream(out, 'http://h/saved', 1, 'two'), claims);
    expect(first).toBe(join(out, safeName('http://h/saved')));
    expect(second).toBe(join(out, `${safeName('http://h/saved')}-1`));
    expect(readFileSync(first, 'utf8')).toBe('one');
    expect(readFileSync(second, 'utf8')).toBe('two');
    expect(readdirSync(out).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('never replaces a file an earlier run (or another shard) holds: the body takes the name with its index, then with the run', () => {
    const out = mkdtempSync(join(dir, 'atomic-'));
    const name = join(out, safeName('http://h/x'));
    writeFileSync(name, 'an earlier run');
    const tmp = stream(out, 'http://h/x', 0, 'new');
    expect(commitSync(out, 'http://h/x', 0, tmp)).toBe(`${name}-0`);
    expect(readFileSync(name, 'utf8')).toBe('an earlier run');
    expect(readFileSync(`${name}-0`, 'utf8')).toBe('new');
    expect(existsSync(tmp)).toBe(false);
    // both taken: the run's id makes the name its own
    expect(commitSync(out, 'http://h/x', 0, stream(out, 'http://h/x', 0, 'newer'))).toBe(`${name}-0-${runId()}`);
    expect(readFileSync(`${name}-0`, 'utf8')).toBe('new');
    // a name that already has its index (the run's table held the bare one) never gets it twice
    const claims = newSaveClaims();
    expect(saveName(claims, 'http://h/y', 0)).toBe(safeName('http://h/y'));
    const y = join(out, safeName('http://h/y'));
    writeFileSync(`${y}-3`, 'an earlier run');
    expect(commitSync(out, 'http://h/y', 3, stream(out, 'http://h/y', 3, 'again'), claims)).toBe(`${y}-3-${runId()}`);
  });

  it('never writes through a symlink planted at the name: the link and its target stay, the body takes another name', () => {
    const out = mkdtempSync(join(dir, 'planted-'));
    const target = join(mkdtempSync(join(dir, 'elsewhere-')), 'target');
    writeFileSync(target, 'keep');
    const planted = join(out, safeName('http://h/p'));
    symlinkSync(target, planted);
    expect(commitSync(out, 'http://h/p', 0, stream(out, 'http://h/p', 0, 'evil'))).toBe(`${planted}-0`);
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
    expect(lstatSync(`${planted}-0`).isSymbolicLink()).toBe(false);
    expect(readFileSync(`${planted}-0`, 'utf8')).toBe('evil');
    expect(readFileSync(target, 'utf8')).toBe('keep');
  });

  it('removes its temporary file when the rename fails', () => {
    const out = mkdtempSync(join(dir, 'rename-'));
    // every name the body could take is held by a directory
    const name = safeName('http://h/r');
    for (const n of [name, `${name}-0`, `${name}-0-${runId()}`]) mkdirSync(join(out, n, 'inside'), { recursive: true });
    let err: (Error & { code?: string }) | null = null;
    try {
      commitSync(out, 'http://h/r', 0, stream(out, 'http://h/r', 0, 'x'));
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('WRITE_FAILED');
    expect(err?.message).toMatch(/^cannot save body: every name for this body is taken in /);
    expect(readdirSync(out).sort()).toEqual([name, `${name}-0`, `${name}-0-${runId()}`].sort());
  });

  it('fails with WRITE_FAILED when the directory is missing, creating nothing', () => {
    const missing = join(dir, 'no-such-dir');
    let err: (Error & { code?: string }) | null = null;
    try {
      commitSync(missing, 'http://h/x', 0, join(missing, '.x.part'));
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('WRITE_FAILED');
    expect(err?.message).toMatch(/^cannot save body: ENOENT/);
    expect(existsSync(missing)).toBe(false);
  });

  it('discards a temporary file, and one already gone is fine', () => {
    const out = mkdtempSync(join(dir, 'discard-'));
    const tmp = stream(out, 'http://h/d', 0, 'x');
    discardSync(tmp);
    expect(readdirSync(out)).toEqual([]);
    expect(() => discardSync(tmp)).not.toThrow();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it('reads seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });

  it('reads an HTTP date as the time left until it, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:00 GMT', now)).toBe(0);
  });

  it.each([undefined, '', [], 'soon', '-1s', '1.5s', 'in 5 minutes', 'x5', '5 x'])('ignores %j', (value) => {
    expect(parseRetryAfter(value as string | string[] | undefined, now)).toBeNull();
  });
});

describe('statusError', () => {
  it('passes 399 and fails 400 and above with the status text', () => {
    expect(statusError(200)).toBeNull();
    expect(statusError(399)).toBeNull();
    expect(statusError(400)).toEqual({ code: 'HTTP_STATUS', message: '400 Bad Request' });
    expect(statusError(404)).toEqual({ code: 'HTTP_STATUS', message: '404 Not Found' });
    expect(statusError(503)).toEqual({ code: 'HTTP_STATUS', message: '503 Service Unavailable' });
    expect(statusError(599)).toEqual({ code: 'HTTP_STATUS', message: '599' });
  });
});

describe('mapError', () => {
  it.each([
    [{ code: 'TIMEOUT', message: 'took 5 s' }, 'TIMEOUT', 'took 5 s'],
    [{ code: 'SIZE_LIMIT', message: 'body larger than 10 bytes\nat x' }, 'SIZE_LIMIT', 'body larger than 10 bytes'],
    [new Error('socket hang up'), 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    [{ code: 'UND_ERR_SOCKET', message: 'other side closed' }, 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    [{ message: 'aborted' }, 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    [{ message: 'Premature close' }, 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    [{ code: 'UND_ERR_SOCKET', message: 'x' }, 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' }, 'ECONNREFUSED', 'connect refused'],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'ECONNRESET', 'connection reset by peer'],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND x' }, 'ENOTFOUND', 'host not found'],
    [{ code: 'EAI_AGAIN', message: 'x' }, 'EAI_AGAIN', 'DNS lookup failed (temporary)'],
    [{ code: 'EHOSTUNREACH', message: 'x' }, 'EHOSTUNREACH', 'host unreachable'],
    [{ code: 'ENETUNREACH', message: 'x' }, 'ENETUNREACH', 'network unreachable'],
    [{ code: 'ETIMEDOUT', message: 'x' }, 'ETIMEDOUT', 'connect timed out'],
    [{ code: 'EPIPE', message: 'x' }, 'EPIPE', 'connection closed while sending'],
    [{ code: 'ECONNABORTED', message: 'x' }, 'ECONNABORTED', 'connection aborted'],
    // the cause's system code wins over a wrapper's own code
    [{ code: 'UND_ERR_CONNECT', message: 'fetch failed', cause: { code: 'ECONNREFUSED' } }, 'ECONNREFUSED', 'connect refused'],
    [{ message: 'fetch failed', cause: { code: 'ENOTFOUND' } }, 'ENOTFOUND', 'host not found'],
    [{ code: 'HPE_INVALID_CONSTANT', message: 'Expected HTTP/' }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    [{ message: 'Parse Error: Expected HTTP/' }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    [{ code: 'UND_ERR_INFO', message: 'x' }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    [{ message: 'Invalid header value char' }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    [{ message: 'invalid status code' }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    [{ message: 'Response does not match the HTTP/1.1 protocol' }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    [{ code: 'EWEIRD', message: 'something odd' }, 'EWEIRD', 'something odd'],
    [{ code: 'ERR_x', message: 'lower case is no system code' }, 'REQUEST_FAILED', 'lower case is no system code'],
    [new Error('first line\nsecond line'), 'REQUEST_FAILED', 'first line'],
    ['a string', 'REQUEST_FAILED', 'a string'],
    [null, 'REQUEST_FAILED', 'null'],
    [{ code: 42, message: 7 }, 'REQUEST_FAILED', '[object Object]'],
    // a hang-up reads as SOCKET_CLOSED whatever the code, so every mode reports it the same
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    [{ code: 'ECONNRESET', message: 'aborted' }, 'SOCKET_CLOSED', 'connection closed before the response was complete'],
    // …but only a message that is exactly 'aborted'
    [{ code: 'ECONNRESET', message: 'request aborted' }, 'ECONNRESET', 'connection reset by peer'],
    [{ code: 'ECONNABORTED', message: 'aborted by peer' }, 'ECONNABORTED', 'connection aborted'],
    // the cause's code counts for a protocol error too
    [{ message: 'fetch failed', cause: { code: 'HPE_INVALID_HEADER_TOKEN' } }, 'PROTOCOL_ERROR', 'reply is not valid HTTP'],
    // a system code is E and capitals only, from the start
    [{ code: 'UND_ERR_CONNECT', message: 'connect failed' }, 'REQUEST_FAILED', 'connect failed'],
  ])('%j → %s', (err, code, message) => {
    expect(mapError(err)).toEqual({ code, message });
  });

  it('knows every stable code by a description', () => {
    for (const [code, { meaning, message }] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(meaning.length).toBeGreaterThan(10);
      expect(message.length).toBeGreaterThan(5);
      expect(fetchError(code as keyof typeof ERROR_CODES)).toEqual({ code, message });
    }
    expect(fetchError('X', 'y')).toEqual({ code: 'X', message: 'y' });
  });
});

describe('noResponse', () => {
  it('is an attempt with no status, no bytes, the error, ending now', () => {
    const before = performance.timeOrigin + performance.now();
    const r = noResponse(5, { code: 'ABORTED', message: 'cancelled' }, 3);
    expect(r).toMatchObject({ status: null, bytes: 0, start: 5, worker: 3, error: { code: 'ABORTED' }, file: null, retryAfterMs: null });
    expect(r.end).toBeGreaterThanOrEqual(before);
    expect(noResponse(5, { code: 'X', message: '' }).worker).toBeNull();
  });
});

describe('request headers and credentials', () => {
  const opts = (headers: [string, string][], userAgent = 'fetchall/1'): RequestOptions => ({
    method: 'GET',
    headers,
    userAgent,
    timeoutMs: 1000,
    maxRedirects: 5,
    maxSize: 1000,
    outputDir: null,
    saveClaims: null,
    body: null,
    proxy: { proxy: null, noProxy: false, env: {} },
    insecure: false,
    cacert: null,
  });

  it('sends -A, then -H in order, joining repeats; a -H User-Agent replaces -A', () => {
    expect(requestHeaders(opts([]))).toEqual({ 'user-agent': 'fetchall/1' });
    expect(
      requestHeaders(
        opts([
          ['X-A', '1'],
          ['x-a', '2'],
          ['User-Agent', 'mine'],
          ['user-agent', 'last'],
        ]),
      ),
    ).toEqual({ 'user-agent': 'last', 'x-a': '1, 2' });
    const o = opts([['X', 'y']]);
    expect(requestHeaders(o)).toBe(requestHeaders(o));
  });

  it('turns URL credentials into Basic auth on the first origin only', () => {
    const first = new URL('http://us%20er:p%3Ass@h/');
    const basic = `Basic ${Buffer.from('us er:p:ss').toString('base64')}`;
    expect(hopHeaders({ a: '1' }, first, first, false)).toEqual({ a: '1', authorization: basic });
    // a hop on the same origin naming no user keeps the first URL's
    expect(hopHeaders({}, first, new URL('http://h/next'), false)).toEqual({ authorization: basic });
    // one naming its own user uses that
    expect(hopHeaders({}, first, new URL('http://other@h/next'), false)).toEqual({
      authorization: `Basic ${Buffer.from('other:').toString('base64')}`,
    });
    // -H Authorization wins over URL credentials
    expect(hopHeaders({ authorization: 'Bearer t' }, first, first, false)).toEqual({ authorization: 'Bearer t' });
    // no credentials anywhere: the headers as given, the same object
    const base = { x: '1' };
    expect(hopHeaders(base, new URL('http://h/'), new URL('http://h/'), false)).toBe(base);
  });

  it('decodes %XX in credentials as bytes and leaves a stray % as it is', () => {
    const first = new URL('http://a%ffb:%zz%@h/');
    const token = Buffer.concat([Buffer.from('a'), Buffer.from([0xff]), Buffer.from('b:%zz%')]).toString('base64');
    expect(hopHeaders({}, first, first, false)).toEqual({ authorization: `Basic ${token}` });
  });

  it('drops a lone cookie too once a redirect has left the origin', () => {
    expect(hopHeaders({ cookie: 'c=1', x: '1' }, new URL('http://h/'), new URL('http://elsewhere/'), true)).toEqual({ x: '1' });
  });

  it('keeps them dropped when a later hop comes back to the first origin', () => {
    const first = new URL('http://u:p@h/');
    const base = { authorization: 'Bearer t', cookie: 'c=1', host: 'vhost', x: '1' };
    // left: an earlier hop was on another origin; this one is on the first origin again.
    expect(hopHeaders(base, first, new URL('http://h/back'), true)).toEqual({ x: '1' });
    expect(hopHeaders({}, first, new URL('http://u:p@h/back'), true)).toEqual({});
  });

  it('drops every credential header once a redirect has left the origin', () => {
    const base = { authorization: 'Bearer t', cookie: 'c=1', 'proxy-authorization': 'p', x: '1' };
    expect(hopHeaders(base, new URL('http://u:p@h/'), new URL('http://elsewhere/'), true)).toEqual({ x: '1' });
    expect(base.authorization).toBe('Bearer t');
    const plain = { x: '1' };
    expect(hopHeaders(plain, new URL('http://u:p@h/'), new URL('http://elsewhere/'), true)).toBe(plain);
  });

  it('never puts credentials in the URL on the wire', () => {
    expect(withoutCredentials(new URL('http://u:p@h/x?y#z'))).toBe('http://h/x?y#z');
    expect(withoutCredentials(new URL('http://u@h/'))).toBe('http://h/');
    expect(withoutCredentials(new URL('http://:p@h/'))).toBe('http://h/');
    expect(withoutCredentials(new URL('http://h/'))).toBe('http://h/');
  });
});
