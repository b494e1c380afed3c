// The live summary and `fetchall report` on the records it wrote agree: one wall time, one percentile.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const h = useServer();

/** 'async: 12 URLs in 631 ms' and 'latency  min … p50 … p95 … max …' from a summary. */
function figures(text: string): { urls: string; wall: string; p50: string; p95: string } {
  const head = /^\S+: (\d+) URLs? in (.+?)(?: {2}|$)/m.exec(text);
  const lat = /latency +min .+? {3}p50 (.+?) {3}p95 (.+?) {3}max/m.exec(text);
  if (!head || !lat) throw new Error(`no summary in:\n${text}`);
  return { urls: head[1]!, wall: head[2]!, p50: lat[1]!, p95: lat[2]! };
}

describe('fetch and report agree', () => {
  for (const mode of ['async', 'threads'] as const) {
    it(`${mode}: the same records give the same wall, p50 and p95`, async () => {
      // Latencies spread over 10–330 ms, so p50 and p95 are distinct values.
      const list = Array.from({ length: 12 }, (_, i) => urls(h.server.url, `/delay/${10 + i * 30}`, 1, `&m=${mode}`)[0]!);
      const live = await run(['-m', mode, '-c', '4', '-f', 'ndjson', ...list]);
      expect(live.code).toBe(0);
      const file = join(mkdtempSync(join(tmpdir(), 'fetchall-agree-')), 'r.ndjson');
      writeFileSync(file, live.stdout);
      const report = await run(['report', '--no-timeline', file]);
      expect(report.code).toBe(0);
      expect(figures(report.stdout)).toEqual(figures(live.stderr));
      expect(figures(report.stdout).urls).toBe('12');
    });
  }
});
