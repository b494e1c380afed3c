// Out of file descriptors: the first URL failed with EMFILE (or ENFILE) gets one line on stderr
// saying which limit and how to raise it; the records keep their own one-line reason.

import { FD_LIMIT_CODES } from '../core/errors.js';
import type { RunEvent } from '../core/types.js';
import { openFilesLimit } from '../measure/procs.js';
import { fdLimitNotice } from '../render/notices.js';
import type { Out } from '../render/write.js';
import type { Sink, StatusLine } from './types.js';

export class FdLimitSink implements Sink {
  /** Read at the start: once the limit is hit, /proc/self/limits cannot be opened either. */
  private readonly limit = openFilesLimit();
  private said = false;

  constructor(
    private readonly err: Out,
    private readonly concurrency: number,
    private readonly status: StatusLine | null = null,
  ) {}

  onEvent(e: RunEvent): void {
    if (this.said || e.kind !== 'fail' || !FD_LIMIT_CODES.has(e.record.error?.code ?? '')) return;
    this.said = true;
    const line = fdLimitNotice(this.limit, this.concurrency);
    if (this.status) this.status.around(() => this.err.line(line));
    else this.err.line(line);
  }
}
