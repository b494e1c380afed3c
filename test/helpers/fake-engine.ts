// A fake engine for scheduler tests: each URL answers from a script of delays and outcomes, on
// real timers, and the engine keeps a log of what started and ended and how much was in flight.

import { now } from '../../src/core/clock.js';
import type { AttemptResult, Engine, EngineInfo, Job, Mode } from '../../src/core/types.js';
import type { InputItem } from '../../src/input.js';

/** One attempt's outcome. Default: starts, takes 10 ms, answers 200. */
export interface Step {
  ms?: number;
  status?: number;
  /** A failure with this code and no status (ECONNRESET, TIMEOUT …). */
  code?: string;
  retryAfterMs?: number;
  /** false: the attempt ends before it really starts (onStart never called). */
  starts?: boolean;
  worker?: number;
  bytes?: number;
  file?: string;
  /** What the attempt says it reached (AttemptResult's finalUrl … contentType); null/0 if not given. */
  reached?: Pick<AttemptResult, 'finalUrl' | 'redirects' | 'ttfbMs' | 'contentType'>;
}

export interface LogEntry {
  kind: 'start' | 'end';
  url: string;
  attempt: number;
  t: number;
}

export class FakeEngine implements Engine {
  readonly mode: Mode = 'async';
  readonly log: LogEntry[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly maxPerOrigin = new Map<string, number>();
  private readonly perOrigin = new Map<string, number>();
  private readonly calls = new Map<string, number>();

  /** `script[url]` gives each attempt in turn; its last step repeats; unscripted URLs use `fallback`. */
  constructor(
    private readonly script: Record<string, Step[]> = {},
    private readonly fallback: Step = {},
  ) {}

  async init(): Promise<EngineInfo> {
    return { startupMs: 0, threads: 1 };
  }

  helperPids(): number[] {
    return [];
  }

  async close(): Promise<void> {}

  callsTo(url: string): number {
    return this.calls.get(url) ?? 0;
  }

  starts(url?: string): LogEntry[] {
    return this.log.filter((e) => e.kind === 'start' && (url === undefined || e.url === url));
  }

  ends(url?: string): LogEntry[] {
    return this.log.filter((e) => e.kind === 'end' && (url === undefined || e.url === url));
  }

  async fetch(job: Job, signal: AbortSignal, onStart: (t: number, worker: number | null) => void): Promise<AttemptResult> {
    const attempt = (this.calls.get(job.url) ?? 0) + 1;
    this.calls.set(job.url, attempt);
    const steps = this.script[job.url];
    const step = steps ? steps[Math.min(attempt, steps.length) - 1]! : this.fallback;
    const start = now();
    const worker = step.worker ?? null;
    if (step.starts === false) return outcome(step, start, now(), worker);
    this.began(job.url, attempt, start);
    onStart(start, worker);
    const cancelled = await delay(step.ms ?? 10, signal);
    const end = now();
    this.ended(job.url, attempt, end);
    if (cancelled) return { ...outcome({}, start, end, worker), status: null, bytes: 0, error: { code: 'ABORTED', message: 'cancelled' } };
    return outcome(step, start, end, worker);
  }

  private began(url: string, attempt: number, t: number): void {
    this.log.push({ kind: 'start', url, attempt, t });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const o = new URL(url).origin;
    const n = (this.perOrigin.get(o) ?? 0) + 1;
    this.perOrigin.set(o, n);
    this.maxPerOrigin.set(o, Math.max(n, this.maxPerOrigin.get(o) ?? 0));
  }

  private ended(url: string, attempt: number, t: number): void {
    this.log.push({ kind: 'end', url, attempt, t });
    this.inFlight--;
    const o = new URL(url).origin;
    this.perOrigin.set(o, this.perOrigin.get(o)! - 1);
  }
}

function outcome(step: Step, start: number, end: number, worker: number | null): AttemptResult {
  const status = step.code ? null : (step.status ?? 200);
  const error =
    step.code !== undefined
      ? { code: step.code, message: step.code.toLowerCase() }
      : status !== null && status >= 400
        ? { code: 'HTTP_STATUS', message: `HTTP ${status}` }
        : null;
  return {
    status,
    bytes: step.bytes ?? 0,
    start,
    end,
    worker,
    error,
    file: step.file ?? null,
    retryAfterMs: step.retryAfterMs ?? null,
    finalUrl: null,
    redirects: 0,
    ttfbMs: null,
    contentType: null,
    ...step.reached,
  };
}

/** Wait `ms`, or less if `signal` aborts; true when it did. */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      resolve(true);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Input items for these URLs, in order. */
export async function* jobs(urls: string[]): AsyncGenerator<InputItem> {
  for (const [index, url] of urls.entries()) yield { kind: 'job', job: { index, url } };
}
