// Machine formats: one record per URL as ndjson, csv or tsv, with the contract's field names.

import { iso } from '../core/clock.js';
import type { UrlRecord } from '../core/types.js';
import { escapeControls, jsonText } from './escape.js';

export const FIELDS = [
  'index',
  'url',
  'mode',
  'ok',
  'status',
  'bytes',
  'start',
  'end',
  'ms',
  'attempts',
  'worker',
  'error',
  'file',
  // Appended, so a reader of the fields above (by position in csv/tsv) keeps working.
  'start_ms',
  'end_ms',
  'final_url',
  'redirects',
  'ttfb_ms',
  'content_type',
  'work_ms',
] as const;

/** Durations (ms, ttfb_ms, work_ms) to 0.1 ms. */
const ms = (n: number) => Math.round(n * 10) / 10;
/** Offsets from the run's start (start_ms, end_ms) to 0.001 ms, so end_ms - start_ms matches ms to its 0.1. */
const offset = (t: number, origin: number) => Math.round((t - origin) * 1000) / 1000;

/** `origin`: the run's start (Sink.onStart), which start_ms and end_ms count from. */
export function ndjson(r: UrlRecord, origin: number): string {
  return jsonText({
    index: r.index,
    url: r.url,
    mode: r.mode,
    ok: r.ok,
    status: r.status,
    bytes: r.bytes,
    start: iso(r.start),
    end: iso(r.end),
    ms: ms(r.ms),
    attempts: r.attempts,
    worker: r.worker,
    error: r.error,
    file: r.file,
    start_ms: offset(r.start, origin),
    end_ms: offset(r.end, origin),
    final_url: r.finalUrl,
    redirects: r.redirects,
    ttfb_ms: r.ttfbMs === null ? null : ms(r.ttfbMs),
    content_type: r.contentType,
    work_ms: r.workMs == null ? null : ms(r.workMs),
  });
}

function cells(r: UrlRecord, origin: number): string[] {
  return [
    String(r.index),
    r.url,
    r.mode,
    String(r.ok),
    r.status === null ? '' : String(r.status),
    String(r.bytes),
    iso(r.start),
    iso(r.end),
    String(ms(r.ms)),
    String(r.attempts),
    r.worker === null ? '' : String(r.worker),
    r.error ? `${r.error.code}: ${r.error.message}` : '',
    r.file ?? '',
    String(offset(r.start, origin)),
    String(offset(r.end, origin)),
    r.finalUrl ?? '',
    String(r.redirects),
    r.ttfbMs === null ? '' : String(ms(r.ttfbMs)),
    r.contentType ?? '',
    r.workMs == null ? '' : String(ms(r.workMs)),
  ];
}

/**
 * RFC 4180: quote a field holding a comma, quote, LF or tab; double inner quotes. LF and tab are
 * the format's own (harmless on a terminal); every other control, CR included, is escaped.
 */
function csvCell(raw: string): string {
  const s = escapeControls(raw, '\n\t');
  return /[",\n\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * TSV has no quoting: tabs, newlines and backslashes are escaped as \t \n \r \\, then any other
 * control character as \xNN (unambiguous, since a literal backslash is doubled).
 */
function tsvCell(s: string): string {
  const named = /[\t\r\n\\]/.test(s) ? s.replace(/[\t\r\n\\]/g, (c) => ({ '\t': '\\t', '\r': '\\r', '\n': '\\n', '\\': '\\\\' })[c]!) : s;
  return escapeControls(named);
}

export const csvHeader = FIELDS.join(',');
export const tsvHeader = FIELDS.join('\t');
export const csv = (r: UrlRecord, origin: number) => cells(r, origin).map(csvCell).join(',');
export const tsv = (r: UrlRecord, origin: number) => cells(r, origin).map(tsvCell).join('\t');
