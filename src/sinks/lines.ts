// The live text lines: one on stdout as each request starts and one as it finishes.

import type { RunEvent } from '../core/types.js';
import { eventLine } from '../render/lines.js';
import type { Paint } from '../render/paint.js';
import type { Out } from '../render/write.js';
import type { Sink } from './types.js';

export class LinesSink implements Sink {
  private origin = 0;

  constructor(
    private readonly out: Out,
    private readonly paint: Paint,
  ) {}

  onStart(origin: number): void {
    this.origin = origin;
  }

  onEvent(e: RunEvent): void {
    this.out.line(eventLine(e, this.origin, this.paint));
  }
}
