// -H with a byte no HTTP client will send (a control character other than tab, a character
// beyond Latin-1) is a usage error naming --header, before any request, in every mode — not a
// failure of every URL with each mode's own message.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { parseHeader } from '../src/options.js';
import { run } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const ctx = useServer();

function reasonOf(value: string): string | null {
  try {
    parseHeader('--header', value);
    return null;
  } catch (e) {
    if (e instanceof UsageError) return e.reason;
    throw e;
  }
}

describe('parseHeader: characters a header cannot carry', () => {
  it('rejects every control character but tab, in the value and in the name', () => {
    for (const c of ['\x1b', '\x07', '\x00', '\r', '\n', '\x7f', '\x01', '\x1f']) {
      expect(reasonOf(`X-A: a${c}b`), JSON.stringify(c)).toMatch(/control character/);
      expect(reasonOf(`X-${c}A: ab`), JSON.stringify(c)).toMatch(/control character/);
    }
    expect(reasonOf('X-A: a\tb')).toBeNull();
  });

  it('rejects a character beyond Latin-1, keeps Latin-1 text', () => {
    expect(reasonOf('X-A: 中')).toMatch(/Latin-1/);
    expect(reasonOf('X-A: café')).toBeNull();
  });
});

describe('the CLI', () => {
  for (const mode of ['async', 'threads', 'processes', 'inline'] as const) {
    it(`${mode}: -H with ESC is one line naming --header, exit 2, nothing fetched`, async () => {
      const before = ctx.server.stats().served;
      const r = await run(['-m', mode, '-H', 'X-A: a\x1b[2J', `${ctx.server.url}/delay/1`]);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(
        /^fetchall: error: option '-H, --header <header>' argument .* is invalid\. .*control character/,
      );
      // The terminal never gets the raw ESC.
      expect(r.stderr).not.toContain('\x1b');
      expect(r.stdout).toBe('');
      expect(ctx.server.stats().served).toBe(before);
    });
  }
});
