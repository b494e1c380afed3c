// The threads engine: a pool of worker threads, each blocking in sync-request — the
// run_in_executor pattern. Owns the pool's start-up, dispatch, watchdog and shutdown, and the
// helper processes: one shared by the pool, or (--helper-per-thread) the one each worker's
// sync-request starts as shipped.

import { Worker } from 'node:worker_threads';
import { clampTimer, now } from '../core/clock.js';
import { fetchError } from '../core/errors.js';
import { noResponse } from '../core/rules.js';
import type { AttemptResult, Engine, EngineInfo, FetchError, HopGate, Job, RequestOptions } from '../core/types.js';
import { adoptHelper, stopHelpers } from '../sync/helpers.js';
import { Relay } from '../sync/relay.js';
import { pingHelper, type SharedHelper, startSharedHelper, untilAlive } from '../sync/shared-helper.js';
import { spoolBody, unspoolBody } from './blocking.js';
import type { FromWorker, ToWorker, WorkerData } from './pool-protocol.js';

/** How long past its deadline a worker may stay silent before it is replaced. */
const WATCHDOG_GRACE_MS = 2000;

interface Task {
  job: Job;
  onStart: (t: number, worker: number | null) => void;
  resolve: (r: AttemptResult) => void;
  started: number;
  gate: HopGate | null;
}

interface Slot {
  /** The worker's number as the user sees the pool: 1..N; a replacement takes the number it replaces. */
  id: number;
  worker: Worker;
  helper: number | null;
  ready: boolean;
  task: Task | null;
  watchdog: NodeJS.Timeout | null;
  /** Shared with the worker: the last redirect hop let go (see grantHop). */
  hopCell: Int32Array;
}

export class ThreadsEngine implements Engine {
  readonly mode = 'threads' as const;
  private relay: Relay | null = null;
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private readonly allHelpers: number[] = [];
  private closing = false;
  /** The pool's one helper process (null with --helper-per-thread). */
  private shared: SharedHelper | null = null;
  /** While the shared helper is being replaced (or checked), no request is handed out. */
  private helperDown: Promise<void> | null = null;

  constructor(
    private opts: RequestOptions,
    private readonly size: number,
    private readonly helperPerThread = false,
  ) {}

  async init(): Promise<EngineInfo> {
    const t0 = now();
    this.opts = await spoolBody(this.opts);
    // The shared helper boots while the relay and the workers start: they ping it until it answers.
    const [relay] = await Promise.all([Relay.start(), this.helperPerThread ? null : this.startHelper()]);
    this.relay = relay;
    // Stopped while the relay started (Ctrl-C during start-up): start nothing more.
    if (this.closing) {
      await relay.close();
      throw new Error('stopped during start-up');
    }
    // A worker whose helper fails to start gets one more try (its port cannot be taken: see
    // reservePort in relay-thread.ts; this covers anything else, such as a loaded machine).
    await Promise.all(
      Array.from({ length: this.size }, () =>
        this.spawn().catch((err) => {
          if (this.closing) throw err;
          return this.spawn();
        }),
      ),
    );
    // main + relay + the pool
    return { startupMs: now() - t0, threads: this.size + 2 };
  }

  /** Start the pool's helper process; when it exits during the run, start another. */
  private async startHelper(): Promise<SharedHelper> {
    const helper = await startSharedHelper(this.opts.maxSize);
    adoptHelper(helper.pid);
    this.allHelpers.push(helper.pid);
    this.shared = helper;
    helper.child.once('exit', () => {
      if (this.shared === helper && !this.closing) this.replaceHelper(helper);
    });
    if (this.closing) void stopHelpers([helper.pid]);
    return helper;
  }

  /**
   * The shared helper is gone (or does not answer): the requests it had fail as HELPER_FAILED
   * (their workers see the socket drop), and every later one goes to a new helper. Requests wait
   * meanwhile; each worker learns the new address before its next request.
   */
  private replaceHelper(dead: SharedHelper): void {
    if (this.helperDown || this.closing || this.shared !== dead) return;
    this.helperDown = (async () => {
      await stopHelpers([dead.pid]);
      const helper = await this.startHelper().catch(() => null);
      const up = helper !== null && (await untilAlive(helper.port));
      if (this.closing) return;
      if (!up) {
        // No helper to be had: fail what waits rather than hang.
        for (const t of this.queue.splice(0)) t.resolve(failed(t, fetchError('HELPER_FAILED')));
        return;
      }
      for (const slot of this.slots)
        slot.worker.postMessage({ type: 'helper', helper: { port: helper.port, key: helper.key } } satisfies ToWorker);
    })().finally(() => {
      this.helperDown = null;
      for (const slot of this.slots) this.next(slot);
    });
  }

  /** A request failed as HELPER_FAILED: if the shared helper no longer answers, replace it. */
  private checkHelper(): void {
    const helper = this.shared;
    if (!helper || this.helperDown || this.closing) return;
    this.helperDown = pingHelper(helper.port).then((up) => {
      this.helperDown = null;
      if (!up) this.replaceHelper(helper);
      else for (const slot of this.slots) this.next(slot);
    });
  }

  private spawn(): Promise<void> {
    if (this.closing || !this.relay) return Promise.reject(new Error('the pool is closing'));
    const hopCell = new SharedArrayBuffer(4);
    const shared = this.shared && { port: this.shared.port, key: this.shared.key };
    const data: WorkerData = { relay: this.relay.client(), options: this.opts, warmUrl: this.relay.warmUrl, hopCell, shared };
    const worker = new Worker(new URL('./threads-worker.js', import.meta.url), {
      workerData: data,
      transferList: [data.relay.port],
      stdout: false,
      stderr: false,
    });
    const slot: Slot = {
      id: this.freeId(),
      worker,
      helper: null,
      ready: false,
      task: null,
      watchdog: null,
      hopCell: new Int32Array(hopCell),
    };
    this.slots.add(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'helper':
            slot.helper = msg.pid;
            adoptHelper(msg.pid);
            this.allHelpers.push(msg.pid);
            // Announced after close() began: stop it now rather than at exit.
            if (this.closing) void stopHelpers([msg.pid]);
            break;
          case 'ready':
            slot.ready = true;
            resolve();
            this.next(slot);
            break;
          case 'start':
            slot.task?.onStart(msg.t, slot.id);
            break;
          case 'hop':
            this.grantHop(slot, slot.task, msg.url, msg.seq);
            break;
          case 'result':
            this.finish(slot, { ...msg.result, worker: slot.id });
            break;
        }
      });
      worker.on('error', (err) => {
        if (!slot.ready) reject(err);
        this.lost(slot, fetchError('WORKER_CRASH', `worker thread died: ${err.message.split('\n')[0]}`));
      });
      worker.on('exit', (code) => {
        if (!slot.ready) reject(new Error(`worker thread exited with code ${code} while starting`));
        this.lost(slot, fetchError('WORKER_CRASH', `worker thread exited with code ${code}`));
      });
    });
  }

  /** The lowest number 1..N no live worker holds (a worker lost has left the set, so its number is free). */
  private freeId(): number {
    const taken = new Set([...this.slots].map((s) => s.id));
    let id = 1;
    while (taken.has(id)) id++;
    return id;
  }

  helperPids(): number[] {
    if (this.shared) return [this.shared.pid];
    return [...this.slots].map((s) => s.helper).filter((p): p is number => p !== null);
  }

  fetch(
    job: Job,
    signal: AbortSignal,
    onStart: (t: number, worker: number | null) => void,
    gate: HopGate | null = null,
  ): Promise<AttemptResult> {
    return new Promise((resolve) => {
      let settled = false;
      const onAbort = () => {
        const queued = this.queue.indexOf(task);
        if (queued >= 0) this.queue.splice(queued, 1);
        task.resolve(aborted(task));
      };
      const task: Task = {
        job,
        onStart,
        started: now(),
        gate,
        // A cancelled request is reported at once; its blocked worker is stopped by close().
        resolve: (r) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      if (signal.aborted) return task.resolve(aborted(task));
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      const idle = [...this.slots].find((s) => s.ready && s.task === null);
      if (idle) this.next(idle);
    });
  }

  private next(slot: Slot): void {
    if (this.closing || this.helperDown || !slot.ready || slot.task !== null) return;
    const task = this.queue.shift();
    if (!task) return;
    slot.task = task;
    task.started = now();
    slot.worker.postMessage({ type: 'fetch', job: task.job, gated: task.gate !== null } satisfies ToWorker);
    // sync-request's own timeout may not bound everything (a helper can wedge): a worker that
    // overruns its deadline by a margin is failed and replaced, so one URL never stalls the run.
    slot.watchdog = setTimeout(
      () => {
        this.lost(slot, fetchError('TIMEOUT', `no complete response within ${this.opts.timeoutMs} ms (worker replaced)`));
      },
      clampTimer(this.opts.timeoutMs + WATCHDOG_GRACE_MS),
    );
  }

  /** Let the worker's redirect hop go when the rate gate has its tokens; a worker gone or moved on is not waited for. */
  private grantHop(slot: Slot, task: Task | null, url: string, seq: number): void {
    if (!this.slots.has(slot) || slot.task !== task) return;
    const wait = task?.gate?.tryTake(url) ?? 0;
    if (wait > 0) {
      setTimeout(() => this.grantHop(slot, task, url, seq), Math.ceil(wait));
      return;
    }
    Atomics.store(slot.hopCell, 0, seq);
    Atomics.notify(slot.hopCell, 0);
  }

  private finish(slot: Slot, result: AttemptResult): void {
    if (slot.watchdog) clearTimeout(slot.watchdog);
    slot.watchdog = null;
    const task = slot.task;
    slot.task = null;
    task?.resolve(result);
    if (result.error?.code === 'HELPER_FAILED') {
      // The shared helper may be gone: check before the next request goes to it.
      if (this.shared) return this.checkHelper();
      // Its own helper process is gone: every later request on this thread would fail too.
      return this.lost(slot, result.error);
    }
    this.next(slot);
  }

  /** A worker is gone or given up on: fail its task, stop it and its helper, start another. */
  private lost(slot: Slot, error: FetchError): void {
    if (!this.slots.has(slot)) return;
    this.slots.delete(slot);
    if (slot.watchdog) clearTimeout(slot.watchdog);
    const task = slot.task;
    slot.task = null;
    if (task) task.resolve({ ...failed(task, error), worker: slot.id });
    void slot.worker.terminate();
    // Its own helper only: the shared one serves the rest of the pool.
    if (slot.helper !== null) void stopHelpers([slot.helper]);
    // A worker that never became ready is retried by init(), not here.
    if (this.closing || !slot.ready) return;
    this.spawn().catch(() => {
      // Could not replace: the remaining slots carry on; if none are left, fail what waits.
      if (this.slots.size === 0) for (const t of this.queue.splice(0)) t.resolve(failed(t, error));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const task of this.queue.splice(0)) task.resolve(aborted(task));
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) {
      if (slot.watchdog) clearTimeout(slot.watchdog);
      if (slot.task) slot.task.resolve({ ...aborted(slot.task), worker: slot.id });
      slot.task = null;
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => {})));
    await stopHelpers(this.allHelpers);
    this.shared = null;
    await this.relay?.close();
    this.relay = null;
    await unspoolBody(this.opts);
  }
}

function failed(task: Task, error: FetchError): AttemptResult {
  return noResponse(task.started, error);
}

function aborted(task: Task): AttemptResult {
  return failed(task, fetchError('ABORTED'));
}
