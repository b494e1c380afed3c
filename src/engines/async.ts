// The async engine: undici on the event loop, one thread; concurrency without threads.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { now } from '../measure/clock.js';
import { fetchError, mapError, parseRetryAfter, redirectStep, safeName, statusError, tempPath } from './common.js';
import type { AttemptResult, Engine, EngineInfo, FetchError, Job, RequestOptions } from './types.js';

class SizeLimit extends Error {}

export class AsyncEngine implements Engine {
  readonly mode = 'async' as const;
  private readonly agent: Agent;
  private readonly baseHeaders: Record<string, string>;

  constructor(
    private readonly opts: RequestOptions,
    concurrency: number,
  ) {
    // Timeouts are ours (a whole-request deadline via abort), so undici's per-phase ones are off.
    this.agent = new Agent({
      connections: concurrency,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 4000,
      connect: { timeout: opts.timeoutMs },
    });
    const headers: Record<string, string> = { 'user-agent': opts.userAgent };
    for (const [name, value] of opts.headers) {
      const key = name.toLowerCase();
      headers[key] = key in headers && key !== 'user-agent' ? `${headers[key]}, ${value}` : value;
    }
    this.baseHeaders = headers;
  }

  async init(): Promise<EngineInfo> {
    return { startupMs: 0, threads: 1 };
  }

  helperPids(): number[] {
    return [];
  }

  async fetch(job: Job, signal: AbortSignal, onStart: (t: number, worker: number | null) => void): Promise<AttemptResult> {
    const start = now();
    onStart(start, null);
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, this.opts.timeoutMs);
    const onCancel = () => ctl.abort();
    signal.addEventListener('abort', onCancel);
    let status: number | null = null;
    let bytes = 0;
    let file: string | null = null;
    let retryAfterMs: number | null = null;
    let error: FetchError | null = null;
    try {
      let url = job.url;
      let method = this.opts.method;
      const visited = new Set([new URL(url).href]);
      for (;;) {
        const u = new URL(url);
        const res = await this.agent.request({
          origin: u.origin,
          path: u.pathname + u.search,
          method: method as Dispatcher.HttpMethod,
          headers: this.baseHeaders,
          signal: ctl.signal,
        });
        // Destroying a body on a size limit or a redirect emits 'error'; it is handled here.
        res.body.on('error', () => {});
        status = res.statusCode;
        const step = redirectStep(status, headerOf(res.headers.location), url, method, visited, this.opts.maxRedirects);
        if (step.kind === 'follow') {
          await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
          url = step.url;
          method = step.method;
          continue;
        }
        if (step.kind === 'fail') {
          res.body.destroy();
          error = step.error;
          break;
        }
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
        const declared = Number(headerOf(res.headers['content-length']) ?? Number.NaN);
        if (declared > this.opts.maxSize) {
          res.body.destroy();
          throw new SizeLimit();
        }
        if (this.opts.outputDir !== null && status < 400) {
          const saved = await this.save(res.body, job);
          bytes = saved.bytes;
          file = saved.file;
        } else {
          const limit = this.opts.maxSize;
          for await (const chunk of res.body) {
            bytes += (chunk as Buffer).length;
            if (bytes > limit) {
              res.body.destroy();
              throw new SizeLimit();
            }
          }
        }
        error = statusError(status);
        break;
      }
    } catch (err) {
      if (err instanceof SizeLimit) error = fetchError('SIZE_LIMIT', `body larger than ${this.opts.maxSize} bytes`);
      else if (timedOut) error = fetchError('TIMEOUT', `no complete response within ${this.opts.timeoutMs} ms`);
      else if (signal.aborted) error = fetchError('ABORTED', 'cancelled');
      else error = mapError(err);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onCancel);
    }
    return { status, bytes, start, end: now(), worker: null, error, file, retryAfterMs };
  }

  /** Stream a body to a temporary file and rename it into place only when complete. */
  private async save(body: Dispatcher.ResponseData['body'], job: Job): Promise<{ bytes: number; file: string }> {
    const dir = this.opts.outputDir!;
    const name = safeName(job.url);
    const tmp = tempPath(dir, name, job.index);
    const out = createWriteStream(tmp, { flags: 'wx' });
    let bytes = 0;
    try {
      await once(out, 'open');
      for await (const chunk of body) {
        bytes += (chunk as Buffer).length;
        if (bytes > this.opts.maxSize) {
          body.destroy();
          throw new SizeLimit();
        }
        if (!out.write(chunk)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      const final = join(dir, name);
      await rename(tmp, final);
      return { bytes, file: final };
    } catch (err) {
      out.destroy();
      await unlink(tmp).catch(() => {});
      if (err instanceof SizeLimit || !isFsError(err)) throw err;
      throw Object.assign(new Error(`cannot save body: ${(err as Error).message}`), { code: 'WRITE_FAILED' });
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy().catch(() => {});
  }
}

function isFsError(err: unknown): boolean {
  return typeof (err as { syscall?: unknown })?.syscall === 'string' && (err as { path?: unknown }).path !== undefined;
}

function headerOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
