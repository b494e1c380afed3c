// The HTML report in a real browser (Debian's headless Chromium through puppeteer-core): it draws
// without errors, one bar per URL (or the binned form), hover titles name URLs, 100,000 URLs draw
// in seconds, failures among thousands show in red in the viewport, each mode's bars span its own
// axis, and a hostile URL stays text. Skipped, saying so, where Chromium is not installed.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/measure/stats.js';
import { htmlReport, type ReportInput, type ReportMode } from '../src/render/html.js';
import { BIN_ROWS } from '../src/render/html-waterfall.js';
import { parseRecord, type SavedRecord } from '../src/report/records.js';
import { summarizeRecords, UNKNOWN_FROM_RECORDS } from '../src/report/summarize.js';
import { run } from './helpers/cli.js';
import { fakeRun } from './helpers/report-runs.js';
import { useServer } from './helpers/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const OUTPUT = fileURLToPath(new URL('./output/', import.meta.url));
if (!haveChromium)
  console.warn(`html-browser.test.ts: SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const params = (c: number | null): ReportInput['params'] => ({
  modes: ['inline', 'threads', 'async'],
  concurrency: c,
  perHost: null,
  timeoutMs: 30_000,
  retries: 0,
  node: process.version,
  machine: `${platform()} ${arch()}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
});

interface Opened {
  page: Page;
  /** Console errors, page errors and dialogs (an alert would be a script run from data). */
  problems: string[];
  loadMs: number;
}

describe.skipIf(!haveChromium)('the HTML report in Chromium', () => {
  const h = useServer();
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Write the page under test/output/ and load it from disk, timing load plus the first frame drawn. */
  async function open(name: string, html: string): Promise<Opened> {
    const path = join(OUTPUT, name);
    writeFileSync(path, html);
    const page = await browser.newPage();
    await page.setViewport({ width: 1180, height: 900 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const t = performance.now();
    await page.goto(`file://${path}`, { waitUntil: 'load', timeout: 20_000 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    return { page, problems, loadMs: performance.now() - t };
  }

  /** Three real runs against the built-in server, one per mode, each with the server's own peak. */
  async function realRuns(list: string[]): Promise<ReportMode[]> {
    const modes: ReportMode[] = [];
    for (const mode of ['inline', 'threads', 'async']) {
      h.server.reset();
      const r = await run(['-m', mode, '-c', '8', '-f', 'ndjson', ...list]);
      const records = r.stdout
        .trim()
        .split('\n')
        .map((l) => parseRecord(l) as SavedRecord);
      expect(records).toHaveLength(list.length);
      modes.push({ mode, runs: [summarizeRecords(mode, records)], serverPeak: h.server.stats().peak, unknown: UNKNOWN_FROM_RECORDS });
    }
    return modes;
  }

  it('draws a 3-mode report without errors, one bar per URL, each titled with its URL', async () => {
    const list = Array.from({ length: 24 }, (_, i) => `${h.server.url}/delay/${60 + ((i * 37) % 50)}?i=${i}`);
    list.push(`${h.server.url}/status/503`, `${h.server.url}/delay/80?last`);
    const modes = await realRuns(list);
    const title = 'fetchall: 26 URLs in three modes, -c 8';
    const { page, problems } = await open('report-3-modes.html', htmlReport({ title, params: params(8), modes }));
    try {
      expect(problems).toEqual([]);
      for (const m of modes) {
        const titles = await page.$$eval(`svg.waterfall g.lane[data-mode="${m.mode}"] rect.bar`, (rs) =>
          rs
            .map((r) => r.querySelector('title')?.textContent ?? '')
            .sort((a, b) => Number(a.slice(1, a.indexOf(' '))) - Number(b.slice(1, b.indexOf(' ')))),
        );
        expect(titles).toHaveLength(list.length);
        const byIndex = [...m.runs[0]!.spans].sort((a, b) => a.index - b.index);
        expect(titles.map((t) => t.split('\n')[0])).toEqual(byIndex.map((s) => `#${s.index} ${s.url}`));
      }
      // The real pointer over a bar hovers that bar (nothing covers it), so its title is what a hover shows.
      const bar = (await page.$('svg.waterfall g.lane[data-mode="async"] rect.bar'))!;
      await bar.hover();
      const hit = await bar.evaluate((r) => (r.matches(':hover') ? r.querySelector('title')?.textContent : null));
      expect(hit).toMatch(new RegExp(`^#0 ${h.server.url}/delay/60\\?i=0\n`));
      await page.screenshot({ path: join(OUTPUT, 'report-3-modes.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('draws the report `fetchall demo` writes, all three modes, each bar titled with its URL', async () => {
    const path = join(OUTPUT, 'demo-3-modes.html');
    const r = await run(['demo', '--modes', 'inline,threads,async', '-c', '4', '--report', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`fetchall: wrote the report to ${path} (open it in a browser)\n`);
    const base = /built-in server at (http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout)![1]!;
    const { page, problems } = await open('demo-3-modes.html', readFileSync(path, 'utf8'));
    try {
      expect(problems).toEqual([]);
      for (const mode of ['inline', 'threads', 'async']) {
        const titles = await page.$$eval(`svg.waterfall g.lane[data-mode="${mode}"] rect.bar title`, (ts) => ts.map((t) => t.textContent));
        expect(titles).toHaveLength(12);
        for (const t of titles) expect(t).toMatch(new RegExp(`^#\\d+ ${base}/(delay|status)/\\d+\\?i=\\d+\n`));
      }
      expect(await page.$$eval('svg.inflight text.server-label', (ts) => ts.map((t) => t.textContent))).toEqual([
        "server's peak 1",
        "server's peak 4",
        "server's peak 4",
      ]);
      await page.screenshot({ path: join(OUTPUT, 'demo-3-modes.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('draws 100,000 URLs per mode in a few seconds, binned, from a file under 2 MB', async () => {
    const modes = (['inline', 'threads', 'async'] as const).map((mode) => ({
      mode,
      runs: [fakeRun({ mode, n: 100_000, conc: mode === 'inline' ? 1 : 64, ms: 20, failEvery: 997 })],
    }));
    const html = htmlReport({ title: '100,000 URLs', params: params(64), modes });
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
    const { page, problems, loadMs } = await open('report-100k.html', html);
    try {
      expect(problems).toEqual([]);
      expect(await page.$$eval('rect.bar', (rs) => rs.length)).toBe(0);
      expect(await page.$$eval('svg.waterfall g.bin-row', (rs) => rs.length)).toBe(3 * BIN_ROWS);
      expect(await page.$eval('svg.waterfall g.bin-row title', (t) => t.textContent)).toMatch(/^URLs #0–#499 \(500\): /);
      // Generous for a loaded 2-core machine; it takes a fraction of this alone.
      expect(loadMs).toBeLessThan(5000);
    } finally {
      await page.close();
    }
  });

  it('marks 30 failures among 3,000 URLs in red, each mark drawn, on top and in the first screen', async () => {
    const run = fakeRun({ mode: 'async', n: 3000, conc: 10, ms: 50, failEvery: 100 });
    const html = htmlReport({ title: '30 failures in 3,000 URLs', params: params(10), modes: [{ mode: 'async', runs: [run] }] });
    const { page, problems } = await open('report-failures.html', html);
    try {
      expect(problems).toEqual([]);
      expect(await page.$eval('svg.waterfall g.fail-band', (g) => g.getAttribute('data-failed'))).toBe('30');
      const marks = await page.$$eval('svg.waterfall rect.fail-mark', (rs) =>
        rs.map((r) => {
          const b = r.getBoundingClientRect();
          const top = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          return {
            width: b.width,
            height: b.height,
            inView: b.top >= 0 && b.bottom <= window.innerHeight && b.left >= 0 && b.right <= window.innerWidth,
            fill: getComputedStyle(r).fill,
            onTop: top === r,
          };
        }),
      );
      expect(marks.length).toBeGreaterThan(0);
      for (const m of marks) {
        expect(m.width).toBeGreaterThanOrEqual(2);
        expect(m.height).toBeGreaterThanOrEqual(8);
        expect(m).toMatchObject({ inView: true, fill: 'rgb(217, 67, 75)', onTop: true });
      }
      // the count is written beside the band, in red, in the first screen too
      const count = await page.$eval('svg.waterfall text.fail-count', (t) => {
        const b = t.getBoundingClientRect();
        return { text: t.textContent, fill: getComputedStyle(t).fill, inView: b.top >= 0 && b.bottom <= window.innerHeight && b.width > 0 };
      });
      expect(count).toEqual({ text: '30 failed', fill: 'rgb(217, 67, 75)', inView: true });
      await page.screenshot({ path: join(OUTPUT, 'report-failures.png') });
    } finally {
      await page.close();
    }
  });

  it('draws each mode on its own time axis: with walls 10 × apart, every mode’s bars span over half its chart', async () => {
    const modes = [
      { mode: 'inline', runs: [fakeRun({ mode: 'inline', n: 30, conc: 1, ms: 100, failEvery: 11 })] },
      { mode: 'async', runs: [fakeRun({ mode: 'async', n: 30, conc: 10, ms: 100, failEvery: 11 })] },
    ];
    expect(modes[0]!.runs[0]!.wallMs / modes[1]!.runs[0]!.wallMs).toBeGreaterThan(9);
    const { page, problems } = await open('report-own-axes.html', htmlReport({ title: 'walls 10 × apart', params: params(10), modes }));
    try {
      expect(problems).toEqual([]);
      const spans = await page.evaluate(() => {
        const share = (plot: Element, drawn: Element[]) => {
          const p = plot.getBoundingClientRect();
          const boxes = drawn.map((d) => d.getBoundingClientRect());
          return (Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left))) / p.width;
        };
        const lanes = [...document.querySelectorAll('svg.waterfall g.lane')].map((g) => ({
          mode: g.getAttribute('data-mode'),
          share: share(g.querySelector('rect.plot')!, [...g.querySelectorAll('rect.bar')]),
          scale: g.querySelector('text.scale')?.textContent,
          note: g.querySelector('text.scale-note')?.textContent ?? null,
        }));
        const flights = [...document.querySelectorAll('svg.inflight g.flight-lane')].map((g) => ({
          mode: g.getAttribute('data-mode'),
          share: share(g.querySelector('rect.plot')!, [g.querySelector('path.flight')!]),
          note: g.querySelector('text.scale-note')?.textContent ?? null,
        }));
        return { lanes, flights };
      });
      expect(spans.lanes.map((l) => l.mode)).toEqual(['inline', 'async']);
      expect(spans.flights.map((l) => l.mode)).toEqual(['inline', 'async']);
      for (const l of [...spans.lanes, ...spans.flights]) expect(l.share).toBeGreaterThanOrEqual(0.5);
      for (const l of spans.lanes) expect(l.scale).toMatch(/^own axis, 0–[\d.]+ m?s$/);
      // the shorter axis says by how much, in both charts
      expect(spans.lanes[1]!.note).toMatch(/^\d+(\.\d)? × shorter than inline's$/);
      expect(spans.flights[1]!.note).toBe(spans.lanes[1]!.note);
      expect(spans.lanes[0]!.note).toBeNull();
      await page.screenshot({ path: join(OUTPUT, 'report-own-axes.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('shows a hostile URL as text: no script element, no dialog, the title reads as given', async () => {
    const hostile = `http://h/"><script>alert(1)</script><img src=x onerror=alert(2)>'\u001b[31m`;
    const hostileRun: RunSummary = fakeRun({ mode: 'async', n: 3, conc: 2, ms: 30, urls: () => hostile });
    const html = htmlReport({ title: '<script>alert(3)</script>', params: params(2), modes: [{ mode: 'async', runs: [hostileRun] }] });
    const { page, problems } = await open('report-hostile.html', html);
    try {
      expect(problems).toEqual([]);
      expect(await page.$$eval('script, img, iframe', (x) => x.length)).toBe(0);
      const title = await page.$eval('rect.bar title', (t) => t.textContent ?? '');
      expect(title.split('\n')[0]).toBe(`#0 http://h/"><script>alert(1)</script><img src=x onerror=alert(2)>'\\x1b[31m`);
      expect(await page.title()).toBe('<script>alert(3)</script>');
    } finally {
      await page.close();
    }
  });
});
