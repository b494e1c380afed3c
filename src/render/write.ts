// The one place that writes to stdout/stderr. Machine output is batched for throughput; live
// output (text lines, and every line when the loop may be blocked) is written at once.

import { readlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** A reader that went away (`| head`): a quiet stop, not a failure to write. */
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/** Write errors an Out has taken charge of, so the CLI's last-resort listener does not report them again. */
const handled = new WeakSet<object>();
export const isHandled = (e: object): boolean => handled.has(e);

export class Out {
  private buf: string[] = [];
  private size = 0;
  private scheduled = false;
  /** Set when the reader went away (EPIPE) or a write failed: everything after is dropped quietly. */
  closed = false;
  /** The write error that closed this output (ENOSPC, EIO, …); null for EPIPE. Means exit 74. */
  error: NodeJS.ErrnoException | null = null;
  /** Called once, when the output closes (`error` says why, null for EPIPE). */
  onClose: ((error: NodeJS.ErrnoException | null) => void) | null = null;

  constructor(
    private readonly stream: Writable,
    private readonly live: boolean,
    /** What to call this output in the one-line report: 'stdout', 'stderr'. */
    readonly name = 'output',
  ) {}

  line(s: string): void {
    if (this.closed) return;
    if (this.live) {
      this.write(`${s}\n`);
      return;
    }
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size >= 64 * 1024) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Text with no newline, written at once after anything batched: a line redrawn in place, or its clearing. */
  partial(s: string): void {
    if (this.closed) return;
    this.flush();
    this.write(s);
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0 || this.closed) return;
    const text = `${this.buf.join('\n')}\n`;
    this.buf = [];
    this.size = 0;
    this.write(text);
  }

  /**
   * A file or device (`> /dev/full`) is written synchronously: the stream is errored at once and
   * says so by an event a tick later (or, on some streams, throws). A pipe or socket fails later,
   * by an event only; the session routes events to `fail` too.
   */
  private write(text: string): void {
    try {
      this.stream.write(text);
    } catch (e) {
      this.fail(e as NodeJS.ErrnoException);
    }
    if (this.stream.errored) this.fail(this.stream.errored as NodeJS.ErrnoException);
  }

  /** The output cannot take more: drop what is pending and say why, once. */
  fail(e: NodeJS.ErrnoException): void {
    handled.add(e);
    if (this.closed) return;
    this.closed = true;
    this.buf = [];
    this.size = 0;
    if (!GONE.has(e.code ?? '')) this.error = e;
    this.onClose?.(this.error);
  }

  /** Resolves once everything written so far has been handed to the OS. */
  drain(): Promise<void> {
    this.flush();
    return new Promise((resolve) => {
      if (this.closed || !this.stream.writableNeedDrain) return resolve();
      this.stream.once('drain', resolve);
      this.stream.once('error', () => resolve());
    });
  }
}

/** `fetchall: cannot write to stdout (/dev/full): no space left on device (ENOSPC)`. */
export function writeFailure(target: string, e: NodeJS.ErrnoException): string {
  return `fetchall: cannot write to ${target}: ${reason(e)}`;
}

/** 'stdout (/dev/full)' where the OS says what the stream is open on, else just 'stdout'. */
export function describeStream(name: string, stream: Writable): string {
  const fd = (stream as Writable & { fd?: unknown }).fd;
  if (typeof fd !== 'number') return name;
  try {
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    return path.startsWith('/') ? `${name} (${path})` : name;
  } catch {
    return name;
  }
}

/** 'no space left on device (ENOSPC)' from Node's 'ENOSPC: no space left on device, write'. */
export function reason(e: NodeJS.ErrnoException): string {
  const message = String(e.message ?? e).split('\n')[0]!;
  // Node appends the call and path ('…, open '/x/y''); the caller names the target itself.
  const text = e.code ? message.replace(new RegExp(`^${e.code}: `), '').replace(/, [a-z]+( '.*')?$/, '') : message;
  return e.code && text !== e.code ? `${text} (${e.code})` : text;
}
