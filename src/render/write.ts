// The one place that writes to stdout/stderr. Machine output is batched for throughput; live
// output (text lines, and every line when the loop may be blocked) is written at once.

import type { Writable } from 'node:stream';

export class Out {
  private buf: string[] = [];
  private size = 0;
  private scheduled = false;
  /** Set when the reader went away (EPIPE): everything after is dropped quietly. */
  closed = false;

  constructor(
    private readonly stream: Writable,
    private readonly live: boolean,
  ) {}

  line(s: string): void {
    if (this.closed) return;
    if (this.live) {
      this.stream.write(`${s}\n`);
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

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0 || this.closed) return;
    const text = `${this.buf.join('\n')}\n`;
    this.buf = [];
    this.size = 0;
    this.stream.write(text);
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
