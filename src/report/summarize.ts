// A run's summary rebuilt from its saved records: what the records hold is computed as the live
// summary computes it (one latency histogram, one wall time; counts, bytes, retries and the peak
// in flight exactly); what they cannot hold (CPU, memory, loop stall, threads) is NaN and listed
// as unknown, never invented. The folding itself, in bounded memory, is tally.ts.

import type { RunSummary } from '../measure/stats.js';
import type { Figure } from '../render/known.js';
import type { SavedRecord } from './saved.js';
import { ModeTally } from './tally.js';

/** What records cannot tell: the report says "unknown" for these. */
export const UNKNOWN_FROM_RECORDS: readonly Figure[] = ['loopStall', 'cpu', 'memory', 'threads'];

/** One mode's records as a summary (duplicates merged as `fetchall report` merges them). */
export function summarizeRecords(mode: string, records: Iterable<SavedRecord>): RunSummary {
  const tally = new ModeTally(mode);
  for (const r of records) tally.add(r);
  return tally.summary();
}
