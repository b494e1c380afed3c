// Machine output: one ndjson, csv or tsv row per finished URL (bad input lines too), after the header.

import type { RunEvent, UrlRecord } from '../core/types.js';
import type { Format } from '../options.js';
import { csv, csvHeader, ndjson, tsv, tsvHeader } from '../render/records.js';
import type { Out } from '../render/write.js';
import type { Sink } from './types.js';

export type RecordFormat = Exclude<Format, 'text'>;

const WRITERS: Record<RecordFormat, { header: string | null; row: (r: UrlRecord) => string }> = {
  ndjson: { header: null, row: ndjson },
  csv: { header: csvHeader, row: csv },
  tsv: { header: tsvHeader, row: tsv },
};

export class RecordsSink implements Sink {
  private readonly writer: (typeof WRITERS)[RecordFormat];

  /** `header`: write the header line (compare writes it once, before its first run). */
  constructor(
    private readonly out: Out,
    format: RecordFormat,
    private readonly header: boolean,
  ) {
    this.writer = WRITERS[format];
  }

  onStart(): void {
    if (this.header && this.writer.header) this.out.line(this.writer.header);
  }

  onEvent(e: RunEvent): void {
    if (e.kind !== 'start') this.out.line(this.writer.row(e.record));
  }
}
