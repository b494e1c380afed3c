// A pool of blocking members, each running sync-request for one request at a time: the queue,
// dispatch, the watchdog, replacing a member that dies or wedges, the rate gate's redirect hops,
// and shutdown. What a member is (a worker thread, a child process) is its Transport's business:
// threads and processes are the same pool with another transport (pool-transports.ts).

import { clampTimer, now } from '../core/clock.js';
import { FD_LIMIT_CODES, fetchError } from '../core/errors.js';
import { noResponse } from '../core/rules.js';
import type { AttemptResult, EngineInfo, FetchError, HopGate, Job } from '../core/types.js';
import { openFilesLimit } from '../measure/procs.js';
import { limitPhrase } from '../render/notices.js';
import type { FromMember, MemberSetup, ToMember } from './pool-protocol.js';

/** How long past its deadline a member may stay silent before it is replaced. */
const WATCHDOG_GRACE_MS = 2000;

/** One member of the pool as the pool drives it. */
export interface Member {
  /** Its process id when it is a process of its own, else null. */
  readonly pid: number | null;
  post(msg: ToMember): void;
  /** Let the member's redirect hop number `seq` go (the rate gate has its tokens). */
  grant(seq: number): void;
  /** Stop it now, whatever it is doing. */
  stop(): Promise<void>;
}

export interface MemberEvents {
  message(msg: FromMember): void;
  /** The member died or exited; `reason` is one line. */
  lost(reason: string): void;
}

/** How members are made: worker threads, or child processes. */
export interface Transport {
  /** The word for a member in errors: "worker thread", "process". */
  readonly noun: string;
  /** Start what the members share (the relay thread, for threads). */
  init(): Promise<void>;
  start(setup: MemberSetup, events: MemberEvents): Member;
  /** The members started at init are warm (threads: the shared relay closes its warm endpoint). */
  warmed?(): void;
  /** JS threads the pool adds to the main one, for `size` members. */
  threads(size: number): number;
  close(): Promise<void>;
}

interface Task {
  job: Job;
  onStart: (t: number, worker: number | null) => void;
  resolve: (r: AttemptResult) => void;
  started: number;
  gate: HopGate | null;
}

interface Slot {
  /** The member's number as the user sees the pool: 1..N; a replacement takes the number it replaces. */
  id: number;
  member: Member;
  ready: boolean;
  task: Task | null;
  watchdog: NodeJS.Timeout | null;
}

export class Pool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private closing = false;

  constructor(
    private readonly transport: Transport,
    private readonly setup: MemberSetup,
    private readonly size: number,
  ) {}

  async init(): Promise<EngineInfo> {
    const t0 = now();
    const limit = openFilesLimit();
    await this.transport.init();
    if (this.closing) throw new Error('stopped during start-up');
    // A member that fails to start gets one more try (a loaded machine, a passing limit).
    const tries = await Promise.allSettled(
      Array.from({ length: this.size }, () =>
        this.spawn().catch((err) => {
          if (this.closing) throw err;
          return this.spawn();
        }),
      ),
    );
    this.transport.warmed?.();
    const started = this.slots.size;
    const short = this.shortfall(tries, started, limit);
    return { startupMs: now() - t0, threads: 1 + this.transport.threads(started), ...short };
  }

  /**
   * Members that would not start: for want of file descriptors, the pool runs with those that did
   * (and says so), as curl runs its transfers at a low limit; any other failure, or none started, ends the start-up.
   */
  private shortfall(tries: PromiseSettledResult<void>[], started: number, limit: number | null): Partial<EngineInfo> {
    const failed = tries.filter((t): t is PromiseRejectedResult => t.status === 'rejected').map((t) => t.reason as Error);
    if (failed.length === 0) return {};
    const other = failed.find((e) => !outOfFiles(e));
    if (other || this.closing) throw other ?? failed[0];
    if (started === 0) throw new Error(`no ${this.transport.noun} could start: ${limitPhrase(limit)}; raise it or lower -c`);
    return { short: { started, asked: this.size, limit, noun: this.transport.noun } };
  }

  /** The pids of the members that are processes, alive now. */
  pids(): number[] {
    return [...this.slots].map((s) => s.member.pid).filter((p): p is number => p !== null);
  }

  private spawn(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the pool is closing'));
    return new Promise<void>((resolve, reject) => {
      const slot: Slot = { id: this.freeId(), member: null as unknown as Member, ready: false, task: null, watchdog: null };
      this.slots.add(slot);
      try {
        slot.member = this.startMember(slot, resolve, reject);
      } catch (err) {
        // Not started at all (fork: spawn EMFILE): nothing to stop, and its number is free again.
        this.slots.delete(slot);
        reject(err);
      }
    });
  }

  private startMember(slot: Slot, resolve: () => void, reject: (err: Error) => void): Member {
    return this.transport.start(this.setup, {
      message: (msg) => {
        if (msg.type === 'ready') {
          slot.ready = true;
          resolve();
          this.next(slot);
        } else this.onMessage(slot, msg);
      },
      lost: (reason) => {
        if (!slot.ready) reject(new Error(reason));
        this.lost(slot, fetchError('WORKER_CRASH', `${this.transport.noun} ${reason}`));
      },
    });
  }

  private onMessage(slot: Slot, msg: Exclude<FromMember, { type: 'ready' }>): void {
    switch (msg.type) {
      case 'start':
        slot.task?.onStart(msg.t, slot.id);
        break;
      case 'hop':
        this.grantHop(slot, slot.task, msg.url, msg.seq, msg.until);
        break;
      case 'result':
        this.finish(slot, { ...msg.result, worker: slot.id });
        break;
    }
  }

  /** The lowest number 1..N no live member holds (a member lost has left the set, so its number is free). */
  private freeId(): number {
    const taken = new Set([...this.slots].map((s) => s.id));
    let id = 1;
    while (taken.has(id)) id++;
    return id;
  }

  fetch(job: Job, signal: AbortSignal, onStart: (t: number, worker: number | null) => void, gate: HopGate | null): Promise<AttemptResult> {
    return new Promise((resolve) => {
      let settled = false;
      const onAbort = () => {
        const queued = this.queue.indexOf(task);
        if (queued >= 0) this.queue.splice(queued, 1);
        task.resolve(failed(task, fetchError('ABORTED')));
      };
      const task: Task = {
        job,
        onStart,
        started: now(),
        gate,
        // A cancelled request is reported at once; its blocked member is stopped by close().
        resolve: (r) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      if (signal.aborted) return task.resolve(failed(task, fetchError('ABORTED')));
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      const idle = [...this.slots].find((s) => s.ready && s.task === null);
      if (idle) this.next(idle);
    });
  }

  private next(slot: Slot): void {
    if (this.closing || !slot.ready || slot.task !== null) return;
    const task = this.queue.shift();
    if (!task) return;
    slot.task = task;
    task.started = now();
    slot.member.post({ type: 'fetch', job: task.job, gated: task.gate !== null });
    // The member's own deadline may not bound everything (a wedged member): one that overruns
    // its deadline by a margin is failed and replaced, so one URL never stalls the run.
    const timeoutMs = this.setup.options.timeoutMs;
    slot.watchdog = setTimeout(
      () => this.lost(slot, fetchError('TIMEOUT', `no complete response within ${timeoutMs} ms (worker replaced)`)),
      clampTimer(timeoutMs + WATCHDOG_GRACE_MS + 10 * (this.setup.options.work?.ms ?? 0)),
    );
  }

  /** Let the member's redirect hop go when the rate gate has its tokens; a member gone, moved on or past its deadline is not waited for. */
  private grantHop(slot: Slot, task: Task | null, url: string, seq: number, until: number): void {
    if (!this.slots.has(slot) || slot.task !== task) return;
    const wait = Date.now() >= until ? 0 : (task?.gate?.tryTake(url) ?? 0);
    if (wait > 0) {
      setTimeout(() => this.grantHop(slot, task, url, seq, until), Math.ceil(Math.min(wait, until - Date.now())));
      return;
    }
    slot.member.grant(seq);
  }

  private finish(slot: Slot, result: AttemptResult): void {
    if (slot.watchdog) clearTimeout(slot.watchdog);
    slot.watchdog = null;
    const task = slot.task;
    slot.task = null;
    task?.resolve(result);
    this.next(slot);
  }

  /** A member is gone or given up on: fail its task, stop it, start another. */
  private lost(slot: Slot, error: FetchError): void {
    if (!this.slots.has(slot)) return;
    this.slots.delete(slot);
    if (slot.watchdog) clearTimeout(slot.watchdog);
    const task = slot.task;
    slot.task = null;
    if (task) task.resolve({ ...failed(task, error), worker: slot.id });
    void slot.member.stop();
    // A member that never became ready is retried by init(), not here.
    if (this.closing || !slot.ready) return;
    this.spawn().catch(() => {
      // Could not replace: the remaining members carry on; if none are left, fail what waits.
      if (this.slots.size === 0) for (const t of this.queue.splice(0)) t.resolve(failed(t, error));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const task of this.queue.splice(0)) task.resolve(failed(task, fetchError('ABORTED')));
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) {
      if (slot.watchdog) clearTimeout(slot.watchdog);
      if (slot.task) slot.task.resolve({ ...failed(slot.task, fetchError('ABORTED')), worker: slot.id });
      slot.task = null;
    }
    await Promise.all(slots.map((s) => s.member.stop().catch(() => {})));
    await this.transport.close();
  }
}

/** A member that could not start for want of file descriptors (a thread's event loop, a process's pipes). */
function outOfFiles(err: Error): boolean {
  return /\bE[MN]FILE\b/.test(String(err?.message)) || FD_LIMIT_CODES.has(String((err as { code?: unknown })?.code));
}

function failed(task: Task, error: FetchError): AttemptResult {
  return noResponse(task.started, error);
}
