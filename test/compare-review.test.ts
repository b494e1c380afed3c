// compare's edges found in review: --report keeps the end-to-end verdict, an interrupted run is
// left out of the statistics, -q still says what an interrupt left, exports' directories checked as usage.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const ctx = useServer();

describe('compare after review', () => {
  it('--report keeps the end-to-end measurement: both verdicts, in text and in the HTML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchall-crep-'));
    const html = join(dir, 'cr.html');
    const list = urls(ctx.server.url, '/delay/50', 4, '&crep');
    const r = await run(['compare', '--modes', 'threads,async', '-c', '4', '--no-timeline', '--report', html, ...list]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^fetch: \w+ ran /m);
    expect(r.stdout).toMatch(/^end to end \(start-up included\): \w+ ran /m);
    expect(r.stdout).toMatch(/^end to end\s+[\d.]+ m?s/m);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/end to end \(start-up included\): \w+ ran/);
  });
});
