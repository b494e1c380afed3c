// Machine output: one ndjson, csv or tsv row per finished URL (bad input lines too), after the header.

import type { RunEvent, UrlRecord } from '../core/types.js';
import type { Format } from '../options.js';
import { csv, csvHeader, ndjson, tsv, tsvHeader } from '../render/records.js';
import type { Out } from '../render/write.js';
import { ReorderWindow } from './reorder.js';
import type { Sink } from './types.js';

export type RecordFormat = Exclude<Format, 'text'>;

const WRITERS: Record<RecordFormat, { header: string | null; row: (r: UrlRecord, origin: number) => string }> = {
  ndjson: { header: null, row: ndjson },
  csv: { header: csvHeader, row: csv },
  tsv: { header: tsvHeader, row: tsv },
};

export class RecordsSink implements Sink {
  private readonly writer: (typeof WRITERS)[RecordFormat];
  private origin = 0;
  private readonly window: ReorderWindow | null;

  /**
   * `header`: write the header line (compare writes it once, before its first run; --no-header never).
   * `inOrder`: --sort index, rows in input order through a bounded reorder window (reorder.ts).
   */
  constructor(
    private readonly out: Out,
    format: RecordFormat,
    private readonly header: boolean,
    inOrder = false,
  ) {
    this.writer = WRITERS[format];
    this.window = inOrder ? new ReorderWindow((row) => this.out.line(row)) : null;
  }

  onStart(origin: number): void {
    this.origin = origin;
    if (this.header && this.writer.header) this.out.line(this.writer.header);
  }

  onEvent(e: RunEvent): void {
    if (e.kind === 'start') return;
    const row = this.writer.row(e.record, this.origin);
    if (this.window) this.window.push(e.record.index, row);
    else this.out.line(row);
  }

  /** The rows still waiting for an earlier one (stopped, or never started): out in index order. */
  onEnd(): void {
    this.window?.flush();
  }

  close(): void {
    this.window?.flush();
  }
}
