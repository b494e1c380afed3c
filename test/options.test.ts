// The flag parsers (src/options.ts) at each boundary: the last value accepted, the first refused,
// and the one-line message that names the flag.

import { describe, expect, it } from 'vitest';
import { FatalError, UsageError } from '../src/core/errors.js';
import { CLEAN, getExitCode } from '../src/exit.js';
import {
  checkPoolSize,
  MAX_POOL,
  MAX_TIMER_MS,
  parseDuration,
  parseHeader,
  parseIntFlag,
  parseMethod,
  parseMode,
  parseModes,
  parseSize,
} from '../src/options.js';

/**
 * The UsageError `f` throws (cli.ts makes it a usage outcome, exit status 2): its message, checked
 * to be one line that starts with the flag it names.
 */
function usage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const { message, flag } = err as UsageError;
    expect(message).not.toContain('\n');
    expect(message.startsWith(`${flag}: `)).toBe(true);
    return message;
  }
  throw new Error('expected a UsageError, got none');
}

describe('error classes', () => {
  it('end a run with their exit status: a usage error 2, a fatal one 1', () => {
    expect(getExitCode({ ...CLEAN, usage: true })).toBe(2);
    expect(getExitCode({ ...CLEAN, fatal: true })).toBe(1);
    expect(new UsageError({ flag: '-x', reason: 'r' })).toBeInstanceOf(Error);
    expect(new FatalError('x')).toBeInstanceOf(Error);
  });
});

describe('parseIntFlag', () => {
  it('accepts min and max, refuses min-1 and max+1', () => {
    expect(parseIntFlag('-c', '1', 1, 64)).toBe(1);
    expect(parseIntFlag('-c', '64', 1, 64)).toBe(64);
    expect(parseIntFlag('-c', '2', 1, 64)).toBe(2);
    expect(parseIntFlag('-c', '63', 1, 64)).toBe(63);
    expect(usage(() => parseIntFlag('-c', '0', 1, 64))).toBe('-c: must be 1..64, got 0');
    expect(usage(() => parseIntFlag('-c', '65', 1, 64))).toBe('-c: must be 1..64, got 65');
  });

  it('with no max says "at least" and takes any safe integer', () => {
    expect(parseIntFlag('--retries', '0', 0)).toBe(0);
    expect(parseIntFlag('--retries', String(Number.MAX_SAFE_INTEGER), 0)).toBe(Number.MAX_SAFE_INTEGER);
    expect(usage(() => parseIntFlag('--per-host', '0', 1))).toBe('--per-host: must be at least 1, got 0');
    expect(usage(() => parseIntFlag('--per-host', String(Number.MAX_SAFE_INTEGER + 2), 1))).toMatch(/^--per-host: must be at least 1/);
  });

  it('trims spaces around the number', () => {
    expect(parseIntFlag('-c', ' 7 ', 1)).toBe(7);
    expect(parseIntFlag('-c', '007', 1)).toBe(7);
  });

  it.each(['', ' ', 'abc', '-1', '+1', '1.5', '1e3', '0x10', '1 2', '5k'])('refuses %j as not a whole number', (value) => {
    expect(usage(() => parseIntFlag('-c', value, 0))).toBe(`-c: expected a whole number, got '${value}'`);
  });
});

describe('parseSize', () => {
  it.each([
    ['1', 1],
    ['1000', 1000],
    ['1b', 1],
    ['1B', 1],
    ['1k', 1024],
    ['1kb', 1024],
    ['1KiB', 1024],
    ['512k', 512 * 1024],
    ['1m', 1024 ** 2],
    ['10MB', 10 * 1024 ** 2],
    ['1mib', 1024 ** 2],
    ['1g', 1024 ** 3],
    ['2GB', 2 * 1024 ** 3],
    ['1gib', 1024 ** 3],
    ['1.5k', 1536],
    // a fraction of a byte is dropped, not rounded up
    ['1.9', 1],
    ['1.0009k', 1024],
    [' 2 kb ', 2048],
  ])('%j → %i bytes', (text, n) => {
    expect(parseSize('--max-size', text)).toBe(n);
  });

  it.each(['', 'k', 'MB', '10x', '10 M B', '-1', '1e3', '1,000', '.5k', '1.', 'ten', '1tb'])('refuses %j, naming the flag', (text) => {
    expect(usage(() => parseSize('--max-size', text))).toBe(`--max-size: expected a size like 1000, 512k or 10MB, got '${text}'`);
  });

  it.each(['0', '0k', '0.5', '0.9b'])('refuses %j: less than one byte', (text) => {
    expect(usage(() => parseSize('--max-size', text))).toBe(`--max-size: must be at least 1 byte, got '${text}'`);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['1ms', 1],
    ['1MS', 1],
    ['1s', 1000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['2.5h', 9_000_000],
    // rounded to the nearest ms
    ['0.4', 0],
    ['0.6ms', 1],
    ['1.0004s', 1000],
    [' 3 s ', 3000],
  ])('%j → %i ms', (text, ms) => {
    expect(parseDuration('-t', text)).toBe(ms);
  });

  it('accepts the longest timer Node holds and refuses one ms more', () => {
    expect(parseDuration('-t', String(MAX_TIMER_MS))).toBe(MAX_TIMER_MS);
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    const over = String(MAX_TIMER_MS + 1);
    expect(usage(() => parseDuration('-t', over))).toBe(`-t: at most ${MAX_TIMER_MS} ms (about 24 days), got '${over}'`);
    expect(usage(() => parseDuration('-t', '25d'))).toMatch(/^-t: expected a duration/);
    expect(usage(() => parseDuration('-t', '597h'))).toMatch(/^-t: at most/);
    expect(parseDuration('-t', '596h')).toBe(596 * 3_600_000);
  });

  it.each(['', 's', '5x', '5 sec', '-1', '1e3', '1,5s', 'five'])('refuses %j, naming the flag', (text) => {
    expect(usage(() => parseDuration('-t', text))).toBe(`-t: expected a duration like 500ms, 5s or 2m (bare number = ms), got '${text}'`);
  });
});

describe('parseMode and parseModes', () => {
  it('takes each mode by name, and nothing else', () => {
    expect(parseMode('-m', 'async')).toBe('async');
    expect(parseMode('-m', 'threads')).toBe('threads');
    expect(parseMode('-m', 'inline')).toBe('inline');
    expect(usage(() => parseMode('-m', 'Async'))).toBe("-m: unknown mode 'Async' (choose from async, threads, processes, inline)");
    expect(usage(() => parseMode('-m', ''))).toBe("-m: unknown mode '' (choose from async, threads, processes, inline)");
  });

  it('splits a comma list, trims, drops empties and repeats, keeps the order given', () => {
    expect(parseModes('--modes', 'inline,async')).toEqual(['inline', 'async']);
    expect(parseModes('--modes', ' threads , async ,threads,')).toEqual(['threads', 'async']);
    expect(parseModes('--modes', 'async')).toEqual(['async']);
  });

  it.each(['', ',', ' , '])('refuses %j: no mode named', (text) => {
    expect(usage(() => parseModes('--modes', text))).toBe('--modes: name at least one mode');
  });

  it('names the unknown mode in a list', () => {
    expect(usage(() => parseModes('--modes', 'async,fast'))).toBe(
      "--modes: unknown mode 'fast' (choose from async, threads, processes, inline)",
    );
  });
});

describe('parseHeader', () => {
  it('splits at the first colon and trims both sides', () => {
    expect(parseHeader('-H', 'X-Test: 1')).toEqual(['X-Test', '1']);
    expect(parseHeader('-H', '  X-Test  :  a b  ')).toEqual(['X-Test', 'a b']);
    expect(parseHeader('-H', 'X-Time: 12:30:00')).toEqual(['X-Time', '12:30:00']);
    expect(parseHeader('-H', 'X-Empty:')).toEqual(['X-Empty', '']);
    expect(parseHeader('-H', "a!#$%&'*+.^_`|~0-9:v")).toEqual(["a!#$%&'*+.^_`|~0-9", 'v']);
  });

  it.each(['X-Test', ': v', ':', '', 'Bad Name: v', 'X(y): v', 'X-é: v'])('refuses %j: not "Name: value"', (text) => {
    expect(usage(() => parseHeader('-H', text))).toBe(`-H: expected "Name: value", got '${text}'`);
  });

  it.each(['X: a\rb', 'X: a\nb', 'X: a\0b', 'X: v\r\n', 'X: v\n', 'X\x7f: v'])('refuses %j: a control character anywhere', (text) => {
    expect(usage(() => parseHeader('-H', text))).toBe('-H: a header may not contain control characters (tab is allowed)');
  });

  it('allows a tab, and Latin-1 text only', () => {
    expect(parseHeader('-H', 'X:\ta\tb\t')).toEqual(['X', 'a\tb']);
    expect(parseHeader('-H', 'X: caf\u00e9')).toEqual(['X', 'caf\u00e9']);
    expect(usage(() => parseHeader('-H', 'X: \u20ac'))).toBe('-H: a header may hold only Latin-1 text (percent-encode anything else)');
  });
});

describe('parseMethod', () => {
  it('takes letters only and upper-cases them', () => {
    expect(parseMethod('-X', 'post')).toBe('POST');
    expect(parseMethod('-X', 'GET')).toBe('GET');
    expect(parseMethod('-X', 'Purge')).toBe('PURGE');
  });

  it.each(['', ' GET', 'GET ', 'GE T', 'M-SEARCH', 'GET1'])('refuses %j', (text) => {
    expect(usage(() => parseMethod('-X', text))).toBe(`-X: not an HTTP method: '${text}'`);
  });
});

describe('checkPoolSize', () => {
  it('allows MAX_POOL threads and refuses one more, in threads mode only', () => {
    expect(MAX_POOL).toBe(64);
    expect(() => checkPoolSize(['threads'], 64)).not.toThrow();
    expect(usage(() => checkPoolSize(['async', 'threads'], 65))).toMatch(/^--concurrency: threads mode .* at most 64, got 65$/);
    expect(() => checkPoolSize(['async', 'inline'], 10_000)).not.toThrow();
  });
});
