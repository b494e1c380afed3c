// With -q, each failed URL still gets one line on stderr, its URL and why (curl's -sS): a quiet
// run that fails says what failed. Bad input lines have their own sink; a stop's cancellations
// are the summary's to tell.

import type { RunEvent } from '../core/types.js';
import { failureLine } from '../render/lines.js';
import type { Out } from '../render/write.js';
import type { Sink, StatusLine } from './types.js';

export class FailuresSink implements Sink {
  constructor(
    private readonly err: Out,
    private readonly status: StatusLine | null = null,
  ) {}

  onEvent(e: RunEvent): void {
    if (e.kind !== 'fail') return;
    const code = e.record.error?.code;
    if (code === 'BAD_INPUT' || code === 'ABORTED') return;
    const line = failureLine(e.record.url, e.record.error);
    if (this.status) this.status.around(() => this.err.line(line));
    else this.err.line(line);
  }
}
