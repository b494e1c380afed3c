// `fetchall demo`: the seed example, offline. The built-in server on a free loopback port, a
// dozen URLs with 100–1500 ms latencies (one much slower, one 404), compared mode by mode, with
// the server's own count of concurrent requests beside each mode's claim.

import { VERSION } from '../cli.js';
import type { Mode } from '../engines/types.js';
import type { InputItem } from '../input.js';
import { DEFAULTS, type RunOptions } from '../options.js';
import { spawnServer } from '../server/process.js';
import { EXIT_FOR } from '../signals.js';
import { printVerdict, runComparison } from './compare.js';
import { session, type Terminal } from './fetch.js';

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

export async function demoCommand(opts: { modes: Mode[]; concurrency: number; runs: number }, term: Terminal): Promise<number> {
  // The server runs in its own process: inline mode blocks this one's event loop (that is its
  // lesson), and the server's CPU and memory must not be counted as fetchall's.
  const server = await spawnServer();
  const { ctl, out, err, unhook, status } = session(term, true);
  try {
    const items: InputItem[] = DEMO_PATHS.map((p, index) => ({ kind: 'job', job: { index, url: `${server.url}${p}?i=${index}` } }));
    const o: RunOptions = {
      mode: opts.modes[0]!,
      ...DEFAULTS,
      concurrency: opts.concurrency,
      perHost: null,
      headers: [],
      userAgent: `fetchall/${VERSION}`,
      outputDir: null,
      format: 'text',
      quiet: false,
      timeline: true,
      color: term.paint.enabled,
    };
    const p = term.paint;
    out.line(
      p.bold(
        `fetchall demo: ${items.length} URLs on the built-in server at ${server.url}, -c ${opts.concurrency}, modes ${opts.modes.join(', ')}`,
      ),
    );
    out.line(p.dim('One URL takes 1.5 s, one answers 404; the rest take 100–600 ms. Watch when each one starts.'));
    out.line('');
    const witness: string[] = [];
    const result = await runComparison(items, o, { modes: opts.modes, runs: opts.runs, json: null }, term, ctl, out, err, {
      before: () => server.reset(),
      after: async (mode, summary) => {
        const seen = (await server.stats()).peak;
        const line = `${mode}: peak in flight claimed ${summary.peakInFlight}, seen by the server ${seen}${seen === summary.peakInFlight ? '  ✓' : '  ✗ MISMATCH'}`;
        witness.push(line);
        out.line(p.dim(`server's view: ${line}`));
      },
    });
    printVerdict(result, o, term, out, err);
    if (result.stop === null) {
      out.line('');
      out.line(p.bold("The server's own view of concurrency (its /stats):"));
      for (const line of witness) out.line(`  ${line}`);
    }
    await out.drain();
    return status(result.stop ? EXIT_FOR[result.stop] : 0);
  } finally {
    unhook();
    await server.close();
  }
}
