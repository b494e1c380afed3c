// Saved `-f ndjson` records read back: from files or stdin, streamed, checked line by line, merged
// across runs and shards with duplicates (the same mode, index and URL) counted. Bad lines are reported and skipped.

import type { Readable } from 'node:stream';
import { lines, openFile } from '../input.js';
import { escapeControls } from '../render/escape.js';

/** One record as `-f ndjson` writes it, times back to epoch ms. */
export interface SavedRecord {
  index: number;
  url: string;
  mode: string;
  ok: boolean;
  status: number | null;
  bytes: number;
  start: number;
  end: number;
  ms: number;
  attempts: number;
  worker: number | null;
  error: { code: string; message: string } | null;
  file: string | null;
  /** Fields added later (start_ms … work_ms): null when a record predates them or has none. */
  finalUrl: string | null;
  redirects: number | null;
  ttfbMs: number | null;
  contentType: string | null;
  workMs: number | null;
}

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
 * Records per mode, in the order first seen. A duplicate is the same record again: the same index
 * and URL (a rerun appended to one file), or the same URL from another source (another shard or
 * run). One run's records of a URL listed several times have distinct indexes: all are kept.
 */
export class RecordMerger {
  readonly byMode = new Map<string, Map<string, SavedRecord>>();
  /** Records dropped as duplicates, per mode. */
  readonly duplicates = new Map<string, number>();
  /** Per mode, each URL's first record's key and source, to find it from another source. */
  private readonly firstOf = new Map<string, Map<string, { key: string; source: number }>>();

  /** A duplicate keeps one record: an ok one over a failure (a rerun), else the first. `source`: which file it came from. */
  add(r: SavedRecord, source = 0): void {
    let records = this.byMode.get(r.mode);
    let firsts = this.firstOf.get(r.mode);
    if (!records || !firsts) {
      records = new Map();
      firsts = new Map();
      this.byMode.set(r.mode, records);
      this.firstOf.set(r.mode, firsts);
    }
    // A record is its list's item at `index`: the URL only confirms the list. The same URL at
    // other indexes (a list holding it many times, split across shards) is other records.
    const key = `${r.index}\n${r.url}`;
    const first = firsts.get(r.url);
    const same = records.has(key) ? key : null;
    if (same !== null) {
      this.duplicates.set(r.mode, (this.duplicates.get(r.mode) ?? 0) + 1);
      if (!records.get(same)!.ok && r.ok) records.set(same, r);
      return;
    }
    records.set(key, r);
    if (!first) firsts.set(r.url, { key, source });
  }

  modes(): { mode: string; records: SavedRecord[] }[] {
    return [...this.byMode].map(([mode, urls]) => ({ mode, records: [...urls.values()] }));
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
  for (const [n, source] of sources.entries()) {
    const name = source.kind === 'file' ? escapeControls(source.path) : '<stdin>';
    const stream = source.kind === 'file' ? openFile(source.path, stdin) : stdin;
    try {
      for await (const [lineNo, raw] of lines(stream, MAX_RECORD)) {
        const text = raw?.trim() ?? null;
        if (text === '') continue;
        const r = text === null ? `line longer than ${MAX_RECORD} characters` : parseRecord(text);
        if (typeof r === 'string') {
          bad++;
          onBad(`${name}:${lineNo}: ${r}`);
        } else merger.add(r, n);
      }
    } finally {
      if (stream !== stdin) stream.destroy();
    }
  }
  return { merger, bad };
}
