// Bad input lines on stderr as they are read ('FILE:LINE: reason'), escaped: the text came from the input.

import type { RunEvent } from '../core/types.js';
import { escapeControls } from '../render/escape.js';
import type { Out } from '../render/write.js';
import type { Sink } from './types.js';

export class BadLinesSink implements Sink {
  constructor(private readonly err: Out) {}

  onEvent(e: RunEvent): void {
    if (e.kind === 'fail' && e.record.error?.code === 'BAD_INPUT') this.err.line(escapeControls(e.record.error.message));
  }
}
