// Bad input lines on stderr as they are read ('FILE:LINE: reason'), escaped: the text came from the input.

import type { RunEvent } from '../core/types.js';
import { escapeControls } from '../render/escape.js';
import type { Out } from '../render/write.js';
import type { Sink, StatusLine } from './types.js';

export class BadLinesSink implements Sink {
  /** `status`: a progress line on the same terminal, kept below these lines. */
  constructor(
    private readonly err: Out,
    private readonly status: StatusLine | null = null,
  ) {}

  onEvent(e: RunEvent): void {
    if (e.kind !== 'fail' || e.record.error?.code !== 'BAD_INPUT') return;
    const line = escapeControls(e.record.error.message);
    if (this.status) this.status.around(() => this.err.line(line));
    else this.err.line(line);
  }
}
