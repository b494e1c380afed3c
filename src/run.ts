// One run: feeds jobs to an engine (at most -c in flight, at most --per-host per origin,
// retries with backoff), turns attempts into records and events, measures, and stops on request.

import { setMaxListeners } from 'node:events';
import { fetchError } from './core/errors.js';
import { originOf } from './core/rules.js';
import type { AttemptResult, Engine, Job, Mode, RequestOptions, RunEvent, UrlRecord } from './core/types.js';
import type { InputItem } from './input.js';
import { now, sleep } from './measure/clock.js';
import { RunMeter, type RunSummary } from './measure/stats.js';

export interface RunConfig {
  mode: Mode;
  concurrency: number;
  perHost: number | null;
  retries: number;
  /** The longest wait before a retry: our backoff is capped at it; a longer Retry-After fails the URL. */
  retryMaxWaitMs: number;
  request: RequestOptions;
}

export interface RunHooks {
  /** Every event, as it happens. */
  onEvent(e: RunEvent): void;
  /** A bad input line, as 'FILE:LINE: reason'. */
  onBadLine(message: string): void;
}

/** Engines load on demand: undici alone takes a third of a second to load, and only async needs it. */
export async function createEngine(config: RunConfig): Promise<Engine> {
  switch (config.mode) {
    case 'async': {
      const { AsyncEngine } = await import('./engines/async.js');
      return new AsyncEngine(config.request, config.concurrency);
    }
    case 'threads': {
      const { ThreadsEngine } = await import('./engines/threads.js');
      return new ThreadsEngine(config.request, config.concurrency);
    }
    case 'inline': {
      const { InlineEngine } = await import('./engines/inline.js');
      return new InlineEngine(config.request);
    }
  }
}

const RETRYABLE_CODES = new Set([
  'TIMEOUT',
  'SOCKET_CLOSED',
  'PROTOCOL_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'REQUEST_FAILED',
]);

function retryable(r: AttemptResult): boolean {
  if (r.status !== null && (r.status === 429 || r.status >= 500) && r.error?.code === 'HTTP_STATUS') return true;
  return r.error !== null && RETRYABLE_CODES.has(r.error.code);
}

/**
 * The wait before the next attempt: exponential backoff with jitter (100 ms, 200 ms, 400 ms …, at
 * most 10 s and at most `maxWaitMs`), or the server's Retry-After when longer. null when the
 * server asks for longer than `maxWaitMs`: the URL fails now rather than stalling the run.
 */
export function backoffMs(attempt: number, retryAfterMs: number | null, maxWaitMs: number, random = Math.random): number | null {
  const base = Math.min(10_000, 100 * 2 ** (attempt - 1));
  const jittered = Math.min(maxWaitMs, base / 2 + random() * (base / 2));
  if (retryAfterMs === null) return jittered;
  return retryAfterMs > maxWaitMs ? null : Math.max(jittered, retryAfterMs);
}

/** '500 ms', '10 s', '1.5 s': for a reason in a record. */
function waitText(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Run the items through an already initialised engine. Resolves with the summary when every job
 * is done, or soon after `signal` aborts (in-flight requests are cancelled, not awaited).
 */
export async function runJobs(
  items: AsyncIterable<InputItem>,
  engine: Engine,
  config: RunConfig,
  hooks: RunHooks,
  signal: AbortSignal,
  setup: { startupMs: number; threads: number },
): Promise<RunSummary> {
  // Every request in flight listens for the stop; that is not a leak.
  setMaxListeners(0, signal);
  const meter = new RunMeter(config.mode, () => engine.helperPids());
  const iterator = items[Symbol.asyncIterator]();
  const perHost = new Map<string, number>();
  const deferred = new Map<string, Job[]>();
  let deferredCount = 0;
  const deferCap = config.concurrency * 4;
  let running = 0;
  // Read from the input after a stop, never started (deferred jobs are counted at the end).
  let readAfterStop = 0;
  let exhausted = false;
  let pulling = false;
  const emit = hooks.onEvent;

  const finishRecord = (r: UrlRecord) => {
    meter.record(r);
    emit(r.ok ? { kind: 'done', record: r } : { kind: 'fail', record: r });
  };

  const runJob = async (job: Job): Promise<void> => {
    let first: number | null = null;
    let result: AttemptResult | null = null;
    let attempt = 0;
    let started = 0;
    // A stop during a retry wait ends the URL then, not at its last attempt's end.
    let stoppedAt: number | null = null;
    let refused: string | null = null;
    while (attempt <= config.retries) {
      attempt++;
      const n = attempt;
      let began: number | null = null;
      result = await engine.fetch(job, signal, (t, worker) => {
        began = t;
        started++;
        if (first === null) first = t;
        meter.attemptStarted(n);
        emit({ kind: 'start', index: job.index, url: job.url, t, worker, attempt: n });
      });
      if (began !== null) meter.attemptEnded(began, result.end);
      if (first === null) first = result.start;
      if (signal.aborted || attempt > config.retries || !retryable(result)) break;
      const wait = backoffMs(attempt, result.retryAfterMs, config.retryMaxWaitMs);
      if (wait === null) {
        refused = `the server asked to wait (Retry-After ${waitText(result.retryAfterMs!)}), longer than --retry-max-wait ${waitText(config.retryMaxWaitMs)}`;
        break;
      }
      await sleep(wait, signal);
      if (signal.aborted) {
        stoppedAt = now();
        break;
      }
    }
    const r = result!;
    const end = stoppedAt ?? r.end;
    finishRecord({
      index: job.index,
      url: job.url,
      mode: config.mode,
      ok: r.error === null,
      status: r.status,
      bytes: r.bytes,
      start: first!,
      end,
      ms: end - first!,
      // Attempts that really started: a URL cancelled before it began has none.
      attempts: started,
      worker: r.worker,
      error: refused && r.error ? { code: r.error.code, message: `${r.error.message}: ${refused}` } : r.error,
      file: r.file,
    });
  };

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      // On a stop, a pull still waiting for input (an endless stdin) is abandoned, not awaited.
      if (!settled && running === 0 && (signal.aborted || (exhausted && !pulling))) {
        settled = true;
        resolve();
      }
    };
    const launch = (job: Job, origin: string) => {
      running++;
      if (config.perHost !== null) perHost.set(origin, (perHost.get(origin) ?? 0) + 1);
      runJob(job).then(
        () => {
          running--;
          if (config.perHost !== null) {
            const left = perHost.get(origin)! - 1;
            if (left === 0) perHost.delete(origin);
            else perHost.set(origin, left);
          }
          pump();
        },
        (err) => {
          settled = true;
          reject(err);
        },
      );
    };
    const hasRoom = (origin: string) => config.perHost === null || (perHost.get(origin) ?? 0) < config.perHost;
    const handle = (item: InputItem) => {
      if (item.kind === 'bad') {
        hooks.onBadLine(`${item.where}: ${item.reason}`);
        const t = now();
        finishRecord({
          index: item.index,
          url: item.text,
          mode: config.mode,
          ok: false,
          status: null,
          bytes: 0,
          start: t,
          end: t,
          ms: 0,
          attempts: 0,
          worker: null,
          error: fetchError('BAD_INPUT', `${item.where}: ${item.reason}`),
          file: null,
        });
        return;
      }
      const origin = config.perHost === null ? '' : originOf(item.job.url);
      if (running < config.concurrency && hasRoom(origin)) launch(item.job, origin);
      else {
        const q = deferred.get(origin);
        if (q) q.push(item.job);
        else deferred.set(origin, [item.job]);
        deferredCount++;
      }
    };
    const pump = () => {
      if (signal.aborted) return settle();
      if (deferredCount > 0) {
        for (const [origin, q] of deferred) {
          while (q.length > 0 && running < config.concurrency && hasRoom(origin)) {
            launch(q.shift()!, origin);
            deferredCount--;
          }
          if (q.length === 0) deferred.delete(origin);
          if (running >= config.concurrency) break;
        }
      }
      if (!exhausted && !pulling && running < config.concurrency && deferredCount < deferCap) {
        pulling = true;
        iterator.next().then(
          (r) => {
            pulling = false;
            if (r.done) exhausted = true;
            else if (signal.aborted) readAfterStop++;
            else handle(r.value);
            pump();
          },
          (err) => {
            settled = true;
            reject(err);
          },
        );
      }
      settle();
    };
    signal.addEventListener('abort', () => settle(), { once: true });
    pump();
  });
  if (signal.aborted) void iterator.return?.(undefined);
  return meter.finish({
    startupMs: setup.startupMs,
    threads: setup.threads,
    helpers: engine.helperPids().length,
    interrupted: signal.aborted ? String(signal.reason ?? 'aborted') : null,
    notStarted: signal.aborted ? { count: deferredCount + readAfterStop, more: !exhausted } : null,
    blockedMs: engine.longestBlockMs?.() ?? 0,
  });
}
