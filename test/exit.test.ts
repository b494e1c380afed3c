// The exit status by value: every status, and the precedence between them that the CLI has
// always had (a signal's status stands; a failed write outweighs the rest; a closed stdout
// outweighs failed URLs).

import { describe, expect, it } from 'vitest';
import { failClass, fetchError, sizeError, timeoutError } from '../src/core/errors.js';
import { CLEAN, EXIT, getExitCode, type Outcome } from '../src/exit.js';

const code = (o: Partial<Outcome>) => getExitCode({ ...CLEAN, ...o });

describe('getExitCode', () => {
  it('keeps the documented table', () => {
    expect(EXIT).toEqual({ OK: 0, FAILED: 1, USAGE: 2, INTERNAL: 70, OUTPUT: 74, SIGINT: 130, EPIPE: 141, SIGTERM: 143 });
  });

  it.each<[string, Partial<Outcome>, number]>([
    ['nothing wrong', {}, 0],
    ['one URL failed', { failed: 1 }, 1],
    ['many failed', { failed: 1000 }, 1],
    ['the pool could not start', { fatal: true }, 1],
    ['a usage error', { usage: true }, 2],
    ['nothing to fetch', { nothingToFetch: true }, 2],
    ['an internal error', { internal: true }, 70],
    ['a failed write', { writeFailed: true }, 74],
    ['SIGINT', { stop: 'SIGINT' }, 130],
    ['SIGTERM', { stop: 'SIGTERM' }, 143],
    ['stdout closed', { stop: 'EPIPE' }, 141],
  ])('%s → %i', (_, o, expected) => {
    expect(code(o)).toBe(expected);
  });

  it.each<[string, Partial<Outcome>, number]>([
    // The user asked to stop: that status stands, even over output that could not be written.
    ['SIGINT beats a failed write', { stop: 'SIGINT', writeFailed: true, failed: 3 }, 130],
    ['SIGTERM beats a failed write', { stop: 'SIGTERM', writeFailed: true }, 143],
    ['SIGINT beats failed URLs', { stop: 'SIGINT', failed: 2 }, 130],
    // EPIPE is also the stop for a stdout whose write failed: the failure decides.
    ['a failed write beats a closed stdout', { stop: 'EPIPE', writeFailed: true }, 74],
    ['a closed stdout beats failed URLs', { stop: 'EPIPE', failed: 5 }, 141],
    ['a failed write beats failed URLs', { writeFailed: true, failed: 5 }, 74],
    ['a failed write beats a usage error (its message to /dev/full)', { usage: true, writeFailed: true }, 74],
    ['a failed write beats nothing to fetch', { nothingToFetch: true, writeFailed: true }, 74],
    ['a failed write beats an internal error', { internal: true, writeFailed: true }, 74],
    ['a usage error beats failed URLs', { usage: true, failed: 1 }, 2],
    ['an internal error beats a usage error', { internal: true, usage: true }, 70],
  ])('%s', (_, o, expected) => {
    expect(code(o)).toBe(expected);
  });

  it('is pure: the same outcome, the same status, the outcome untouched', () => {
    const o: Outcome = { ...CLEAN, failed: 2, stop: 'EPIPE' };
    const copy = structuredClone(o);
    expect(getExitCode(o)).toBe(getExitCode(o));
    expect(o).toEqual(copy);
    expect(CLEAN).toEqual({
      failed: 0,
      stop: null,
      writeFailed: false,
      usage: false,
      nothingToFetch: false,
      fatal: false,
      internal: false,
      failedBy: null,
      failOn: ['error', '4xx', '5xx'],
    });
  });
});

describe('--fail-on: which failed URLs count', () => {
  const by = (error: number, c4: number, c5: number) => ({ error, '4xx': c4, '5xx': c5 });

  it.each<[string, Partial<Outcome>, number]>([
    ['the default counts every class', { failed: 1, failedBy: by(0, 1, 0) }, 1],
    ['none: a 404 is data', { failed: 1, failedBy: by(0, 1, 0), failOn: [] }, 0],
    ['none: even a refused connection', { failed: 2, failedBy: by(1, 0, 1), failOn: [] }, 0],
    ['5xx: a 404 is data', { failed: 1, failedBy: by(0, 1, 0), failOn: ['5xx'] }, 0],
    ['5xx: a 500 fails', { failed: 2, failedBy: by(0, 1, 1), failOn: ['5xx'] }, 1],
    ['error: a refused port fails', { failed: 1, failedBy: by(1, 0, 0), failOn: ['error'] }, 1],
    ['error: statuses are data', { failed: 2, failedBy: by(0, 1, 1), failOn: ['error'] }, 0],
    ['4xx,5xx: a network error is data', { failed: 1, failedBy: by(1, 0, 0), failOn: ['4xx', '5xx'] }, 0],
    ['no classes known: every failure counts', { failed: 1, failedBy: null, failOn: [] }, 1],
    ['none does not hide a usage error', { usage: true, failed: 1, failedBy: by(0, 1, 0), failOn: [] }, 2],
    ['none does not hide a fatal start', { fatal: true, failOn: [] }, 1],
    ['none does not hide a signal', { stop: 'SIGINT', failOn: [] }, 130],
  ])('%s', (_, o, expected) => {
    expect(code(o)).toBe(expected);
  });
});

describe('failClass: the class a failed URL counts in', () => {
  it.each<[string, Parameters<typeof failClass>[0], string]>([
    ['a 404 on its status alone', { status: 404, error: fetchError('HTTP_STATUS', 'HTTP 404') }, '4xx'],
    ['a 499', { status: 499, error: fetchError('HTTP_STATUS', 'HTTP 499') }, '4xx'],
    ['a 500', { status: 500, error: fetchError('HTTP_STATUS', 'HTTP 500') }, '5xx'],
    ['a 503', { status: 503, error: fetchError('HTTP_STATUS', 'HTTP 503') }, '5xx'],
    // A failure that has a status is still an error when the status is not why it failed.
    ['a 200 cut by --max-size', { status: 200, error: sizeError(1000) }, 'error'],
    ['a 200 whose body timed out', { status: 200, error: timeoutError(500) }, 'error'],
    ['a 404 cut by --max-size', { status: 404, error: sizeError(10) }, 'error'],
    ['a 302 past --max-redirects', { status: 302, error: fetchError('TOO_MANY_REDIRECTS', 'more than 5 redirects') }, 'error'],
    ['a refused connection', { status: null, error: fetchError('ECONNREFUSED', 'connect refused') }, 'error'],
    ['a bad input line', { status: null, error: fetchError('BAD_INPUT', 'f:1: bad') }, 'error'],
  ])('%s', (_, r, expected) => {
    expect(failClass(r)).toBe(expected);
  });
});
