// The live summary and `fetchall report` on the records it wrote agree: one wall time, one percentile.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duration } from '../src/render/format.js';
import { ndjson, run } from './helpers/cli.js';
import { urls, useServer } from './helpers/server.js';

const h = useServer();

/** 'async: 12 URLs in 631 ms' and 'latency  min … p50 … p95 … max …' from a summary. */
function figures(text: string): { urls: string; wall: string; p50: string; p95: string; achieved: string } {
  const head = /^\S+: (\d+) URLs? in (.+?)(?: {2}|$)/m.exec(text);
  const lat = /latency +min .+? {3}p50 (.+?) {3}p95 (.+?) {3}max/m.exec(text);
  const conc = /concurrency +achieved ([\d.]+)/m.exec(text);
  if (!head || !lat || !conc) throw new Error(`no summary in:\n${text}`);
  return { urls: head[1]!, wall: head[2]!, p50: lat[1]!, p95: lat[2]!, achieved: conc[1]! };
}

describe('fetch and report agree', () => {
  for (const mode of ['async', 'threads'] as const) {
    it(`${mode}: the same records give the same wall, p50, p95 and achieved concurrency, retries and all`, async () => {
      // Latencies spread over 10–330 ms, so p50 and p95 are distinct values; two URLs that need
      // retries (their waits are in their times, and in achieved concurrency, live and from records).
      const list = Array.from({ length: 12 }, (_, i) => urls(h.server.url, `/delay/${10 + i * 30}`, 1, `&m=${mode}`)[0]!);
      const key = `${mode}-${Date.now()}`;
      list.push(`${h.server.url}/flaky/2?key=a-${key}`, `${h.server.url}/flaky/1?key=b-${key}`);
      const live = await run(['-m', mode, '-c', '4', '--retries', '3', '-f', 'ndjson', ...list]);
      expect(live.code).toBe(0);
      const file = join(mkdtempSync(join(tmpdir(), 'fetchall-agree-')), 'r.ndjson');
      writeFileSync(file, live.stdout);
      const report = await run(['report', '--no-timeline', file]);
      expect(report.code).toBe(0);
      expect(figures(report.stdout)).toEqual(figures(live.stderr));
      expect(figures(report.stdout).urls).toBe('14');
      expect(live.stderr).toMatch(/3 retries/);
    });
  }
});

describe('the live p50 and p95, pinned to the records', () => {
  for (const mode of ['async', 'threads'] as const) {
    it(`${mode}: p50 and p95 are the nearest-rank values of the records' own ms`, async () => {
      // 20 latencies 5–157 ms, 8 ms apart: under 204.8 ms the histogram is exact to the record's 0.1 ms.
      const list = Array.from({ length: 20 }, (_, i) => urls(h.server.url, `/delay/${5 + i * 8}`, 1, `&p=${mode}`)[0]!);
      const live = await run(['-m', mode, '-c', '5', '-f', 'ndjson', ...list]);
      expect(live.code, live.stderr).toBe(0);
      const ms = ndjson(live.stdout)
        .map((r) => r.ms as number)
        .sort((a, b) => a - b);
      expect(ms).toHaveLength(20);
      // Nearest rank: p50 is the 10th of 20, p95 the 19th.
      const p50 = ms[9]!;
      const p95 = ms[18]!;
      expect(p95).toBeLessThan(204.8);
      expect(p95).toBeGreaterThan(p50);
      expect(figures(live.stderr)).toMatchObject({ urls: '20', p50: duration(p50), p95: duration(p95) });
    });
  }
});
