// `fetchall demo`: the seed example, offline. The built-in server on a free loopback port, a
// dozen URLs with 100–1500 ms latencies (one much slower, one 404), compared mode by mode, with
// the server's own count of concurrent requests beside each mode's claim.

import { availableParallelism, loadavg } from 'node:os';
import type { Mode } from '../core/types.js';
import { calibrate } from '../engines/work.js';
import type { Outcome } from '../exit.js';
import type { InputItem } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import { DEFAULTS, type RunOptions, SERVE_PORT } from '../options.js';
import { fold, plainWords, workWords } from '../render/compare.js';
import { spawnServer } from '../server/process.js';
import { Collector } from '../sinks/collector.js';
import { printComparison } from '../sinks/report.js';
import { runComparison } from './compare.js';
import { comparisonReport, writeReport } from './html-report.js';
import { type Session, session, type Terminal } from './session.js';

/** The demo list: paths on the built-in server. */
export const DEMO_PATHS = [
  '/delay/300',
  '/delay/100',
  '/delay/500',
  '/delay/200',
  '/delay/1500', // the slow one, like the seed's slowest website
  '/delay/400',
  '/delay/150',
  '/status/404', // one that fails
  '/delay/350',
  '/delay/250',
  '/delay/450',
  '/delay/600',
];

export interface DemoOptions {
  modes: Mode[];
  concurrency: number;
  runs: number;
  userAgent: string;
  /** Write the HTML report here (fetchall-demo.html unless --no-report); null = none. */
  report: string | null;
  /** The second act: CPU-bound work per page (--no-work: not). */
  work: boolean;
}

/** The demo's URLs on a server at `base`; `?i=` keeps them distinct. */
export function demoUrls(base: string): string[] {
  return DEMO_PATHS.map((p, index) => `${base}${p}?i=${index}`);
}

export async function demoCommand(opts: DemoOptions, term: Terminal): Promise<Outcome> {
  // The server runs in its own process: inline mode blocks this one's event loop (that is its
  // lesson), and the server's CPU and memory must not be counted as fetchall's.
  const server = await spawnServer();
  const s = session(term, true);
  try {
    const items: InputItem[] = demoUrls(server.url).map((url, index) => ({ kind: 'job', job: { index, url } }));
    const o = demoOptions(opts, term);
    intro(s, opts, items.length, server.url);
    const witness = new Witness();
    const collector = new Collector(opts.modes);
    const stop = await runComparison(items, o, opts, s, collector, {
      before: () => server.reset(),
      after: async (mode, summary) => witness.add(s, mode, summary, (await server.stats()).peak),
    });
    printComparison(s, o, collector.modes, stop);
    if (stop === null) {
      // The verdicts again in plain words: what start-up costs is the lesson a learner must not miss.
      const words = plainWords(collector.modes);
      if (words.length > 0) s.out.line(`\n${s.paint.bold('In plain words:')}`);
      for (const text of words) for (const line of fold(text, Math.max(40, s.term.columns - 1))) s.out.line(line);
      witness.print(s);
    }
    const stop2 = stop === null && opts.work ? await secondAct(s, server, o, opts) : null;
    await s.out.drain();
    const title = `fetchall demo: ${items.length} URLs on the built-in server, -c ${opts.concurrency}`;
    const report = comparisonReport(title, o, collector.modes, stop, witness.peaks);
    const reported = opts.report === null || writeReport(opts.report, report, s.err);
    // The 404 is part of the lesson, not a failure of the demo: only a stop changes its status.
    return s.finish({ stop: stop ?? stop2, writeFailed: !reported });
  } finally {
    s.unhook();
    await server.close();
  }
}

/** Pages for the second act: fast ones, so what differs is where the CPU-bound step runs. */
const WORK_PAGES = 24;
const WORK_MS = 100;

/**
 * The second act: the same blocking and async ways with a CPU-bound step on each page (--work):
 * on one event loop the steps queue up; threads and processes spread them over the cores.
 */
async function secondAct(s: Session, server: { url: string; reset(): Promise<void> }, o: RunOptions, opts: DemoOptions) {
  const modes = opts.modes.filter((m) => m !== 'inline');
  if (modes.length < 2) return null;
  const concurrency = Math.min(opts.concurrency, 4);
  s.out.line('');
  s.out.line(
    s.paint.bold(
      `Act two: ${WORK_PAGES} fast pages, each followed by about ${WORK_MS} ms of CPU work on its body (--work ${WORK_MS}), -c ${concurrency}, modes ${modes.join(', ')}`,
    ),
  );
  const items: InputItem[] = Array.from({ length: WORK_PAGES }, (_, index) => ({
    kind: 'job',
    job: { index, url: `${server.url}/delay/0?work=${index}` },
  }));
  const o2: RunOptions = { ...o, concurrency, timeline: false, work: calibrate(WORK_MS) };
  const act = { pages: WORK_PAGES, workMs: WORK_MS, cores: availableParallelism(), load: loadavg()[0]! };
  const collector = new Collector(modes);
  const stop = await runComparison(items, o2, { ...opts, modes, runs: 1 }, s, collector, { before: () => server.reset() });
  printComparison(s, o2, collector.modes, stop);
  if (stop === null) {
    s.out.line(`\n${s.paint.bold('In plain words:')}`);
    for (const line of fold(workWords(collector.modes, act), Math.max(40, s.term.columns - 1))) s.out.line(line);
  }
  return stop;
}

/**
 * `demo --print-list [BASE]`: the demo's list as a URL file (its comment lines are skipped as
 * input), for a user's own runs against `fetchall serve` at BASE, by default serve's own default.
 */
export async function printDemoList(base: string | null, term: Terminal): Promise<Outcome> {
  const s = session(term, false);
  try {
    const at = base ?? `http://127.0.0.1:${SERVE_PORT}`;
    s.out.line(`# fetchall demo's list: ${DEMO_PATHS.length} URLs on the built-in server at ${at}.`);
    if (base === null)
      s.out.line(`# Start that server first (fetchall serve --port ${SERVE_PORT}), or give its URL: demo --print-list URL.`);
    s.out.line('# Save it (> demo.txt), then e.g.: fetchall compare --modes inline,threads,async demo.txt');
    for (const url of demoUrls(at)) s.out.line(url);
    await s.out.drain();
    return s.finish({ stop: s.out.closed && !s.out.error ? 'EPIPE' : null });
  } finally {
    s.unhook();
  }
}

function demoOptions(opts: DemoOptions, term: Terminal): RunOptions {
  return {
    mode: opts.modes[0]!,
    ...DEFAULTS,
    concurrency: opts.concurrency,
    perHost: null,
    headers: [],
    userAgent: opts.userAgent,
    outputDir: null,
    format: 'text',
    header: true,
    sort: 'completion',
    quiet: false,
    timeline: true,
    color: term.paint.enabled,
    body: null,
    // Its own loopback server, which no proxy of the environment could reach.
    proxy: { proxy: null, noProxy: true, env: {} },
    insecure: false,
    cacert: null,
    work: null,
  };
}

function intro(s: Session, opts: DemoOptions, urls: number, url: string): void {
  const p = s.paint;
  s.out.line(
    p.bold(`fetchall demo: ${urls} URLs on the built-in server at ${url}, -c ${opts.concurrency}, modes ${opts.modes.join(', ')}`),
  );
  s.out.line(p.dim('One URL takes 1.5 s, one answers 404; the rest take 100–600 ms. Watch when each one starts.'));
  s.out.line('');
}

/** The server's own view: its peak of concurrent requests beside each mode's claim, said as each run ends and again at the end. */
class Witness {
  private readonly lines: string[] = [];
  /** The most the server saw at once in any run of each mode, for the report. */
  readonly peaks = new Map<string, number>();

  add(s: Session, mode: Mode, summary: RunSummary, seen: number): void {
    const line = `${mode}: peak in flight claimed ${summary.peakInFlight}, seen by the server ${seen}${seen === summary.peakInFlight ? '  ✓' : '  ✗ MISMATCH'}`;
    s.out.line(s.paint.dim(`server's view: ${line}`));
    this.lines.push(line);
    this.peaks.set(mode, Math.max(seen, this.peaks.get(mode) ?? 0));
  }

  print(s: Session): void {
    s.out.line('');
    s.out.line(s.paint.bold("The server's own view of concurrency (its /stats):"));
    for (const line of this.lines) s.out.line(`  ${line}`);
  }
}
