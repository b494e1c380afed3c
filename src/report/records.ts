// Saved `-f ndjson` records read back: from files or stdin, streamed, checked line by line, merged
// across runs and shards with duplicates (the same mode, index and URL) counted, and folded into
// each mode's summary as they come (no record is held). Bad lines are reported and skipped.

import type { Readable } from 'node:stream';
import { lineBatches, openFile } from '../input.js';
import type { RunSummary } from '../measure/stats.js';
import { escapeControls } from '../render/escape.js';
import type { SavedRecord } from './saved.js';
import { ModeTally } from './tally.js';

export type { SavedRecord } from './saved.js';

export type RecordSource = { kind: 'file'; path: string } | { kind: 'stdin' };

/** A record holds a URL (up to the input's 16 KiB line) plus an error message: 1 MiB is plenty. */
const MAX_RECORD = 1024 * 1024;

type Row = Record<string, unknown>;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const orNull = (v: unknown, test: (v: unknown) => boolean) => v === null || test(v);

/** The first field that is missing or of the wrong kind, or null. */
function badField(r: Row): string | null {
  const checks: [string, (v: unknown) => boolean][] = [
    ['index', isInt],
    ['url', (v) => typeof v === 'string' && v.length > 0],
    // A mode is printed as a heading: a plain word only, so a record cannot smuggle escapes in.
    ['mode', (v) => typeof v === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(v)],
    ['ok', (v) => typeof v === 'boolean'],
    ['status', (v) => orNull(v, isInt)],
    ['bytes', isNum],
    ['start', (v) => typeof v === 'string' && Number.isFinite(Date.parse(v))],
    ['end', (v) => typeof v === 'string' && Number.isFinite(Date.parse(v))],
    ['attempts', isInt],
    ['worker', (v) => orNull(v, isInt)],
    ['error', (v) => orNull(v, (e) => typeof e === 'object' && typeof (e as Row).code === 'string')],
  ];
  for (const [name, ok] of checks) {
    if (!(name in r)) return `no '${name}' field`;
    if (!ok(r[name])) return `bad '${name}' field`;
  }
  // Later fields: a record from an older fetchall has none of them, and that is fine.
  const later: [string, (v: unknown) => boolean][] = [
    ['start_ms', (v) => typeof v === 'number' && Number.isFinite(v)],
    ['end_ms', (v) => typeof v === 'number' && Number.isFinite(v)],
    ['final_url', (v) => orNull(v, (s) => typeof s === 'string')],
    ['redirects', (v) => orNull(v, isInt)],
    ['ttfb_ms', (v) => orNull(v, isNum)],
    ['content_type', (v) => orNull(v, (s) => typeof s === 'string')],
    ['work_ms', (v) => orNull(v, isNum)],
  ];
  for (const [name, ok] of later) if (name in r && !ok(r[name])) return `bad '${name}' field`;
  return null;
}

/** A record from one ndjson line, or why the line is not one. */
export function parseRecord(text: string): SavedRecord | string {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a JSON object';
  const row = r as Row;
  const why = badField(row);
  if (why) return `not a fetchall record (${why})`;
  const start = Date.parse(row.start as string);
  const end = Date.parse(row.end as string);
  if (end < start) return "not a fetchall record ('end' before 'start')";
  const error = row.error as { code: string; message?: unknown } | null;
  return {
    index: row.index as number,
    url: row.url as string,
    mode: row.mode as string,
    ok: row.ok as boolean,
    status: row.status as number | null,
    bytes: row.bytes as number,
    start,
    end,
    ms: isNum(row.ms) ? row.ms : end - start,
    attempts: row.attempts as number,
    worker: row.worker as number | null,
    error: error ? { code: error.code, message: typeof error.message === 'string' ? error.message : '' } : null,
    file: typeof row.file === 'string' ? row.file : null,
    finalUrl: (row.final_url as string | null | undefined) ?? null,
    redirects: (row.redirects as number | null | undefined) ?? null,
    ttfbMs: (row.ttfb_ms as number | null | undefined) ?? null,
    contentType: (row.content_type as string | null | undefined) ?? null,
    workMs: (row.work_ms as number | null | undefined) ?? null,
  };
}

/**
 * Records per mode, in the order first seen, each mode folded into its summary as read (tally.ts).
 * A duplicate is the same record again: the same index and URL (a rerun appended to one file, the
 * same file given twice). One run's records of a URL listed several times have distinct indexes,
 * and shards of one list disjoint ones: all are kept. The same index with another URL is another
 * list's item, and kept too.
 */
export class RecordMerger {
  readonly byMode = new Map<string, ModeTally>();

  /** A duplicate keeps one record: an ok one over a failure (a rerun), else the first. */
  add(r: SavedRecord): void {
    let tally = this.byMode.get(r.mode);
    if (!tally) {
      tally = new ModeTally(r.mode);
      this.byMode.set(r.mode, tally);
    }
    tally.add(r);
  }

  /** Records dropped as duplicates, per mode (modes with none left out). */
  get duplicates(): Map<string, number> {
    return new Map([...this.byMode].filter(([, t]) => t.duplicates > 0).map(([m, t]) => [m, t.duplicates]));
  }

  /** Each mode's summary, in the order first seen. Call once, after the last record. */
  summaries(): RunSummary[] {
    return [...this.byMode.values()].map((t) => t.summary());
  }

  /** What is approximate in the summaries, in words (nothing, unless a run was very long). */
  notes(): string[] {
    return [...this.byMode.values()].flatMap((t) => t.notes());
  }
}

export interface ReadResult {
  merger: RecordMerger;
  /** Lines reported and skipped. */
  bad: number;
}

/** Every source in order into one merger; each bad line goes to `onBad` as 'FILE:LINE: reason'. */
export async function readRecords(sources: RecordSource[], stdin: Readable, onBad: (line: string) => void): Promise<ReadResult> {
  const merger = new RecordMerger();
  let bad = 0;
  for (const source of sources) {
    const name = source.kind === 'file' ? escapeControls(source.path) : '<stdin>';
    const stream = source.kind === 'file' ? openFile(source.path, stdin) : stdin;
    try {
      for await (const batch of lineBatches(stream, MAX_RECORD)) {
        for (const [lineNo, raw] of batch) {
          const r = readLine(raw);
          if (r === null) continue;
          if (typeof r === 'string') {
            bad++;
            onBad(`${name}:${lineNo}: ${r}`);
          } else merger.add(r);
        }
      }
    } finally {
      if (stream !== stdin) stream.destroy();
    }
  }
  return { merger, bad };
}

/** A line as a record, why it is not one, or null for a blank line. */
function readLine(raw: string | null): SavedRecord | string | null {
  const text = raw?.trim() ?? null;
  if (text === '') return null;
  return text === null ? `line longer than ${MAX_RECORD} characters` : parseRecord(text);
}
