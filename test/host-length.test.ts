// A host name DNS cannot carry (a label over 63 characters, a name over 253) is a bad input line,
// the same in every mode — not EINVAL in one and ECONNREFUSED in another.

import { describe, expect, it } from 'vitest';
import { checkUrl } from '../src/input.js';
import { ndjson, run } from './helpers/cli.js';

const label = (n: number) => 'a'.repeat(n);

describe('checkUrl: host name length', () => {
  it('rejects a label over 63 characters and a name over 253', () => {
    expect(checkUrl(`http://${label(64)}.test/x`)).toBe('not a URL (host name too long)');
    expect(checkUrl(`https://${label(300)}/`)).toBe('not a URL (host name too long)');
    const long = Array.from({ length: 5 }, () => label(60)).join('.'); // 304 characters
    expect(checkUrl(`http://${long}/`)).toBe('not a URL (host name too long)');
  });

  it('keeps names at the limits, a trailing dot, IP addresses', () => {
    expect(checkUrl(`http://${label(63)}.test/x`)).toBeNull();
    const atLimit = [label(63), label(63), label(63), label(61)].join('.'); // 253 characters
    expect(checkUrl(`http://${atLimit}/`)).toBeNull();
    expect(checkUrl(`http://${atLimit}./`)).toBeNull();
    expect(checkUrl('http://127.0.0.1:8080/')).toBeNull();
    expect(checkUrl('http://[::1]:8080/')).toBeNull();
  });
});

describe('the CLI', () => {
  for (const mode of ['async', 'threads', 'inline'] as const) {
    it(`${mode}: a BAD_INPUT record naming the argument`, async () => {
      const url = `http://${label(300)}.test/x`;
      const r = await run(['-m', mode, '-f', 'ndjson', '-q', url]);
      const [rec] = ndjson(r.stdout);
      expect(rec!.error).toMatchObject({ code: 'BAD_INPUT' });
      expect((rec!.error as { message: string }).message).toMatch(/: not a URL \(host name too long\)$/);
      expect(rec!.attempts).toBe(0);
      expect(r.code).toBe(1);
    });
  }
});
