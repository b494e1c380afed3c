#!/usr/bin/env node
// Writes N realistic `-f ndjson` records (the fields of a real run against `fetchall serve`) to
// FILE, for measuring `fetchall report` on big inputs: `node scripts/gen-records.mjs 300000 f.ndjson`.
// -c 50 in flight, latencies 5 ms to ~2 s, 2 % failures, and the failed ones rerun (ok) at the end
// as a resume appends them. Deterministic (a fixed-seed PRNG).
import { createWriteStream } from 'node:fs';

export function* recordLines(n, { seed = 1, mode = 'async', t0 = Date.UTC(2026, 11, 2, 9, 0, 0) } = {}) {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const lanes = new Float64Array(50);
  const failed = [];
  const line = (index, url, start, ms, fail, attempts) => {
    const end = start + ms;
    const err = fail ? { code: 'HTTP_STATUS', message: '500 Internal Server Error' } : null;
    return JSON.stringify({
      index,
      url,
      mode,
      ok: !fail,
      status: fail ? 500 : 200,
      bytes: fail ? 26 : 14,
      start: new Date(Math.floor(start)).toISOString(),
      end: new Date(Math.floor(end)).toISOString(),
      ms: Math.round(ms * 10) / 10,
      attempts,
      worker: null,
      error: err,
      file: null,
      start_ms: Math.round((start - t0) * 1000) / 1000,
      end_ms: Math.round((end - t0) * 1000) / 1000,
      final_url: url,
      redirects: 0,
      ttfb_ms: Math.round(ms * 9.9) / 10,
      content_type: 'text/plain; charset=utf-8',
      work_ms: null,
    });
  };
  for (let i = 0; i < n; i++) {
    const lane = i % lanes.length;
    const start = t0 + lanes[lane] + rand() * 2;
    const ms = 5 + Math.exp(rand() * 6) + (rand() < 0.01 ? rand() * 1500 : 0);
    lanes[lane] = start + ms - t0;
    const fail = rand() < 0.02;
    const url = `http://127.0.0.1:8080/delay/${Math.round(ms)}?i=${i}`;
    if (fail) failed.push([i, url]);
    yield line(i, url, start, ms, fail, rand() < 0.05 ? 2 : 1);
  }
  let end = t0 + Math.max(...lanes) + 100;
  for (const [i, url] of failed) {
    const ms = 5 + rand() * 50;
    yield line(i, url, end, ms, false, 1);
    end += ms;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [n, file] = [Number(process.argv[2]), process.argv[3]];
  const out = createWriteStream(file);
  let buf = '';
  for (const l of recordLines(n)) {
    buf += `${l}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.end(buf);
}
