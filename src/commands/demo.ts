// `fetchall demo`: the seed example, offline. The built-in server on a free loopback port, a
// dozen URLs with 100–1500 ms latencies (one much slower, one 404), compared mode by mode, with
// the server's own count of concurrent requests beside each mode's claim.

import type { Mode } from '../core/types.js';
import type { Outcome } from '../exit.js';
import type { InputItem } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import { DEFAULTS, type RunOptions } from '../options.js';
import { type ServerProcess, spawnServer } from '../server/process.js';
import { Collector } from '../sinks/collector.js';
import { printComparison } from '../sinks/report.js';
import { runComparison } from './compare.js';
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
}

export async function demoCommand(opts: DemoOptions, term: Terminal): Promise<Outcome> {
  // The server runs in its own process: inline mode blocks this one's event loop (that is its
  // lesson), and the server's CPU and memory must not be counted as fetchall's.
  const server = await spawnServer();
  const s = session(term, true);
  try {
    const items: InputItem[] = DEMO_PATHS.map((p, index) => ({ kind: 'job', job: { index, url: `${server.url}${p}?i=${index}` } }));
    const o = demoOptions(opts, term);
    intro(s, opts, items.length, server.url);
    const witness: string[] = [];
    const collector = new Collector(opts.modes);
    const stop = await runComparison(items, o, opts, s, collector, {
      before: () => server.reset(),
      after: async (mode, summary) => {
        witness.push(await serverView(s, server, mode, summary));
      },
    });
    printComparison(s, o, collector.modes, stop);
    if (stop === null) {
      s.out.line('');
      s.out.line(s.paint.bold("The server's own view of concurrency (its /stats):"));
      for (const line of witness) s.out.line(`  ${line}`);
    }
    await s.out.drain();
    // The 404 is part of the lesson, not a failure of the demo: only a stop changes its status.
    return s.finish({ stop });
  } finally {
    s.unhook();
    await server.close();
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
    quiet: false,
    timeline: true,
    color: term.paint.enabled,
    body: null,
    // Its own loopback server, which no proxy of the environment could reach.
    proxy: { proxy: null, noProxy: true, env: {} },
    insecure: false,
    cacert: null,
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

/** The server's peak of concurrent requests beside the mode's claim, printed now and kept for the end. */
async function serverView(s: Session, server: ServerProcess, mode: Mode, summary: RunSummary): Promise<string> {
  const seen = (await server.stats()).peak;
  const line = `${mode}: peak in flight claimed ${summary.peakInFlight}, seen by the server ${seen}${seen === summary.peakInFlight ? '  ✓' : '  ✗ MISMATCH'}`;
  s.out.line(s.paint.dim(`server's view: ${line}`));
  return line;
}
