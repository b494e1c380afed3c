// The one place a UrlRecord is built: for a URL after its attempts, and for a bad input line.

import { fetchError } from '../core/errors.js';
import { NO_RESPONSE } from '../core/rules.js';
import type { AttemptResult, Job, Mode, UrlRecord } from '../core/types.js';
import type { InputItem } from '../input.js';

/** A URL's time: its first attempt's start to its last attempt's end (or its stop), waits included. */
export interface Span {
  start: number;
  end: number;
  /** Attempts that really started: a URL cancelled before it began has none. */
  attempts: number;
}

type Outcome = Pick<
  AttemptResult,
  'status' | 'bytes' | 'worker' | 'error' | 'file' | 'finalUrl' | 'redirects' | 'ttfbMs' | 'contentType' | 'workMs'
>;

export function urlRecord(job: Job, mode: Mode, span: Span, outcome: Outcome): UrlRecord {
  return {
    index: job.index,
    url: job.url,
    mode,
    ok: outcome.error === null,
    status: outcome.status,
    bytes: outcome.bytes,
    start: span.start,
    end: span.end,
    ms: span.end - span.start,
    attempts: span.attempts,
    worker: outcome.worker,
    error: outcome.error,
    file: outcome.file,
    finalUrl: outcome.finalUrl,
    redirects: outcome.redirects,
    ttfbMs: outcome.ttfbMs,
    contentType: outcome.contentType,
    workMs: outcome.workMs ?? null,
  };
}

/** A line that is no URL: a failed record at time `t`, never attempted; its message is 'FILE:LINE: reason'. */
export function badLineRecord(item: Extract<InputItem, { kind: 'bad' }>, mode: Mode, t: number): UrlRecord {
  const error = fetchError('BAD_INPUT', `${item.where}: ${item.reason}`);
  return urlRecord({ index: item.index, url: item.text }, mode, { start: t, end: t, attempts: 0 }, { ...NO_RESPONSE, worker: null, error });
}
