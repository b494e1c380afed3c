// Usage errors as data: the flag, the reason and the value, and the one line composed from them.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { resolveSources } from '../src/input.js';
import { checkPoolSize, parseDuration, parseHeader, parseIntFlag, parseMode, parseSize } from '../src/options.js';

function caught(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('no UsageError');
}

describe('UsageError', () => {
  it('carries flag, reason and value, and composes the message from them', () => {
    const e = caught(() => parseIntFlag('--concurrency', 'ten', 1, 100));
    expect({ flag: e.flag, reason: e.reason, value: e.value }).toEqual({
      flag: '--concurrency',
      reason: 'expected a whole number',
      value: 'ten',
    });
    expect(e.message).toBe("--concurrency: expected a whole number, got 'ten'");
  });

  it('shows a number bare and a string quoted', () => {
    expect(caught(() => parseIntFlag('-c', '0', 1, 100)).message).toBe('-c: must be 1..100, got 0');
    expect(caught(() => checkPoolSize(['threads'], 500)).message).toMatch(/^--concurrency: threads mode .*; at most 64, got 500$/);
    expect(caught(() => parseSize('--max-size', 'lots')).message).toBe("--max-size: expected a size like 1000, 512k or 10MB, got 'lots'");
    expect(caught(() => parseDuration('--retry-max-wait', '5x')).reason).toBe(
      'expected a duration like 500ms, 5s or 2m (bare number = ms)',
    );
  });

  it('keeps a value the reason already quotes out of the tail, whatever the value holds', () => {
    const e = caught(() => parseMode('--mode', 'x, got y'));
    expect(e.reason).toBe("unknown mode 'x, got y' (choose from async, threads, processes, inline)");
    expect(e.message).toBe(`--mode: ${e.reason}`);
    // The old regex cut everything after ', got ': the reason is now whole.
    expect(caught(() => parseHeader('-H', 'no colon, got x')).reason).toBe('expected "Name: value"');
  });

  it('names the file first when no flag is at fault', () => {
    const e = caught(() => resolveSources(['/nonexistent/urls.txt'], false));
    expect({ flag: e.flag, value: e.value, reason: e.reason }).toEqual({
      flag: null,
      value: '/nonexistent/urls.txt',
      reason: 'cannot read: no such file',
    });
    expect(e.message).toBe('/nonexistent/urls.txt: cannot read: no such file');
    const none = caught(() => resolveSources([], true));
    expect(none.message).toBe(none.reason);
  });
});
