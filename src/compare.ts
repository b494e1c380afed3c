// `fetchall compare`: the same list, the same options, each mode in turn; then the table and verdict.

import { writeFileSync } from 'node:fs';
import { UsageError } from './core/errors.js';
import type { Mode } from './core/types.js';
import { exitCodeFor, fetchOnce, report, session, type Terminal } from './fetch.js';
import { type InputItem, readJobs, type Source } from './input.js';
import type { RunSummary } from './measure/stats.js';
import type { RunOptions } from './options.js';
import { compareTable, METRICS, type ModeRuns, meanSd, verdicts } from './render/compare.js';
import type { Out } from './render/write.js';
import type { StopReason } from './signals.js';

export interface CompareOptions {
  modes: Mode[];
  runs: number;
  json: string | null;
}

export interface CompareResult {
  modes: ModeRuns[];
  stop: StopReason | null;
}

async function* replay(items: InputItem[]): AsyncGenerator<InputItem> {
  yield* items;
}

/** Every run of every mode, in rounds (m1, m2, m1, m2 …) so slow drift hits each mode alike. */
export async function runComparison(
  items: InputItem[],
  o: RunOptions,
  c: CompareOptions,
  term: Terminal,
  ctl: AbortController,
  out: Out,
  err: Out,
  hooks: { before?: () => Promise<void>; after?: (mode: Mode, summary: RunSummary) => Promise<void> } = {},
): Promise<CompareResult> {
  const results: ModeRuns[] = c.modes.map((mode) => ({ mode, runs: [] }));
  let header = true;
  let badReported = false;
  for (let round = 1; round <= c.runs; round++) {
    for (const entry of results) {
      if (ctl.signal.aborted) return { modes: results, stop: ctl.signal.reason as StopReason };
      const mode = entry.mode as Mode;
      const text = o.format === 'text';
      const title = `── ${mode}${c.runs > 1 ? ` (run ${round}/${c.runs})` : ''} ──`;
      if (text) out.line(`${header ? '' : '\n'}${term.paint.bold(title)}`);
      await hooks.before?.();
      const { summary, stop } = await fetchOnce(replay(items), o, mode, term, ctl, {
        out,
        // Bad lines are reported once, not once per run.
        badLines: badReported ? null : err,
        knownTotal: { value: items.length },
        header,
      });
      badReported = true;
      header = false;
      if (summary) {
        entry.runs.push(summary);
        if (text && stop === null) report(summary, o, term, out, err, stop);
        if (stop === null) await hooks.after?.(mode, summary);
      }
      if (stop) return { modes: results, stop };
    }
  }
  return { modes: results, stop: null };
}

function exportable(s: RunSummary) {
  const { spans: _spans, inFlight: _inFlight, ...figures } = s;
  return figures;
}

/** A comparison has modes, not a mode. */
function withoutMode(o: RunOptions): Omit<RunOptions, 'mode'> {
  const { mode: _mode, ...rest } = o;
  return rest;
}

export function comparisonJson(result: CompareResult, o: RunOptions, c: CompareOptions, urls: number) {
  return {
    tool: 'fetchall',
    date: new Date().toISOString(),
    urls,
    options: { ...withoutMode(o), modes: c.modes, runs: c.runs },
    interrupted: result.stop,
    modes: result.modes.map((m) => ({
      mode: m.mode,
      runs: m.runs.map(exportable),
      mean: Object.fromEntries(METRICS.map((x) => [x.label, meanSd(m.runs.map(x.get))])),
    })),
    verdict: verdicts(result.modes),
  };
}

export async function compareCommand(sources: Source[], o: RunOptions, c: CompareOptions, term: Terminal): Promise<number> {
  const { ctl, out, err, unhook } = session(term, o.format === 'text' || c.modes.includes('inline'));
  if (c.json) {
    try {
      writeFileSync(c.json, '');
    } catch (e) {
      unhook();
      throw new UsageError(`--json: cannot write '${c.json}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  try {
    // Each mode must see the same list, so compare reads it whole (fetch alone streams it).
    const items: InputItem[] = [];
    for await (const item of readJobs(sources)) items.push(item);
    if (items.length === 0) throw new UsageError('nothing to fetch: the input held no URLs');
    const result = await runComparison(items, o, c, term, ctl, out, err);
    const failed = result.modes.reduce((n, m) => n + m.runs.reduce((k, s) => k + s.failed, 0), 0);
    if (result.stop !== 'EPIPE') printVerdict(result, o, term, out, err);
    if (c.json) writeFileSync(c.json, `${JSON.stringify(comparisonJson(result, o, c, items.length), null, 2)}\n`);
    await out.drain();
    return exitCodeFor({ failed, stop: result.stop });
  } finally {
    unhook();
  }
}

export function printVerdict(result: CompareResult, o: RunOptions, term: Terminal, out: Out, err: Out): void {
  const toStdout = o.format === 'text' && result.stop === null;
  if (!toStdout && o.quiet) return;
  const target = toStdout ? out : err;
  const paint = toStdout ? term.paint : term.errPaint;
  const done = result.modes.filter((m) => m.runs.length > 0);
  if (done.length === 0) return;
  target.line(`\n${paint.bold('Comparison')}${result.stop ? paint.yellow(`  (interrupted by ${result.stop}: partial)`) : ''}`);
  target.line(compareTable(done, paint));
  const v = verdicts(done);
  if (v.length > 0) target.line('');
  for (const line of v) target.line(paint.bold(line.text));
}
